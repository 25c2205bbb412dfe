using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Capture;

/// <summary>What the HTTP layer read from one request, before any rule is applied.</summary>
public sealed record CaptureInput
{
    /// <summary>Posted fields by name (each given once); names are matched exactly.</summary>
    public required IReadOnlyDictionary<string, string> Fields { get; init; }

    public string? UserAgent { get; init; }

    /// <summary>The <c>Referer</c> header: for a plain HTML form it is the landing page the form sits on.</summary>
    public string? RefererHeader { get; init; }

    /// <summary>The <c>lf_vid</c> cookie, used when no visitor id field was posted.</summary>
    public string? VisitorCookie { get; init; }

    public string? Field(string name) =>
        Fields.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}

/// <summary>One reason a field was refused; <see cref="Field"/> is the posted field's name.</summary>
public sealed record FieldError(string Field, string Code, string Message);

/// <summary>The codes of <see cref="FieldError"/>, stable so an error page or script can react to them.</summary>
public static class FieldErrorCodes
{
    public const string Required = "required";
    public const string InvalidEmail = "invalid-email";
    public const string TooLong = "too-long";
    public const string InvalidCharacters = "invalid-characters";
    public const string NotAnOption = "not-an-option";
    public const string ConsentRequired = "consent-required";
    public const string InvalidUrl = "invalid-url";
    public const string InvalidValue = "invalid-value";
    public const string UnknownType = "unknown-type";
    public const string Unidentified = "unidentified";
    /// <summary>A field this endpoint refuses outright, e.g. an identity (<c>email</c>, <c>leadId</c>) on <c>/api/events</c>.</summary>
    public const string NotAllowed = "not-allowed";
    /// <summary>A <c>contentId</c> the content catalogue does not list.</summary>
    public const string UnknownContent = "unknown-content";
}

/// <summary>A submission checked against its rules: an event to enqueue, the errors to show, or spam to swallow.</summary>
public sealed class CaptureResult
{
    private CaptureResult(LeadEvent? leadEvent, IReadOnlyList<FieldError> errors, bool isSpam)
    {
        Event = leadEvent;
        Errors = errors;
        IsSpam = isSpam;
    }

    public LeadEvent? Event { get; }
    public IReadOnlyList<FieldError> Errors { get; }

    /// <summary>The honeypot was filled: answer as for a success, create nothing.</summary>
    public bool IsSpam { get; }

    public bool IsAccepted => Event is not null;

    public static CaptureResult Accepted(LeadEvent leadEvent) => new(leadEvent, [], false);
    public static CaptureResult Rejected(IReadOnlyList<FieldError> errors) => new(null, errors, false);
    public static CaptureResult Spam() => new(null, [], true);
}
