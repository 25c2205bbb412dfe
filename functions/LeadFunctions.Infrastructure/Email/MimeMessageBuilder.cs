using System.Globalization;
using LeadFunctions.Domain.Messaging;
using MimeKit;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// Turns an <see cref="EmailMessage"/> into MIME for the folder and SMTP senders: multipart/alternative (text, then HTML),
/// a Message-Id derived from the outbox id, and extra headers checked so that nothing a lead typed can add a header.
/// </summary>
public static class MimeMessageBuilder
{
    // Headers the builder owns; letting EmailMessage.Headers set them would allow a second From or a forged Message-Id.
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-Id", "MIME-Version",
        "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Return-Path", "Received",
    };

    public static MimeMessage Build(EmailMessage message, DateTimeOffset date)
    {
        ArgumentNullException.ThrowIfNull(message);
        EmailHeaderGuard.CheckMessage(message);

        var mime = new MimeMessage();
        mime.From.Add(ToMailbox(message.From, "From"));
        foreach (var to in message.To)
            mime.To.Add(ToMailbox(to, "To"));
        if (message.ReplyTo is { } replyTo)
            mime.ReplyTo.Add(ToMailbox(replyTo, "Reply-To"));

        mime.Subject = EmailHeaderGuard.SingleLineSubject(message.Subject);
        mime.Date = date;
        mime.MessageId = MessageIdentity.MessageId(message.Id, DomainOf(message.From.Address));

        foreach (var (name, value) in message.Headers)
        {
            if (Reserved.Contains(name))
                throw new EmailHeaderException($"Header '{name}' is set by the sender itself and cannot be given in EmailMessage.Headers.");
            mime.Headers.Add(name, value);
        }

        var body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody };
        mime.Body = body.ToMessageBody();
        return mime;
    }

    private static MailboxAddress ToMailbox(MailRecipient recipient, string field)
    {
        if (!MailboxAddress.TryParse(recipient.Address, out var parsed) || !parsed.Address.Contains('@', StringComparison.Ordinal))
            throw new EmailHeaderException($"The {field} address is not a single valid e-mail address.");
        return new MailboxAddress(EmailHeaderGuard.SafeDisplayName(recipient.DisplayName) ?? string.Empty, parsed.Address);
    }

    private static string DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        var domain = at >= 0 ? address[(at + 1)..].Trim().TrimEnd('>') : string.Empty;
        return domain.Length > 0 && domain.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-')
            ? domain.ToLower(CultureInfo.InvariantCulture)
            : "leadfunctions.local";
    }
}
