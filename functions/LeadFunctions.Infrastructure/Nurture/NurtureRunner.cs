using System.Globalization;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.SalesAlerts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>What one run did: <see cref="AlreadySent"/> counts reminders another run had already delivered.</summary>
public sealed record NurtureRunResult(int Due, int Sent, int AlreadySent, int Dropped, int Waiting, int Failed);

/// <summary>What the timer calls: sends whatever is due, safely when runs overlap, are late, or crashed mid-way.</summary>
public interface INurtureRunner
{
    Task<NurtureRunResult> RunOnceAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One timer run. For each due reminder it re-reads the lead, decides (planner), claims the outbox record with an ETag, sends,
/// marks it sent and schedules the next step. Exactly-once per lead and step comes from the outbox claim; a crash between sending
/// and marking leaves a claim that a later run takes over after the lease and sends again with the same message id, which the
/// senders make harmless (same .eml file, same Repeatability-Request-Id).
/// </summary>
internal sealed partial class NurtureRunner(
    NurtureStore store,
    NurtureConfiguration configuration,
    NurtureMailComposer composer,
    ILeadDirectory directory,
    IEmailSender sender,
    TimeProvider time,
    IOptions<NurtureOptions> nurtureOptions,
    IOptions<SalesAlertOptions> alertOptions,
    ILogger<NurtureRunner> logger) : INurtureRunner
{
    private enum Outcome { Sent, AlreadySent, Dropped, Waiting }

    private readonly NurturePlanner _planner = new(time);

    private NurtureOptions Options => nurtureOptions.Value;
    private TimeSpan Lease => TimeSpan.FromSeconds(Options.ClaimLeaseSeconds);
    private TimeSpan Grace => TimeSpan.FromSeconds(Options.CommitGraceSeconds);

    public async Task<NurtureRunResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var due = await store.DueAsync(time.GetUtcNow(), Options.MaxItemsPerRun, cancellationToken);
        int sent = 0, alreadySent = 0, dropped = 0, waiting = 0, failed = 0;
        foreach (var item in due)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var outcome = item.Kind switch
                {
                    DueKinds.Nurture => await NurtureAsync(item, cancellationToken),
                    DueKinds.Alert => await AlertAsync(item, cancellationToken),
                    DueKinds.SlaCheck => await SlaCheckAsync(item, cancellationToken),
                    _ => await DropAsync(item, "unknown kind", cancellationToken),
                };
                switch (outcome)
                {
                    case Outcome.Sent: sent++; break;
                    case Outcome.AlreadySent: alreadySent++; break;
                    case Outcome.Dropped: dropped++; break;
                    default: waiting++; break;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One lead's failure must not hold back everyone else's e-mail; its reminder stays and is retried next run.
                failed++;
                LogItemFailed(logger, ex, item.LeadId, item.Kind, item.RowKey);
            }
        }
        var result = new NurtureRunResult(due.Count, sent, alreadySent, dropped, waiting, failed);
        LogRun(logger, result.Due, result.Sent, result.AlreadySent, result.Dropped, result.Waiting, result.Failed);
        return result;
    }

    private async Task<Outcome> NurtureAsync(DueItemEntity item, CancellationToken cancellationToken)
    {
        var programme = configuration.Catalogue.Find(item.Programme ?? "");
        var step = programme?.Steps.FirstOrDefault(s => s.Id == item.Step);
        if (programme is null || step is null)
            return await DropAsync(item, "the programme or step no longer exists", cancellationToken);

        var outboxKey = $"{OutboxEntity.NurturePrefix}{programme.Id}-{step.Id}";
        var existing = await store.FindOutboxAsync(item.LeadId, outboxKey, cancellationToken);
        if (existing is { Status: OutboxStatus.Sent })
            return await AdvanceAsync(item, programme, step, existing.SentAt ?? time.GetUtcNow(), cancellationToken);

        var details = await directory.FindAsync(item.LeadId, cancellationToken);
        var suppressed = await store.IsSuppressedAsync(item.LeadId, cancellationToken);
        var sends = await store.MarketingSendsAsync(item.LeadId, cancellationToken);
        var decision = _planner.CheckNurture(details?.Lead, item.TransitionAt, suppressed, sends, Options.MaxMarketingEmailsPerWeek, Grace);
        switch (decision.Verdict)
        {
            case FollowUpVerdict.Drop:
                return await DropAsync(item, decision.Reason, cancellationToken);
            case FollowUpVerdict.Wait:
                return await PostponeAsync(item, decision, cancellationToken);
        }

        var lead = details!.Lead;
        var now = time.GetUtcNow();
        var messageId = $"{lead.LeadId}-{DueKinds.Nurture}-{programme.Id}-{step.Id}";
        var claim = await store.ClaimAsync(
            new OutboxEntity { PartitionKey = lead.LeadId, RowKey = outboxKey, Kind = DueKinds.Nurture, MessageId = messageId, Marketing = true },
            now, Lease, cancellationToken);
        switch (claim)
        {
            case ClaimResult.AlreadySent already:
                return await AdvanceAsync(item, programme, step, already.Record.SentAt ?? now, cancellationToken);
            case ClaimResult.HeldElsewhere:
                return Outcome.Waiting;
        }

        var record = ((ClaimResult.Won)claim).Record;
        var message = composer.Nurture(lead, programme, step, messageId, record.FirstAttemptAt, now);
        await SendAsync(record, message, cancellationToken);
        var sentAt = time.GetUtcNow();
        await store.MarkSentAsync(record, sentAt, cancellationToken);
        LogNurtureSent(logger, lead.LeadId, programme.Id, programme.Version, step.Id, record.Attempts);
        await AdvanceAsync(item, programme, step, sentAt, cancellationToken);
        return Outcome.Sent;
    }

    /// <summary>Schedules the step after <paramref name="step"/> (if any) and retires this reminder.</summary>
    private async Task<Outcome> AdvanceAsync(DueItemEntity item, NurtureProgramme programme, NurtureStep step, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        if (programme.After(step.Id) is { } next)
        {
            var dueAt = NurturePlanner.DueAt(next, item.TransitionAt, sentAt);
            await store.ScheduleAsync(
                DueItemEntity.Create(item.LeadId, DueKinds.Nurture, dueAt, item.TransitionAt, $"{programme.Id}-{next.Id}", programme.Id, next.Id),
                cancellationToken);
        }
        await store.CompleteAsync(item, cancellationToken);
        return Outcome.AlreadySent;
    }

    private async Task<Outcome> AlertAsync(DueItemEntity item, CancellationToken cancellationToken)
    {
        var sqlAt = item.TransitionAt;
        var outboxKey = SalesAlertKeys.AlertOutbox(sqlAt);
        var (done, existing, details) = await BeginSqlWorkAsync(item, outboxKey, cancellationToken);
        if (done is not null)
            return done.Value;

        var lead = details!.Lead;
        var now = time.GetUtcNow();
        var messageId = SalesAlertKeys.AlertMessage(lead.LeadId, sqlAt);
        var fresh = new OutboxEntity { PartitionKey = lead.LeadId, RowKey = outboxKey, Kind = DueKinds.Alert, MessageId = messageId };
        if (existing is null)
        {
            // The owner is chosen once, before the first claim, and kept on the record so a retried send goes to the same rep.
            var route = configuration.Routing.Route(lead);
            fresh.Owner = route.Pick(await store.NextTurnAsync(route.PoolId, cancellationToken));
            fresh.RoutedBy = route.PoolId;
        }
        var (record, lost) = await ClaimSqlAsync(item, fresh, now, cancellationToken);
        if (record is null)
            return lost;
        var owner = record.Owner ?? configuration.Routing.RoundRobin[0];
        await store.MergeSlaAsync(new SlaEntity
        {
            PartitionKey = lead.LeadId,
            RowKey = SlaEntity.RowFor(sqlAt.UtcTicks),
            SqlAt = sqlAt,
            Deadline = sqlAt + alertOptions.Value.GetLadder().Deadline,
            Owner = owner,
        }, cancellationToken);
        var origin = await composer.OriginAsync(details, sqlAt, cancellationToken);
        var message = composer.SalesAlert(details, sqlAt, owner, record.RoutedBy ?? SalesRoutingPools.RoundRobin, messageId, record.FirstAttemptAt, now, origin);
        await SendAsync(record, message, cancellationToken);
        await store.MarkSentAsync(record, time.GetUtcNow(), cancellationToken);
        LogAlertSent(logger, lead.LeadId, record.RoutedBy ?? "", record.Attempts);
        await store.CompleteAsync(item, cancellationToken);
        return Outcome.Sent;
    }

    /// <summary>
    /// One rung of the SLA ladder. It goes only while the lead is still the SQL of this episode and nobody in sales has decided on
    /// it; its own outbox record makes it go once. A reminder written before the ladder (no step) finishes as the breach.
    /// </summary>
    private async Task<Outcome> SlaCheckAsync(DueItemEntity item, CancellationToken cancellationToken)
    {
        var sqlAt = item.TransitionAt;
        var ladder = alertOptions.Value.GetLadder();
        var step = item.Step is null
            ? ladder.Steps.FirstOrDefault(s => s.Kind == SlaStepKind.Breach) ?? ladder.Steps[^1]
            : ladder.Find(item.Step);
        if (step is null)
            return await DropAsync(item, $"SLA step '{item.Step}' is no longer configured", cancellationToken);
        var outboxKey = item.Step is null ? SalesAlertKeys.LegacyEscalationOutbox(sqlAt) : SalesAlertKeys.StepOutbox(sqlAt, step.Id);
        var (done, existing, details) = await BeginSqlWorkAsync(item, outboxKey, cancellationToken);
        if (done is not null)
            return done.Value;
        var sla = await store.FindSlaAsync(item.LeadId, sqlAt.UtcTicks, cancellationToken);
        if (sla?.Decision is not null)
            return await DropAsync(item, $"sales answered ({sla.Decision}) before SLA step {step.Id}", cancellationToken);

        var lead = details!.Lead;
        var owner = sla?.Owner;
        var routedBy = "escalation";
        string recipient;
        switch (step.Kind)
        {
            case SlaStepKind.Remind:
                if (owner is null)
                    return await DropAsync(item, "the alert has not gone out, so there is no rep to remind", cancellationToken);
                recipient = owner;
                routedBy = "reminder";
                break;
            case SlaStepKind.Reroute:
                if (existing?.Owner is { } chosen)
                {
                    recipient = chosen;
                    routedBy = existing.RoutedBy ?? "reroute";
                }
                else if (await NextRepAsync(lead, owner, cancellationToken) is { } next)
                {
                    (recipient, routedBy) = next;
                }
                else
                {
                    return await DropAsync(item, "no other rep to re-route to", cancellationToken);
                }
                break;
            default:
                recipient = step.To ?? alertOptions.Value.EscalationAddress;
                break;
        }

        var now = time.GetUtcNow();
        var messageId = item.Step is null ? $"{lead.LeadId}-{DueKinds.Alert}-sla-{Ticks(sqlAt)}" : SalesAlertKeys.StepMessage(lead.LeadId, sqlAt, step.Id);
        var (record, lost) = await ClaimSqlAsync(
            item,
            new OutboxEntity { PartitionKey = lead.LeadId, RowKey = outboxKey, Kind = DueKinds.SlaCheck, MessageId = messageId, Owner = recipient, RoutedBy = routedBy },
            now, cancellationToken);
        if (record is null)
            return lost;
        recipient = record.Owner ?? recipient;

        var progress = new SlaEntity { PartitionKey = lead.LeadId, RowKey = SlaEntity.RowFor(sqlAt.UtcTicks), SqlAt = sqlAt, LastStep = step.Id };
        switch (step.Kind)
        {
            case SlaStepKind.Remind:
                progress.RemindedAt = now;
                break;
            case SlaStepKind.Escalate:
                progress.EscalatedAt = now;
                progress.EscalatedTo = recipient;
                break;
            case SlaStepKind.Reroute:
                // The new rep owns the lead from here: later reminders go to them, and their link's decision is theirs.
                progress.ReroutedAt = now;
                progress.ReroutedFrom = owner;
                progress.Owner = recipient;
                break;
            default:
                progress.Deadline = item.DueAt;
                progress.BreachedAt = now;
                progress.EscalatedTo = recipient;
                LogSlaBreached(logger, lead.LeadId, item.DueAt);
                break;
        }
        await store.MergeSlaAsync(progress, cancellationToken);

        var origin = step.Kind is SlaStepKind.Remind or SlaStepKind.Reroute ? await composer.OriginAsync(details, sqlAt, cancellationToken) : null;
        var currentOwner = step.Kind == SlaStepKind.Reroute ? recipient : owner ?? "(alert not sent)";
        var message = composer.SlaStep(details, sqlAt, step, recipient, currentOwner, routedBy,
            step.Kind == SlaStepKind.Reroute ? owner : sla?.ReroutedFrom, messageId, record.FirstAttemptAt, now, origin);
        await SendAsync(record, message, cancellationToken);
        await store.MarkSentAsync(record, time.GetUtcNow(), cancellationToken);
        LogSlaStepSent(logger, lead.LeadId, step.Id, step.Kind.ToString(), record.Attempts);
        await store.CompleteAsync(item, cancellationToken);
        return Outcome.Sent;
    }

    /// <summary>
    /// The next rep for a re-route: the next turn of the lead's own pool that is not the current owner, else of the round-robin
    /// pool; null when nobody else is configured. Each look costs a turn, so re-routes spread like alerts do.
    /// </summary>
    private async Task<(string Owner, string Pool)?> NextRepAsync(LeadSummary lead, string? current, CancellationToken cancellationToken)
    {
        var own = configuration.Routing.Route(lead);
        var pools = own.PoolId == SalesRoutingPools.RoundRobin
            ? new[] { (own.PoolId, own.Owners) }
            : [(own.PoolId, own.Owners), (SalesRoutingPools.RoundRobin, configuration.Routing.RoundRobin)];
        foreach (var (pool, owners) in pools)
        {
            if (!owners.Any(o => !string.Equals(o, current, StringComparison.OrdinalIgnoreCase)))
                continue;
            for (var i = 0; i < owners.Count; i++)
            {
                var turn = await store.NextTurnAsync(pool, cancellationToken);
                var candidate = owners[(int)(Math.Abs(turn) % owners.Count)];
                if (!string.Equals(candidate, current, StringComparison.OrdinalIgnoreCase))
                    return (candidate, pool);
            }
        }
        return null;
    }

    /// <summary>
    /// The start the alert and the SLA check share: a reminder whose e-mail an earlier run already sent is retired, and one
    /// whose lead is no longer that SQL is gated; <c>Done</c> is null only when the caller should go on and send.
    /// </summary>
    private async Task<(Outcome? Done, OutboxEntity? Existing, LeadDetails? Details)> BeginSqlWorkAsync(DueItemEntity item, string outboxKey, CancellationToken cancellationToken)
    {
        var existing = await store.FindOutboxAsync(item.LeadId, outboxKey, cancellationToken);
        if (existing is { Status: OutboxStatus.Sent })
        {
            await store.CompleteAsync(item, cancellationToken);
            return (Outcome.AlreadySent, existing, null);
        }

        var details = await directory.FindAsync(item.LeadId, cancellationToken);
        var gate = await GateSqlAsync(item, details, cancellationToken);
        return (gate, existing, details);
    }

    /// <summary>
    /// Claims a sales e-mail's outbox record. Null record means this run must not send: another run already sent it (the
    /// reminder is retired) or holds the claim (the reminder waits); the outcome says which.
    /// </summary>
    private async Task<(OutboxEntity? Record, Outcome Lost)> ClaimSqlAsync(DueItemEntity item, OutboxEntity fresh, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var claim = await store.ClaimAsync(fresh, now, Lease, cancellationToken);
        switch (claim)
        {
            case ClaimResult.AlreadySent:
                await store.CompleteAsync(item, cancellationToken);
                return (null, Outcome.AlreadySent);
            case ClaimResult.HeldElsewhere:
                return (null, Outcome.Waiting);
        }
        return (((ClaimResult.Won)claim).Record, Outcome.Sent);
    }

    /// <summary>Null when the lead is still the SQL this work was scheduled for; otherwise what to do with the reminder.</summary>
    private async Task<Outcome?> GateSqlAsync(DueItemEntity item, LeadDetails? details, CancellationToken cancellationToken)
    {
        var committed = _planner.CheckTransitionCommitted(details?.Lead, item.TransitionAt, Grace);
        if (committed.Verdict == FollowUpVerdict.Wait)
            return Outcome.Waiting;
        if (committed.Verdict == FollowUpVerdict.Drop)
            return await DropAsync(item, committed.Reason, cancellationToken);
        var lead = details!.Lead;
        if (lead.Stage != LifecycleStage.Sql || NurturePlanner.ChangedSince(lead, item.TransitionAt))
            return await DropAsync(item, $"the lead moved on (now {lead.Stage})", cancellationToken);
        return null;
    }

    private async Task SendAsync(OutboxEntity record, EmailMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await sender.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await store.ReleaseAsync(record, time.GetUtcNow(), CancellationToken.None);
            throw;
        }
    }

    private async Task<Outcome> PostponeAsync(DueItemEntity item, FollowUpDecision decision, CancellationToken cancellationToken)
    {
        // A commit still in flight is simply looked at again next run; a frequency cap moves the reminder to when it frees.
        if (decision.RetryAt is { } retryAt && retryAt > item.DueAt && decision.Reason.StartsWith("frequency cap", StringComparison.Ordinal))
        {
            await store.ScheduleAsync(
                DueItemEntity.Create(item.LeadId, item.Kind, retryAt, item.TransitionAt, $"{item.Programme}-{item.Step}", item.Programme, item.Step),
                cancellationToken);
            await store.CompleteAsync(item, cancellationToken);
            LogDeferred(logger, item.LeadId, item.Programme ?? "", item.Step ?? "", retryAt, decision.Reason);
        }
        return Outcome.Waiting;
    }

    private async Task<Outcome> DropAsync(DueItemEntity item, string reason, CancellationToken cancellationToken)
    {
        await store.CompleteAsync(item, cancellationToken);
        LogDropped(logger, item.LeadId, item.Kind, item.Programme ?? "", item.Step ?? "", reason);
        return Outcome.Dropped;
    }

    private static string Ticks(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Nurture run: {Due} due, {Sent} sent, {AlreadySent} already sent, {Dropped} dropped, {Waiting} waiting, {Failed} failed")]
    private static partial void LogRun(ILogger logger, int due, int sent, int alreadySent, int dropped, int waiting, int failed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Due item {RowKey} ({Kind}) of lead {LeadId} failed; it stays due and is retried next run")]
    private static partial void LogItemFailed(ILogger logger, Exception exception, string leadId, string kind, string rowKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent nurture {Programme} v{ProgrammeVersion} step {Step} to lead {LeadId} (attempt {Attempt})")]
    private static partial void LogNurtureSent(ILogger logger, string leadId, string programme, string programmeVersion, string step, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent sales alert for lead {LeadId}, routed by {RoutedBy} (attempt {Attempt})")]
    private static partial void LogAlertSent(ILogger logger, string leadId, string routedBy, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent SLA step {Step} ({Kind}) for lead {LeadId} (attempt {Attempt})")]
    private static partial void LogSlaStepSent(ILogger logger, string leadId, string step, string kind, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SLA breached for lead {LeadId}: nobody acted by {Deadline}; escalating")]
    private static partial void LogSlaBreached(ILogger logger, string leadId, DateTimeOffset deadline);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} {Programme}/{Step} deferred to {RetryAt}: {Reason}")]
    private static partial void LogDeferred(ILogger logger, string leadId, string programme, string step, DateTimeOffset retryAt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Kind} {Programme}/{Step} for lead {LeadId}: {Reason}")]
    private static partial void LogDropped(ILogger logger, string leadId, string kind, string programme, string step, string reason);
}

internal static class SalesRoutingPools
{
    public const string RoundRobin = Domain.SalesAlerts.SalesRouting.RoundRobinPool;
}
