namespace LeadFunctions.Domain.Messaging;

/// <summary>
/// A composed e-mail, ready for any sender. <see cref="Id"/> is the outbox record's deterministic id
/// (lead + programme + step, or lead + alert kind); senders use it to make a repeated send harmless.
/// </summary>
public sealed record EmailMessage
{
    public required string Id { get; init; }
    public required MailRecipient From { get; init; }
    public required IReadOnlyList<MailRecipient> To { get; init; }
    public required string Subject { get; init; }
    public required string HtmlBody { get; init; }
    public required string TextBody { get; init; }
    public MailRecipient? ReplyTo { get; init; }

    /// <summary>Extra headers such as <c>List-Unsubscribe</c>; senders refuse names or values with CR or LF.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// When the outbox first tried to send this message; repeated attempts carry the same value, so the MIME <c>Date</c>
    /// does not change between retries.
    /// </summary>
    public DateTimeOffset? FirstAttemptAt { get; init; }

    /// <summary>
    /// The outbox's current logical send attempt. Every retry of one attempt presents the same identity to the service
    /// (ACS: the same <c>Repeatability-Request-Id</c> and <c>Repeatability-First-Sent</c>); the outbox starts a new
    /// attempt once the service's repeatability window has passed. Null for a one-off send outside the outbox.
    /// </summary>
    public SendAttempt? Attempt { get; init; }

    /// <summary>Marketing (nurture) rather than transactional: the quota keeps <c>Email:ReservedPerHour</c> sends free of it.</summary>
    public bool Marketing { get; init; }

    /// <summary>The lead the message is about, for logs (never the address).</summary>
    public string? LeadId { get; init; }
}

/// <summary>One logical attempt at sending a message: its number (1 for the first) and when it started.</summary>
public sealed record SendAttempt(int Number, DateTimeOffset StartedAt);

public sealed record MailRecipient(string Address, string? DisplayName = null);

/// <summary>Delivers composed messages. Implementations: folder (.eml), SMTP, Azure Communication Services.</summary>
public interface IEmailSender
{
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}
