using LeadFunctions.Domain.Messaging;
using LeadFunctions.Domain.Messaging.Composition;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>A message that would let its content add or split a header; refused rather than repaired, and never retried.</summary>
public sealed class EmailHeaderException : InvalidOperationException
{
    public EmailHeaderException(string message) : base(message)
    {
    }

    public EmailHeaderException()
    {
    }

    public EmailHeaderException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>The checks every sender applies before anything leaves the process (ACS receives headers as JSON, but relays them as MIME).</summary>
public static class EmailHeaderGuard
{
    /// <summary>Refuses CR or LF in header values, display names and addresses, and header names outside RFC 5322's printable ASCII.</summary>
    public static void CheckMessage(EmailMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To.Count == 0)
            throw new EmailHeaderException($"Message {message.Id} has no recipient.");

        CheckRecipient(message.From, "From");
        foreach (var to in message.To)
            CheckRecipient(to, "To");
        if (message.ReplyTo is { } replyTo)
            CheckRecipient(replyTo, "Reply-To");

        foreach (var (name, value) in message.Headers)
        {
            CheckName(name);
            if (HasLineBreak(value))
                throw new EmailHeaderException($"The value of header '{name}' contains CR or LF; header injection refused.");
        }
    }

    /// <summary>
    /// Subjects are often personalised from lead data, so a line break there is folded to a space rather than failing
    /// the send for ever; MIME encoding then keeps it on one header line. Format characters (bidi overrides, zero-width)
    /// and RFC 2047 encoded words are neutralised as at composition (<see cref="HeaderText"/>), in case a message was
    /// composed some other way.
    /// </summary>
    public static string SingleLineSubject(string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return HeaderText.NeedsCleaning(subject) ? HeaderText.Clean(subject, maxLength: int.MaxValue) : subject;
    }

    /// <summary>
    /// A display name as it may go out: line breaks are refused by <see cref="CheckMessage"/>; format characters and
    /// encoded words, which a reader would render as a fake header line or reversed text, are neutralised.
    /// </summary>
    public static string? SafeDisplayName(string? displayName) =>
        HeaderText.NeedsCleaning(displayName) ? HeaderText.Clean(displayName, maxLength: int.MaxValue) : displayName;

    private static void CheckRecipient(MailRecipient recipient, string field)
    {
        if (HasLineBreak(recipient.Address))
            throw new EmailHeaderException($"The {field} address contains CR or LF; header injection refused.");
        if (recipient.DisplayName is { } name && HasLineBreak(name))
            throw new EmailHeaderException($"The {field} display name contains CR or LF; header injection refused.");
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name))
            throw new EmailHeaderException("A header name is empty.");
        foreach (var c in name)
        {
            // RFC 5322 2.2: field-name = 1*ftext, ftext = %d33-57 / %d59-126 (printable ASCII except ':').
            if (c is < (char)33 or > (char)126 or ':')
                throw new EmailHeaderException($"Header name '{Printable(name)}' must be printable ASCII without ':' or spaces; refused.");
        }
    }

    private static bool HasLineBreak(string value) => value.AsSpan().IndexOfAny('\r', '\n') >= 0;

    private static string Printable(string name) => name.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
