using System.Security.Cryptography;
using System.Text;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

public enum DeliveryReportOutcomeKind { Disabled, Unauthorized, Handshake, ValidationAnswered, Accepted, Problem, Unavailable }

/// <summary>What the webhook answers; <see cref="DeliveryReportResults"/> turns it into HTTP.</summary>
public sealed record DeliveryReportOutcome(DeliveryReportOutcomeKind Kind)
{
    public int Status { get; init; } = StatusCodes.Status200OK;
    public string? ProblemCode { get; init; }
    public string? Title { get; init; }
    public string? Detail { get; init; }
    /// <summary>The field a 400 names (a JSON path such as <c>[0].data.status</c>, or <c>body</c>).</summary>
    public string? Field { get; init; }
    public string? ValidationCode { get; init; }
    public string? AllowedOrigin { get; init; }
    public int Counted { get; init; }
    public int Duplicates { get; init; }
    public int Ignored { get; init; }

    internal static DeliveryReportOutcome Problem(int status, string code, string title, string detail, string? field = null) =>
        new(DeliveryReportOutcomeKind.Problem) { Status = status, ProblemCode = code, Title = title, Detail = detail, Field = field };
}

/// <summary>What the delivery-report function calls.</summary>
public interface IDeliveryReportWebhook
{
    Task<DeliveryReportOutcome> HandleAsync(HttpRequest request, CancellationToken cancellationToken);
}

/// <summary>The webhook's route and the names Event Grid's side of it must use.</summary>
public static class DeliveryReportEndpoint
{
    public const string Route = "email/delivery-reports";
    public const string SecretParameter = "secret";

    /// <summary>Event Grid's largest batch is 1 MB; nothing larger is read.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public const string RequestOriginHeader = "WebHook-Request-Origin";
}

/// <summary>
/// <c>POST|OPTIONS /api/email/delivery-reports?secret=…</c>: Event Grid delivering ACS delivery reports. The endpoint is on the open
/// internet, so every request must carry the shared secret (compared in constant time) before anything is read; then it answers
/// Event Grid's validation handshake (the <c>SubscriptionValidationEvent</c>, or the CloudEvents <c>OPTIONS</c> request) or records
/// each report. Storage trouble is a 503, which Event Grid retries; a body that is not events of the documented shape is a 400.
/// </summary>
internal sealed partial class DeliveryReportWebhook(IOptions<DeliveryReportOptions> options, DeliveryReportRecorder recorder, ILogger<DeliveryReportWebhook> logger)
    : IDeliveryReportWebhook
{
    private const int MaxBodyBytes = DeliveryReportEndpoint.MaxBodyBytes;
    private const string SecretParameter = DeliveryReportEndpoint.SecretParameter;
    private const string RequestOriginHeader = DeliveryReportEndpoint.RequestOriginHeader;

    public async Task<DeliveryReportOutcome> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var secret = options.Value.WebhookSecret;
        if (string.IsNullOrEmpty(secret))
            return new DeliveryReportOutcome(DeliveryReportOutcomeKind.Disabled) { Status = StatusCodes.Status404NotFound };
        if (!HasSecret(request, secret))
        {
            LogRefused(logger, request.Method);
            return new DeliveryReportOutcome(DeliveryReportOutcomeKind.Unauthorized) { Status = StatusCodes.Status401Unauthorized };
        }

        if (HttpMethods.IsOptions(request.Method))
            return Handshake(request);

        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return DeliveryReportOutcome.Problem(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The delivery is too large.",
                $"At most {MaxBodyBytes} bytes are read; lower the subscription's batch size.", "body");
        }

        switch (DeliveryReportParser.Parse(body.Value))
        {
            case DeliveryReportBatch.Invalid invalid:
                LogInvalid(logger, invalid.Field);
                return DeliveryReportOutcome.Problem(StatusCodes.Status400BadRequest, "invalid-event", "The delivery is not Event Grid events of the documented shape.",
                    $"{invalid.Field}: {invalid.Message}", invalid.Field);
            case DeliveryReportBatch.Validation validation:
                LogValidated(logger);
                return new DeliveryReportOutcome(DeliveryReportOutcomeKind.ValidationAnswered) { ValidationCode = validation.Code };
            case DeliveryReportBatch.Reports reports:
                return await RecordAsync(reports, cancellationToken);
            default:
                throw new InvalidOperationException("Unknown parse result.");
        }
    }

    private async Task<DeliveryReportOutcome> RecordAsync(DeliveryReportBatch.Reports reports, CancellationToken cancellationToken)
    {
        int counted = 0, duplicates = 0, ignored = reports.OtherEvents;
        try
        {
            foreach (var report in reports.Items)
            {
                switch (await recorder.RecordAsync(report, cancellationToken))
                {
                    case DeliveryReportResult.Counted: counted++; break;
                    case DeliveryReportResult.Duplicate: duplicates++; break;
                    default: ignored++; break;
                }
            }
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or TimeoutException or IOException or AggregateException)
        {
            // Event Grid retries a 503 with back-off (for up to a day by default); reports already recorded count once on the retry.
            LogUnavailable(logger, ex);
            return DeliveryReportOutcome.Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", "Delivery reports cannot be stored right now.",
                "Storage is unavailable; deliver again later.") with { Kind = DeliveryReportOutcomeKind.Unavailable };
        }
        return new DeliveryReportOutcome(DeliveryReportOutcomeKind.Accepted) { Counted = counted, Duplicates = duplicates, Ignored = ignored };
    }

    /// <summary>CloudEvents 1.0 abuse protection: the sender asks with its origin, and is allowed by having it echoed.</summary>
    private static DeliveryReportOutcome Handshake(HttpRequest request)
    {
        string? origin = request.Headers[RequestOriginHeader];
        if (string.IsNullOrWhiteSpace(origin) || origin.Length > 255 || origin.Any(c => char.IsControl(c) || c == ','))
        {
            return DeliveryReportOutcome.Problem(StatusCodes.Status400BadRequest, "missing-origin", "The validation request has no origin.",
                $"An OPTIONS request must send {RequestOriginHeader}.", RequestOriginHeader);
        }
        return new DeliveryReportOutcome(DeliveryReportOutcomeKind.Handshake) { AllowedOrigin = origin.Trim() };
    }

    /// <summary>Compares digests so the comparison takes the same time whatever the length or content of the guess.</summary>
    private static bool HasSecret(HttpRequest request, string expected)
    {
        var given = request.Query[SecretParameter];
        if (given.Count != 1 || given[0] is not { Length: > 0 and <= 1024 } value)
            return false;
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(value));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
            return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
                return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery-report webhook refused a {Method} without the right secret")]
    private static partial void LogRefused(ILogger logger, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery-report webhook refused a body: {Field} is not of the documented shape")]
    private static partial void LogInvalid(ILogger logger, string field);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery-report webhook answered Event Grid's subscription validation")]
    private static partial void LogValidated(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery reports could not be stored; answering 503 so Event Grid retries")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}
