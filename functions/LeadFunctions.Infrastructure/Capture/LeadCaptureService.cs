using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Events;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>
/// What the capture functions call: reads a request within limits, checks it against its form (or the tracking rules),
/// and enqueues the event through <see cref="ILeadEventPublisher"/>. It never logs e-mail addresses or field values.
/// </summary>
public sealed partial class LeadCaptureService(
    FormCatalog forms,
    CaptureRequestReader reader,
    FormSubmissionValidator formValidator,
    TrackedActivityValidator activityValidator,
    ILeadEventPublisher publisher,
    CaptureRateLimiter rateLimiter,
    CaptureMetrics metrics,
    IOptions<CaptureOptions> options,
    ILogger<LeadCaptureService> logger)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    private const string FormsEndpoint = "forms";
    private const string EventsEndpoint = "events";
    private const string EventsScope = "events";

    private readonly IReadOnlyList<string> _eventOrigins = options.Value.EventOrigins.Length > 0
        ? options.Value.EventOrigins.Select(o => FormCatalog.TryNormalizeOrigin(o, out var n) ? n : o).ToArray()
        : forms.AllOrigins;

    public async Task<CaptureOutcome> SubmitFormAsync(string formId, HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var browser = IsBrowserForm(request);
        if (!forms.TryGet(formId ?? "", out var form))
        {
            metrics.Refused(FormsEndpoint, CaptureProblemCodes.UnknownForm);
            return Refused(new CaptureProblem(404, CaptureProblemCodes.UnknownForm, "There is no such form.", $"No form is configured with the id '{Truncate(formId)}'."), null, browser, null);
        }

        var origin = CaptureCors.RequestOrigin(request);
        if (origin is not null && !form.AllowsOrigin(origin, request.Host.HasValue ? request.Host.Value : null))
        {
            LogOriginRefused(logger, form.Id, origin);
            metrics.Refused(FormsEndpoint, CaptureProblemCodes.OriginNotAllowed);
            return Refused(new CaptureProblem(403, CaptureProblemCodes.OriginNotAllowed, "This site may not post this form.", $"The origin '{origin}' is not in the allowed origins of form '{form.Id}'."), form, browser, null);
        }

        // After the origin check, so an allowed page's script can read the 429 (CORS), and before the body is read.
        if (Limited(rateLimiter.AcquireForClient(RateLimitPolicy.Forms, request), FormsEndpoint, form, browser, origin) is { } clientLimited)
            return clientLimited;

        if (!TryHeaderKey(request, out var headerKey, out var keyProblem))
            return Refused(keyProblem, form, browser, origin);

        var body = await reader.ReadAsync(request, cancellationToken);
        if (body.Problem is not null)
        {
            metrics.Refused(FormsEndpoint, body.Problem.Code);
            return Refused(body.Problem, form, browser, origin);
        }

        var input = Input(request, body);
        if (!TryEventId(headerKey, input, form.Id, out var eventId, out keyProblem))
        {
            metrics.Refused(FormsEndpoint, CaptureProblemCodes.InvalidIdempotencyKey);
            return Refused(keyProblem, form, browser, origin);
        }

        var result = formValidator.Validate(form, input, eventId);
        if (result.IsSpam)
        {
            metrics.Honeypot(form.Id);
            LogHoneypot(logger, form.Id);
            return Accepted(form, eventId, browser, origin);
        }
        if (!result.IsAccepted)
        {
            LogInvalid(logger, form.Id, string.Join(",", result.Errors.Select(e => $"{e.Field}:{e.Code}")));
            metrics.Refused(FormsEndpoint, CaptureProblemCodes.InvalidFields);
            return Refused(CaptureProblem.InvalidFields(result.Errors), form, browser, origin);
        }

        if (Limited(rateLimiter.AcquireForEmail(result.Event!.Email!), FormsEndpoint, form, browser, origin) is { } emailLimited)
            return emailLimited;

        if (!await TryPublishAsync(result.Event!, cancellationToken))
            return Unavailable(form, browser, origin);
        metrics.Accepted(FormsEndpoint, form.Id);
        LogAccepted(logger, eventId, form.Id, form.Intent);
        return Accepted(form, eventId, browser, origin);
    }

    public async Task<CaptureOutcome> TrackAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var origin = CaptureCors.RequestOrigin(request);
        if (origin is not null && !CaptureCors.IsAllowed(request, origin, _eventOrigins))
        {
            metrics.Refused(EventsEndpoint, CaptureProblemCodes.OriginNotAllowed);
            return Refused(new CaptureProblem(403, CaptureProblemCodes.OriginNotAllowed, "This site may not post events.", $"The origin '{origin}' is not allowed to post events."), null, false, null);
        }

        if (Limited(rateLimiter.AcquireForClient(RateLimitPolicy.Events, request), EventsEndpoint, null, false, origin) is { } clientLimited)
            return clientLimited;

        if (!TryHeaderKey(request, out var headerKey, out var keyProblem))
            return Refused(keyProblem, null, false, origin);

        var body = await reader.ReadAsync(request, cancellationToken);
        if (body.Problem is not null)
        {
            metrics.Refused(EventsEndpoint, body.Problem.Code);
            return Refused(body.Problem, null, false, origin);
        }

        var input = Input(request, body);
        if (!TryEventId(headerKey, input, EventsScope, out var eventId, out keyProblem))
        {
            metrics.Refused(EventsEndpoint, CaptureProblemCodes.InvalidIdempotencyKey);
            return Refused(keyProblem, null, false, origin);
        }

        var result = activityValidator.Validate(input, eventId);
        if (!result.IsAccepted)
        {
            metrics.Refused(EventsEndpoint, CaptureProblemCodes.InvalidFields);
            return Refused(CaptureProblem.InvalidFields(result.Errors), null, false, origin);
        }

        if (!await TryPublishAsync(result.Event!, cancellationToken))
            return Unavailable(null, false, origin);
        metrics.Accepted(EventsEndpoint, null);
        LogTracked(logger, eventId, result.Event!.Type);
        return Accepted(null, eventId, false, origin);
    }

    /// <summary>A CORS preflight for a form (<paramref name="formId"/>) or for the events endpoint (null).</summary>
    public CaptureOutcome Preflight(string? formId, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyCollection<string> allowed;
        FormDefinition? form = null;
        if (formId is null)
        {
            allowed = _eventOrigins.ToArray();
        }
        else if (forms.TryGet(formId, out form))
        {
            allowed = form.AllowedOrigins.ToArray();
        }
        else
        {
            return Refused(new CaptureProblem(404, CaptureProblemCodes.UnknownForm, "There is no such form.", $"No form is configured with the id '{Truncate(formId)}'."), null, false, null);
        }

        var origin = CaptureCors.RequestOrigin(request);
        var method = request.Headers.AccessControlRequestMethod.ToString();
        if (origin is null || !CaptureCors.IsAllowed(request, origin, allowed) || !string.Equals(method, HttpMethods.Post, StringComparison.OrdinalIgnoreCase))
            return new CaptureOutcome { Kind = CaptureOutcomeKind.PreflightDenied, Form = form };
        return new CaptureOutcome { Kind = CaptureOutcomeKind.PreflightAllowed, Form = form, AllowedOrigin = origin };
    }

    /// <summary>
    /// A browser's plain HTML form navigation wants a redirect or a page; a script (JSON body, or asking for JSON) wants JSON.
    /// </summary>
    public static bool IsBrowserForm(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var accept = request.Headers.Accept.ToString();
        if (accept.Contains("json", StringComparison.OrdinalIgnoreCase))
            return false;
        if (accept.Contains("text/html", StringComparison.OrdinalIgnoreCase))
            return true;
        return MediaTypeHeaderValue.TryParse(request.ContentType, out var type) &&
               (type.MediaType.Equals(CaptureRequestReader.FormUrlEncoded, StringComparison.OrdinalIgnoreCase) ||
                type.MediaType.Equals(CaptureRequestReader.Multipart, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The <c>Idempotency-Key</c> header: null when absent; false (and the 400) when it is not one valid key.</summary>
    private static bool TryHeaderKey(HttpRequest request, out string? key, out CaptureProblem problem)
    {
        problem = null!;
        key = null;
        var values = request.Headers[IdempotencyKeyHeader];
        if (values.Count == 0)
            return true;
        if (values.Count > 1 || !CaptureEventIds.IsValidIdempotencyKey(values.ToString()))
        {
            problem = CaptureProblem.FieldProblem(CaptureProblemCodes.InvalidIdempotencyKey, "The Idempotency-Key header is not valid.",
                [(IdempotencyKeyHeader, $"Send one key of 1-{CaptureEventIds.MaxIdempotencyKeyLength} printable ASCII characters, e.g. a UUID.")]);
            return false;
        }
        key = values.ToString();
        return true;
    }

    /// <summary>
    /// The event id: derived from the header's key, else from the <c>idempotencyKey</c> field (a plain HTML form or a
    /// beacon cannot send headers), else a new one. An empty field is no key: a page whose script did not run posts the
    /// hidden input empty, and must still be taken.
    /// </summary>
    /// <remarks>
    /// A key chosen by the client cannot be turned against someone else. It only makes two posts with the same key in the
    /// same scope (form id, or <c>events</c>) one event id, and the processor collapses an event id only within one lead's
    /// (or visitor's) partition. To collapse a victim's submission a stranger would need the victim's key, which
    /// <c>track.js</c> draws at random (128 bits) for each page view and form and which never leaves the victim's browser except
    /// in that post. A key the stranger picks collapses only the stranger's own posts.
    /// </remarks>
    private static bool TryEventId(string? headerKey, CaptureInput input, string scope, out string eventId, out CaptureProblem problem)
    {
        problem = null!;
        eventId = "";
        var key = headerKey ?? input.Field(CaptureFieldNames.IdempotencyKey);
        if (key is null)
        {
            eventId = CaptureEventIds.New();
            return true;
        }
        if (!CaptureEventIds.IsValidIdempotencyKey(key))
        {
            problem = CaptureProblem.FieldProblem(CaptureProblemCodes.InvalidIdempotencyKey, "The idempotencyKey field is not valid.",
                [(CaptureFieldNames.IdempotencyKey, $"Send one key of 1-{CaptureEventIds.MaxIdempotencyKeyLength} printable ASCII characters, e.g. a UUID.")]);
            return false;
        }
        eventId = CaptureEventIds.FromIdempotencyKey(scope, key);
        return true;
    }

    private static CaptureInput Input(HttpRequest request, CaptureBody body) => new()
    {
        Fields = body.Fields(),
        UserAgent = request.Headers.UserAgent.ToString(),
        RefererHeader = request.Headers.Referer.ToString(),
        VisitorCookie = request.Cookies[CaptureFieldNames.VisitorCookie],
    };

    private async Task<bool> TryPublishAsync(LeadEvent leadEvent, CancellationToken cancellationToken)
    {
        try
        {
            await publisher.PublishAsync(leadEvent, cancellationToken);
            return true;
        }
        catch (LeadEventNotAcceptedException ex)
        {
            LogNotAccepted(logger, ex, leadEvent.EventId);
            return false;
        }
    }

    private CaptureOutcome Unavailable(FormDefinition? form, bool browser, string? origin) =>
        new()
        {
            Kind = CaptureOutcomeKind.Refused,
            Form = form,
            BrowserForm = browser,
            AllowedOrigin = origin,
            RetryAfterSeconds = options.Value.RetryAfterSeconds,
            Problem = new CaptureProblem(503, CaptureProblemCodes.Unavailable, "The submission could not be stored right now.",
                // Not "nothing was saved": the queue may have taken the event and its answer been lost. Sent again with the
                // same idempotency key (track.js keeps the form's), it is the same event, applied once.
                $"It may not have been saved. Please send it again in {options.Value.RetryAfterSeconds} seconds."),
        };

    /// <summary>Null when the request may go on; otherwise the 429, counted and logged without any address.</summary>
    private CaptureOutcome? Limited(RateLimitDecision decision, string endpoint, FormDefinition? form, bool browser, string? origin)
    {
        if (decision.Allowed)
            return null;
        metrics.Refused(endpoint, CaptureProblemCodes.RateLimited);
        LogRateLimited(logger, endpoint, form?.Id ?? "-", decision.RetryAfterSeconds);
        return RateLimited(decision, form, browser, origin);
    }

    /// <summary>The 429 outcome, for callers outside this service (the tracking links) as well.</summary>
    public static CaptureOutcome RateLimited(RateLimitDecision decision, FormDefinition? form, bool browser, string? origin) =>
        new()
        {
            Kind = CaptureOutcomeKind.Refused,
            Form = form,
            BrowserForm = browser,
            AllowedOrigin = origin,
            RetryAfterSeconds = decision.RetryAfterSeconds,
            Problem = CaptureProblem.TooManyRequests(decision.RetryAfterSeconds),
        };

    private static CaptureOutcome Accepted(FormDefinition? form, string eventId, bool browser, string? origin) =>
        new() { Kind = CaptureOutcomeKind.Accepted, Form = form, SubmissionId = eventId, BrowserForm = browser, AllowedOrigin = origin };

    private static CaptureOutcome Refused(CaptureProblem problem, FormDefinition? form, bool browser, string? origin) =>
        new() { Kind = CaptureOutcomeKind.Refused, Problem = problem, Form = form, BrowserForm = browser, AllowedOrigin = origin };

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64];

    [LoggerMessage(Level = LogLevel.Information, Message = "Captured submission {EventId} of form {FormId} ({Intent})")]
    private static partial void LogAccepted(ILogger logger, string eventId, string formId, FormIntent intent);

    [LoggerMessage(Level = LogLevel.Information, Message = "Captured tracked event {EventId} ({EventType})")]
    private static partial void LogTracked(ILogger logger, string eventId, string eventType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Honeypot filled on form {FormId}: answered as success, nothing enqueued")]
    private static partial void LogHoneypot(ILogger logger, string formId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a submission of form {FormId}: {FieldErrors}")]
    private static partial void LogInvalid(ILogger logger, string formId, string fieldErrors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a post to form {FormId} from origin {Origin}, which the form does not allow")]
    private static partial void LogOriginRefused(ILogger logger, string formId, string origin);

    // Debug: under a flood one line per refused request would cost more than the flood; the refused counter (code
    // rate-limited) shows it instead.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Rate limit reached on {Endpoint} (form {FormId}); answering 429, retry after {RetryAfterSeconds} s")]
    private static partial void LogRateLimited(ILogger logger, string endpoint, string formId, int retryAfterSeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId} was not accepted by the queue; answering 503")]
    private static partial void LogNotAccepted(ILogger logger, Exception exception, string eventId);
}
