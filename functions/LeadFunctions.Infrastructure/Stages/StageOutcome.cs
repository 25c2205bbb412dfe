using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Infrastructure.Stages;

/// <summary>The body of a 202: the id the queued event carries through the pipeline (the ledger and history rows name it).</summary>
public sealed record StageChangeAccepted(string EventId);

/// <summary>The body of a 202 to the CRM; <see cref="AlreadyApplied"/> when a retry of an event that was applied is answered.</summary>
public sealed record CrmEventAccepted(string EventId, bool AlreadyApplied);

/// <summary>
/// What a stage request or a CRM event came to: a 202 with the event id, or a problem (<see cref="Code"/> is the last part of the
/// problem <c>type</c>, <see cref="Field"/> the body field a 400 names).
/// </summary>
public sealed record StageOutcome(int Status)
{
    public object? Body { get; init; }
    public string? Code { get; init; }
    public string? Title { get; init; }
    public string? Detail { get; init; }
    public string? Field { get; init; }
    public int? RetryAfterSeconds { get; init; }

    public static StageOutcome Accepted(object body) => new(StatusCodes.Status202Accepted) { Body = body };

    public static StageOutcome Problem(int status, string code, string title, string detail, string? field = null) =>
        new(status) { Code = code, Title = title, Detail = detail, Field = field };

    public static StageOutcome Invalid(string field, string detail) =>
        Problem(StatusCodes.Status400BadRequest, StageProblemCodes.InvalidField, "The request has an invalid field.", detail, field);
}

public static class StageProblemCodes
{
    public const string InvalidField = "invalid-field";
    public const string BodyTooLarge = "body-too-large";
    public const string UnknownLead = "unknown-lead";
    public const string IllegalMove = "illegal-move";
    public const string Unavailable = "unavailable";
    public const string Unsigned = "signature-refused";
    public const string NotConfigured = "not-configured";
}

/// <summary>Turns a <see cref="StageOutcome"/> into HTTP: the 202 body, or RFC 7807 problem details with <c>errors</c> naming the field.</summary>
public static class StageResults
{
    public static IActionResult ToActionResult(StageOutcome outcome, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(request);
        if (outcome.Code is null)
            return new ObjectResult(outcome.Body) { StatusCode = outcome.Status };

        if (outcome.RetryAfterSeconds is { } retry)
            request.HttpContext.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var details = new ProblemDetails
        {
            Type = Domain.ProblemTypes.Of(outcome.Code),
            Title = outcome.Title,
            Status = outcome.Status,
            Detail = outcome.Detail,
            Instance = request.Path.HasValue ? request.Path.Value : null,
        };
        if (outcome.Field is { } field)
            details.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [outcome.Detail ?? ""] };
        var result = new ObjectResult(details) { StatusCode = outcome.Status };
        result.ContentTypes.Add("application/problem+json");
        return result;
    }
}
