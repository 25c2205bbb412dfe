using LeadFunctions.Domain.Capture;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>Why a capture request was refused: becomes an RFC 7807 problem (or an error page for a browser form).</summary>
public sealed record CaptureProblem(int Status, string Code, string Title, string Detail)
{
    /// <summary>Messages per posted field name, as <c>errors</c> in the problem body.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; init; } = new Dictionary<string, string[]>();

    /// <summary>Stable codes per field, for the error URL a browser form is sent to.</summary>
    public IReadOnlyDictionary<string, string[]> ErrorCodes { get; init; } = new Dictionary<string, string[]>();

    public string Type => Domain.ProblemTypes.Of(Code);

    public static CaptureProblem InvalidFields(IReadOnlyList<FieldError> errors) =>
        new(400, CaptureProblemCodes.InvalidFields, "The submission has invalid fields.", "Correct the fields named in 'errors' and send it again.")
        {
            Errors = errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal),
            ErrorCodes = errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Code).ToArray(), StringComparer.Ordinal),
        };

    public static CaptureProblem TooManyRequests(int retryAfterSeconds) =>
        new(429, CaptureProblemCodes.RateLimited, "Too many requests.",
            $"Too many requests from this address or for this e-mail address. Nothing was saved; send it again in {retryAfterSeconds} seconds.");

    public static CaptureProblem FieldProblem(string code, string title, IEnumerable<(string Field, string Message)> errors)
    {
        var list = errors.ToList();
        return new(400, code, title, "See 'errors' for each field.")
        {
            Errors = list.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal),
            ErrorCodes = list.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => new[] { code }, StringComparer.Ordinal),
        };
    }
}

/// <summary>The problem codes (the last part of the problem <c>type</c>) the capture endpoints answer with.</summary>
public static class CaptureProblemCodes
{
    public const string InvalidFields = "invalid-fields";
    public const string UnsupportedContentType = "unsupported-content-type";
    public const string BodyTooLarge = "body-too-large";
    public const string TooManyFields = "too-many-fields";
    public const string FieldTooLong = "field-too-long";
    public const string DuplicateField = "duplicate-field";
    public const string MalformedBody = "malformed-body";
    public const string InvalidIdempotencyKey = "invalid-idempotency-key";
    public const string UnknownForm = "unknown-form";
    public const string OriginNotAllowed = "origin-not-allowed";
    public const string Unavailable = "unavailable";
    public const string RateLimited = "rate-limited";
}
