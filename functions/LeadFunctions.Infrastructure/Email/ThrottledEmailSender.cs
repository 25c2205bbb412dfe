using LeadFunctions.Domain.Messaging;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// Sends only while <see cref="EmailRateLimiter"/> has room, and otherwise throws <see cref="EmailQuotaExceededException"/>
/// without sending; wraps the SMTP and ACS senders.
/// </summary>
public sealed class ThrottledEmailSender(IEmailSender inner, EmailRateLimiter limiter) : IEmailSender
{
    public IEmailSender Inner => inner;

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        if (!limiter.TryAcquire(out var freeIn, message.Marketing))
            throw new EmailQuotaExceededException(freeIn);
        await inner.SendAsync(message, cancellationToken);
    }
}
