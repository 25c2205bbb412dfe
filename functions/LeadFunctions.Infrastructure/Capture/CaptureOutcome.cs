using LeadFunctions.Domain.Capture;

namespace LeadFunctions.Infrastructure.Capture;

public enum CaptureOutcomeKind
{
    /// <summary>Enqueued (or a honeypot hit answered as if it were).</summary>
    Accepted,
    Refused,
    PreflightAllowed,
    PreflightDenied,
}

/// <summary>What a capture request came to; <see cref="CaptureResults"/> turns it into the HTTP answer.</summary>
public sealed record CaptureOutcome
{
    public required CaptureOutcomeKind Kind { get; init; }

    /// <summary>The form, when the request named a known one: its thank-you and error URLs are the only redirect targets.</summary>
    public FormDefinition? Form { get; init; }

    public string? SubmissionId { get; init; }

    public CaptureProblem? Problem { get; init; }

    /// <summary>A browser navigating with a plain HTML form: answered with a redirect or a page instead of JSON.</summary>
    public bool BrowserForm { get; init; }

    /// <summary>The request's origin, echoed in Access-Control-Allow-Origin, when it is one allowed to read the answer.</summary>
    public string? AllowedOrigin { get; init; }

    public int? RetryAfterSeconds { get; init; }
}
