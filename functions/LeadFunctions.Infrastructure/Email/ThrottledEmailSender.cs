using LeadFunctions.Domain.Messaging;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>Holds each send until <see cref="EmailRateLimiter"/> allows it; wraps the SMTP and ACS senders.</summary>
public sealed class ThrottledEmailSender(IEmailSender inner, EmailRateLimiter limiter) : IEmailSender
{
    public IEmailSender Inner => inner;

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        await limiter.WaitAsync(cancellationToken);
        await inner.SendAsync(message, cancellationToken);
    }
}
