using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Nurture.Results;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

public static class SalesDecisions
{
    public const string Accept = "accept";
    public const string Reject = "reject";
}

/// <summary>A verified sales link: the lead, the SQL episode and the rep it was sent to (an opaque rep id, see <see cref="SalesReps"/>).</summary>
public sealed record SalesLink(string LeadId, DateTimeOffset SqlAt, string? Actor, TrackingKind Kind);

/// <summary>
/// What the tracking, unsubscribe and sales-decision endpoints do once the token is verified: turn a hit into an event on the queue,
/// judged for bots; write the suppression record synchronously on unsubscribe; record a sales decision so the SLA clock stops.
/// </summary>
public interface IEngagementTracker
{
    /// <summary>False for a forged or edited token.</summary>
    Task<bool> RecordOpenAsync(string? token, string method, string? userAgent, CancellationToken cancellationToken);

    /// <summary>The original URL to redirect to, or null for a forged or edited token.</summary>
    Task<string?> RecordClickAsync(string? token, string method, string? userAgent, CancellationToken cancellationToken);

    bool IsValidUnsubscribe(string? token);

    /// <summary>False for a forged token. Throws when the suppression could not be stored (answer 503, the sender will retry).</summary>
    Task<bool> UnsubscribeAsync(string? token, string source, CancellationToken cancellationToken);

    /// <summary>A genuine, unexpired sales link of that kind, or null.</summary>
    SalesLink? VerifySalesLink(string? token, TrackingKind kind);

    /// <summary>Whether the link can still decide: the lead must still be in the SQL episode it was sent for, with no decision yet.</summary>
    Task<SalesLinkStatus> CheckSalesLinkAsync(SalesLink link, CancellationToken cancellationToken);

    /// <summary>
    /// Records the decision and enqueues a <see cref="LeadEventTypes.SalesDecision"/> event, if the link can still decide
    /// (<see cref="SalesLinkStatus.Recorded"/>); otherwise changes nothing. Throws <see cref="LeadEventNotAcceptedException"/>
    /// when the event could not be queued: the same decision posted again queues it then.
    /// </summary>
    Task<SalesLinkStatus> DecideAsync(SalesLink link, string decision, LifecycleStage? toStage, string? reason, CancellationToken cancellationToken);
}

public enum SalesLinkStatus
{
    /// <summary>The lead is still the SQL the alert was about and nobody has decided: the link may decide.</summary>
    Open,
    /// <summary>This decision was recorded and queued.</summary>
    Recorded,
    /// <summary>The lead has left that SQL episode (accepted, sent back, advanced, or an SQL again since): the link changes nothing.</summary>
    MovedOn,
    /// <summary>Someone already decided on this SQL episode.</summary>
    AlreadyDecided,
}

