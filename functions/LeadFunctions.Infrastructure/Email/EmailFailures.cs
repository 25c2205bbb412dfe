using System.Net.Sockets;
using Azure;
using LeadFunctions.Infrastructure.Email.Acs;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace LeadFunctions.Infrastructure.Email;

public enum EmailFailureKind
{
    /// <summary>Worth trying again later: a timeout, a network error, throttling, a server error.</summary>
    Transient,

    /// <summary>Trying again cannot help: the service refused the message itself, or the message is malformed.</summary>
    Permanent,
}

/// <summary>
/// Why a send failed, in words safe to store and log: statuses, error codes and type names only, never the text a
/// server sent back (which may quote the recipient's address). <see cref="MayHaveBeenSent"/> is true when the outcome is
/// unknown (the request may have reached the service and been accepted although we saw a failure).
/// </summary>
public sealed record EmailFailure(EmailFailureKind Kind, string Reason, bool MayHaveBeenSent)
{
    public bool IsPermanent => Kind == EmailFailureKind.Permanent;

    /// <summary>The service refused the attempt's repeatability (window closed, or a repeat that did not match): retry as a new attempt.</summary>
    public bool StartNewAttempt { get; init; }
}

/// <summary>Sorts what a sender threw into transient and permanent failures (see docs/email-delivery.md, "Failures").</summary>
public static class EmailFailures
{
    public static EmailFailure Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AggregateException aggregate && aggregate.Flatten().InnerExceptions is [.., var last])
            return Classify(last);

        return exception switch
        {
            EmailHeaderException header => Permanent($"header refused: {Bounded(header.Message)}"),
            AcsRepeatabilityWindowClosedException closed => Transient(
                $"ACS {closed.LastStatus}: retries stopped before the repeatability window closed", MayHaveSent(closed.LastStatus)) with { StartNewAttempt = true },
            AcsRepeatabilityRejectedException rejected => Transient(
                $"ACS {rejected.Status}: repeatability rejected (window closed, or a repeat that differs from its original)", mayHaveBeenSent: false) with { StartNewAttempt = true },
            RequestFailedException { Status: 0 } => Transient("ACS: no answer (network error or timeout)", mayHaveBeenSent: true),
            RequestFailedException failed => ClassifyAcs(failed),
            SmtpCommandException smtp => (int)smtp.StatusCode >= 500
                ? Permanent($"SMTP {(int)smtp.StatusCode} {smtp.ErrorCode}")
                : Transient($"SMTP {(int)smtp.StatusCode} {smtp.ErrorCode}", mayHaveBeenSent: false),
            AuthenticationException => Transient("SMTP authentication failed", mayHaveBeenSent: false),
            SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException or TimeoutException or HttpRequestException =>
                Transient($"network: {exception.GetType().Name}", mayHaveBeenSent: true),
            FormatException or MimeKit.ParseException or ArgumentException => Permanent($"invalid message or address ({exception.GetType().Name})"),
            // Anything else is unexpected; it is retried a bounded number of times and then parked, never dropped.
            _ => Transient($"unexpected {exception.GetType().Name}", mayHaveBeenSent: true),
        };
    }

    private static EmailFailure ClassifyAcs(RequestFailedException failed)
    {
        var code = SafeCode(failed.ErrorCode);
        var reason = code is null ? $"ACS {failed.Status}" : $"ACS {failed.Status} {code}";
        return failed.Status switch
        {
            408 or 429 => Transient(reason, mayHaveBeenSent: false),
            // Repeatability answers, not verdicts on the message: 409 is a repeat of a request still running, 412 an attempt
            // whose window closed. The outbox retries; a later attempt gets a new request id.
            409 => Transient(reason + " (the first request is still in progress)", mayHaveBeenSent: true),
            412 => Transient(reason + " (outside the repeatability window)", mayHaveBeenSent: false),
            >= 500 => Transient(reason, MayHaveSent(failed.Status)),
            _ => Permanent(reason),
        };
    }

    /// <summary>A 503 or 429 was refused before anything happened; a gateway error or a timeout may hide an accepted request.</summary>
    private static bool MayHaveSent(int status) => status is 0 or 500 or 502 or 504;

    private static EmailFailure Transient(string reason, bool mayHaveBeenSent) => new(EmailFailureKind.Transient, reason, mayHaveBeenSent);

    private static EmailFailure Permanent(string reason) => new(EmailFailureKind.Permanent, reason, MayHaveBeenSent: false);

    private static string? SafeCode(string? code)
    {
        if (string.IsNullOrEmpty(code))
            return null;
        var safe = new string([.. code.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-').Take(64)]);
        return safe.Length == 0 ? null : safe;
    }

    private static string Bounded(string text) => text.Length <= 300 ? text : text[..300];
}

/// <summary>
/// Thrown by <see cref="ThrottledEmailSender"/> when the quota has no room: nothing was sent and nothing failed. The outbox
/// stops the run and leaves the rest due, without counting an attempt.
/// </summary>
public sealed class EmailQuotaExceededException : Exception
{
    public EmailQuotaExceededException()
    {
    }

    public EmailQuotaExceededException(string message) : base(message)
    {
    }

    public EmailQuotaExceededException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public EmailQuotaExceededException(TimeSpan freeIn) : base($"The e-mail quota is spent; the next send is allowed in {freeIn}.")
    {
        FreeIn = freeIn;
    }

    /// <summary>How long until the quota allows the next send.</summary>
    public TimeSpan FreeIn { get; }
}
