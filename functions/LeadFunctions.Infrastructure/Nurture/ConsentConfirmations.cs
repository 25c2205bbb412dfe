using System.Security.Cryptography;
using System.Text;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>The route of the double opt-in link, shared by the link in the e-mail and the function attribute.</summary>
public static class ConsentRoutes
{
    public const string Confirm = "consent/confirm";
}

public enum ConsentLinkStatus
{
    /// <summary>Forged, edited, truncated or of another kind.</summary>
    Invalid,
    /// <summary>Genuine, but older than <see cref="NurtureOptions.ConfirmationValidDays"/>.</summary>
    Expired,
    Valid,
}

/// <summary>A verified confirmation link: the lead and the confirmation e-mail it came from.</summary>
public sealed record ConsentLink(ConsentLinkStatus Status, string? LeadId = null, string? MessageId = null);

/// <summary>
/// What the confirmation endpoint does once the request is read: verify the signed link and, on the visitor's POST, queue a
/// <see cref="LeadEventTypes.ConsentConfirmation"/> so the processor grants the pending consent in the lead's own transaction.
/// </summary>
public interface IConsentConfirmations
{
    ConsentLink Verify(string? token);

    /// <summary>Queues the confirmation. Throws <see cref="LeadEventNotAcceptedException"/> when the queue did not take it (answer 503).</summary>
    Task ConfirmAsync(ConsentLink link, CancellationToken cancellationToken);
}

internal sealed partial class ConsentConfirmations(
    TrackingTokenSigner signer,
    ILeadEventPublisher publisher,
    TimeProvider time,
    IOptions<NurtureOptions> options,
    ILogger<ConsentConfirmations> logger) : IConsentConfirmations
{
    public ConsentLink Verify(string? token)
    {
        var claims = signer.Verify(token, TrackingKind.ConfirmConsent);
        if (claims is null || !LeadIdentity.IsLeadId(claims.LeadId))
            return new ConsentLink(ConsentLinkStatus.Invalid);
        var validFor = TimeSpan.FromDays(options.Value.ConfirmationValidDays);
        return time.GetUtcNow() - claims.SentAt > validFor
            ? new ConsentLink(ConsentLinkStatus.Expired, claims.LeadId, claims.MessageId)
            : new ConsentLink(ConsentLinkStatus.Valid, claims.LeadId, claims.MessageId);
    }

    public async Task ConfirmAsync(ConsentLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        if (link is not { Status: ConsentLinkStatus.Valid, LeadId: { } leadId, MessageId: { } messageId })
            throw new ArgumentException("Only a valid link confirms consent.", nameof(link));
        // One event per e-mail: pressing the button twice, or a retried POST, is the same event and is applied once.
        await publisher.PublishAsync(new LeadEvent
        {
            EventId = "consent-confirmation-" + Hash(messageId),
            Type = LeadEventTypes.ConsentConfirmation,
            OccurredAt = time.GetUtcNow(),
            LeadId = leadId,
            Properties = new Dictionary<string, string>(StringComparer.Ordinal) { [LeadEventProperties.MessageId] = messageId },
        }, cancellationToken);
        LogConfirmed(logger, leadId);
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} confirmed marketing e-mail consent; confirmation queued")]
    private static partial void LogConfirmed(ILogger logger, string leadId);
}