internal sealed partial class EngagementTracker(
    TrackingTokenSigner signer,
    BotDetector bots,
    NurtureStore store,
    SalesReps reps,
    ILeadDirectory directory,
    ILeadEventPublisher publisher,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<EngagementTracker> logger,
    TableLeadEmails? emails = null,
    INurtureResults? results = null) : IEngagementTracker
{
    public async Task<bool> RecordOpenAsync(string? token, string method, string? userAgent, CancellationToken cancellationToken)
    {
        var claims = signer.Verify(token, TrackingKind.Open);
        if (claims is null)
            return false;
        await PublishEngagementAsync(LeadEventTypes.EmailOpen, claims, method, userAgent, cancellationToken);
        return true;
    }

    public async Task<string?> RecordClickAsync(string? token, string method, string? userAgent, CancellationToken cancellationToken)
    {
        var claims = signer.Verify(token, TrackingKind.Click);
        if (claims?.Url is not { } url || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return null;
        await PublishEngagementAsync(LeadEventTypes.EmailClick, claims, method, userAgent, cancellationToken);
        return url;
    }

    public bool IsValidUnsubscribe(string? token) => signer.Verify(token, TrackingKind.Unsubscribe) is not null;

    public async Task<bool> UnsubscribeAsync(string? token, string source, CancellationToken cancellationToken)
    {
        var claims = signer.Verify(token, TrackingKind.Unsubscribe);
        if (claims is null)
            return false;
        if (NurturePreview.IsPreviewLead(claims.LeadId))
            return true; // a marketer trying a preview's link: the page answers, nothing is stored or queued
        var now = time.GetUtcNow();
        // The suppression row is what the timer checks, so it is written before answering: no e-mail can go after this returns.
        await store.SuppressAsync(claims.LeadId, now, source, cancellationToken);
        await (results?.UnsubscribedAsync(claims.LeadId, claims.MessageId, now, cancellationToken) ?? Task.CompletedTask);
        var leadEvent = new LeadEvent
        {
            EventId = $"unsubscribe-{claims.LeadId}-{now.ToUnixTimeSeconds() / 60}", // one per minute: a client's retry is one event, a later unsubscribe is another
            Type = LeadEventTypes.Unsubscribe,
            OccurredAt = now,
            LeadId = claims.LeadId,
            Properties = Properties(claims, (LeadEventProperties.Reason, source)),
        };
        try
        {
            await publisher.PublishAsync(leadEvent, cancellationToken);
        }
        catch (LeadEventNotAcceptedException ex)
        {
            // The suppression already stops e-mail; the lead record catches up when the event can be queued again.
            LogEventNotQueued(logger, ex, claims.LeadId, LeadEventTypes.Unsubscribe);
        }
        LogUnsubscribed(logger, claims.LeadId, source);
        return true;
    }

    public SalesLink? VerifySalesLink(string? token, TrackingKind kind)
    {
        var claims = signer.Verify(token, kind);
        return claims?.SqlAtTicks is { } ticks && ticks > 0 && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? new SalesLink(claims.LeadId, new DateTimeOffset(ticks, TimeSpan.Zero), claims.Actor, kind)
            : null;
    }

    public async Task<SalesLinkStatus> CheckSalesLinkAsync(SalesLink link, CancellationToken cancellationToken)
    {
        if (!await IsStillThatSqlAsync(link, cancellationToken))
            return SalesLinkStatus.MovedOn;
        var sla = await store.FindSlaAsync(link.LeadId, link.SqlAt.UtcTicks, cancellationToken);
        return sla?.Decision is null ? SalesLinkStatus.Open : SalesLinkStatus.AlreadyDecided;
    }

    public async Task<SalesLinkStatus> DecideAsync(SalesLink link, string decision, LifecycleStage? toStage, string? reason, CancellationToken cancellationToken)
    {
        if (!await IsStillThatSqlAsync(link, cancellationToken))
        {
            LogDecisionRefused(logger, link.LeadId, decision, nameof(SalesLinkStatus.MovedOn));
            return SalesLinkStatus.MovedOn;
        }

        // One decision per SQL episode and choice: a double-submitted form is the same event, applied once.
        var eventId = "sales-decision-" + Hash($"{link.LeadId}|{link.SqlAt.UtcTicks}|{decision}|{toStage}");
        var now = time.GetUtcNow();
        // Links name who they went to without an address: a marker of the e-mail (alert, SLA step), which the store resolves to its
        // recipient, or an opaque rep id, resolved here; an id nobody we know has is recorded as it is.
        var given = link.Actor is { } named && LeadIdentity.IsRepId(named)
            ? reps.Resolve(named, (await store.FindSlaAsync(link.LeadId, link.SqlAt.UtcTicks, cancellationToken))?.Owner) ?? named
            : link.Actor;
        // Written before the event is queued, so the SLA clock stops now and the alert's other link can no longer decide.
        var (holding, actor) = await store.RecordDecisionAsync(link.LeadId, link.SqlAt.UtcTicks, decision, eventId, given, now, cancellationToken);
        if (holding != eventId)
        {
            LogDecisionRefused(logger, link.LeadId, decision, nameof(SalesLinkStatus.AlreadyDecided));
            return SalesLinkStatus.AlreadyDecided;
        }

        var properties = new Dictionary<string, string>
        {
            [LeadEventProperties.Decision] = decision,
            [LeadEventProperties.Campaign] = "sales-alert",
            [LeadEventProperties.SqlEpisode] = link.SqlAt.ToString("O", CultureInfo.InvariantCulture),
        };
        if (toStage is { } stage)
            properties[LeadEventProperties.ToStage] = stage.ToString().ToLowerInvariant();
        if (!string.IsNullOrWhiteSpace(reason))
            properties[LeadEventProperties.Reason] = reason.Trim();
        if (!string.IsNullOrWhiteSpace(actor))
            properties[LeadEventProperties.Actor] = actor;

        await publisher.PublishAsync(new LeadEvent
        {
            EventId = eventId,
            Type = LeadEventTypes.SalesDecision,
            OccurredAt = now,
            LeadId = link.LeadId,
            Properties = properties,
        }, cancellationToken);
        LogDecision(logger, link.LeadId, decision, toStage?.ToString() ?? "");
        return SalesLinkStatus.Recorded;
    }

    /// <summary>The lead is an SQL, and became one at the time the link names: not accepted, sent back or re-qualified since.</summary>
    private async Task<bool> IsStillThatSqlAsync(SalesLink link, CancellationToken cancellationToken)
    {
        var lead = await directory.FindSummaryAsync(link.LeadId, cancellationToken);
        return lead is { Stage: LifecycleStage.Sql }
            && (lead.StageChangedAt - link.SqlAt).Duration() <= NurturePlanner.StoreTolerance;
    }

    private async Task PublishEngagementAsync(string type, TrackingClaims claims, string method, string? userAgent, CancellationToken cancellationToken)
    {
        if (NurturePreview.IsPreviewLead(claims.LeadId))
            return; // a preview's pixel or link: no lead to count it for, and no event for the queue to refuse
        var now = time.GetUtcNow();
        var verdict = bots.Judge(method, userAgent, claims.SentAt, now);
        await CountHitAsync(claims, type == LeadEventTypes.EmailClick, verdict.ProbableBot, cancellationToken);
        if (now >= claims.SentAt + TimeSpan.FromDays(options.Value.EngagementScoringDays))
        {
            // An old e-mail still shows its pixel and follows its links, but replaying them no longer scores.
            LogPastScoringWindow(logger, claims.LeadId, type);
            return;
        }
        var extra = new List<(string, string?)> { (LeadEventProperties.Url, claims.Url), (LeadEventProperties.Link, claims.LinkName) };
        if (verdict.ProbableBot)
        {
            extra.Add((LeadEventProperties.ProbableBot, "true"));
            extra.Add((LeadEventProperties.BotReason, verdict.Reason));
        }
        var leadEvent = new LeadEvent
        {
            // The same open (or the same link) of the same message is one event, so however often it is hit it scores once.
            // A scanner's hit is a different event from the person's: it cannot use up the one that scores.
            EventId = $"{type}-" + Hash($"{claims.LeadId}|{claims.MessageId}|{claims.Kind}|{claims.Url}|{(verdict.ProbableBot ? "bot" : "human")}"),
            Type = type,
            OccurredAt = now,
            LeadId = claims.LeadId,
            Properties = Properties(claims, [.. extra]),
            Context = new CaptureContext { UserAgent = userAgent is { Length: > 512 } ? userAgent[..512] : userAgent },
        };
        try
        {
            await publisher.PublishAsync(leadEvent, cancellationToken);
        }
        catch (LeadEventNotAcceptedException ex)
        {
            // The reader still gets the pixel or the redirect; a lost open is better than a broken link.
            LogEventNotQueued(logger, ex, claims.LeadId, type);
        }
    }

    /// <summary>
    /// The hit on the message's record in the lead's e-mail list (what the lead detail shows), every hit and not only the one that
    /// scores. A storage failure here must not cost the reader the pixel or the redirect, nor the event: it is logged and skipped.
    /// </summary>
    private async Task CountHitAsync(TrackingClaims claims, bool click, bool probableBot, CancellationToken cancellationToken)
    {
        if (emails is null || claims.MessageId is not { Length: > 0 } messageId)
            return;
        try
        {
            await emails.CountHitAsync(claims.LeadId, messageId, click, probableBot, cancellationToken);
            await (results?.TryCountAsync(claims.LeadId, messageId, cancellationToken) ?? Task.CompletedTask);
        }
        catch (Azure.RequestFailedException ex)
        {
            LogHitNotCounted(logger, claims.LeadId, ex.Status);
        }
    }

    private static Dictionary<string, string> Properties(TrackingClaims claims, params (string Name, string? Value)[] extra)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        if (claims.Programme is not null)
            properties[LeadEventProperties.Programme] = claims.Programme;
        if (claims.Step is not null)
            properties[LeadEventProperties.Step] = claims.Step;
        foreach (var (name, value) in extra)
        {
            if (value is not null)
                properties[name] = value;
        }
        return properties;
    }

    private static string Hash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count an e-mail hit for lead {LeadId} (storage answered {Status}); the event still goes")]
    private static partial void LogHitNotCounted(ILogger logger, string leadId, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not queue {EventType} for lead {LeadId}")]
    private static partial void LogEventNotQueued(ILogger logger, Exception exception, string leadId, string eventType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} unsubscribed ({Source})")]
    private static partial void LogUnsubscribed(ILogger logger, string leadId, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sales link {Decision} for lead {LeadId} changed nothing: {Status}")]
    private static partial void LogDecisionRefused(ILogger logger, string leadId, string decision, string status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{EventType} for lead {LeadId} is past the scoring window; not queued")]
    private static partial void LogPastScoringWindow(ILogger logger, string leadId, string eventType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sales decision {Decision} for lead {LeadId} (to {ToStage})")]
    private static partial void LogDecision(ILogger logger, string leadId, string decision, string toStage);
}
