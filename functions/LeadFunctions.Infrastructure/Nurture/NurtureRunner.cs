using System.Globalization;
using Azure;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Infrastructure.Nurture.Results;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// What one run did: <see cref="AlreadySent"/> counts reminders another run had already delivered; <see cref="Failed"/> counts
/// failures, of which <see cref="Parked"/> were parked (the rest moved later). <see cref="StoppedBy"/> is <c>quota</c> or
/// <c>run budget</c> when the run stopped early, leaving <see cref="Left"/> of the items it read due.
/// </summary>
public sealed record NurtureRunResult(int Due, int Sent, int AlreadySent, int Dropped, int Waiting, int Failed, int Parked = 0, int Left = 0, string? StoppedBy = null);

/// <summary>What the timer calls: sends whatever is due, safely when runs overlap, are late, or crashed mid-way.</summary>
public interface INurtureRunner
{
    Task<NurtureRunResult> RunOnceAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One timer run. For each due reminder it re-reads the lead, decides (planner), claims the outbox record with an ETag, sends,
/// marks it sent and schedules the next step. Exactly-once per lead and step comes from the outbox claim; a crash between sending
/// and marking leaves a claim that a later run takes over after the lease and sends again with the same message id, which the
/// senders make harmless (same .eml file, same Repeatability-Request-Id within ACS's window).
/// Sales work is read before nurture; a failure moves its reminder later with back-off or parks it; the run stops when the
/// send quota or its time budget is spent, leaving the rest due.
/// </summary>
internal sealed partial class NurtureRunner(
    NurtureStore store,
    NurtureConfiguration configuration,
    NurtureMailComposer composer,
    ILeadDirectory directory,
    IEmailSender sender,
    ILeadEventPublisher publisher,
    TimeProvider time,
    IOptions<NurtureOptions> nurtureOptions,
    IOptions<SalesAlertOptions> alertOptions,
    OutboxMetrics metrics,
    ILogger<NurtureRunner> logger,
    NurtureProgrammeState programmes,
    INurtureResults results) : INurtureRunner
{
    /// <summary>Counting the backlog reads row keys only, and stops here.</summary>
    private const int BacklogCountLimit = 10_000;

    private enum Outcome { Sent, AlreadySent, Dropped, Waiting }

    private readonly NurturePlanner _planner = new(time);

    private NurtureOptions Options => nurtureOptions.Value;
    private TimeSpan Lease => TimeSpan.FromSeconds(Options.ClaimLeaseSeconds);
    private TimeSpan Grace => TimeSpan.FromSeconds(Options.CommitGraceSeconds);
    private TimeSpan ConfirmationValidFor => TimeSpan.FromDays(Options.ConfirmationValidDays);
    private TimeSpan ConfirmationWindow => TimeSpan.FromHours(Options.ConfirmationWindowHours);

    public async Task<NurtureRunResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var budget = TimeSpan.FromSeconds(Options.RunBudgetSeconds);
        var due = await store.DueAsync(time.GetUtcNow(), Options.MaxItemsPerRun, cancellationToken);
        int sent = 0, alreadySent = 0, dropped = 0, waiting = 0, failed = 0, parked = 0, processed = 0;
        string? stoppedBy = null;
        foreach (var item in due)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (time.GetElapsedTime(started) >= budget)
            {
                // Starting another item could outlast the function timeout; what is left is simply due next run.
                stoppedBy = "run budget";
                break;
            }
            try
            {
                var outcome = item.Kind switch
                {
                    DueKinds.Nurture => await NurtureAsync(item, cancellationToken),
                    DueKinds.Alert => await AlertAsync(item, cancellationToken),
                    DueKinds.SlaCheck => await SlaCheckAsync(item, cancellationToken),
                    DueKinds.Confirm => await ConfirmAsync(item, cancellationToken),
                    _ => await DropAsync(item, "unknown kind", cancellationToken),
                };
                switch (outcome)
                {
                    case Outcome.Sent: sent++; metrics.Sent(item.Kind); break;
                    case Outcome.AlreadySent: alreadySent++; break;
                    case Outcome.Dropped: dropped++; break;
                    default: waiting++; break;
                }
            }
            catch (EmailQuotaExceededException ex)
            {
                // Not a failure: nothing was sent and no attempt is counted. Sales work was read first, so it had the budget first.
                stoppedBy = "quota";
                LogQuotaSpent(logger, ex.FreeIn);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One item's failure must not hold back anyone else's e-mail: it moves later or is parked, off the head of the index.
                failed++;
                if (await FailAsync(item, ex))
                    parked++;
            }
            processed++;
        }
        if (stoppedBy is not null)
            metrics.Stopped(stoppedBy);
        var result = new NurtureRunResult(due.Count, sent, alreadySent, dropped, waiting, failed, parked, due.Count - processed, stoppedBy);
        LogRun(logger, result.Due, result.Sent, result.AlreadySent, result.Dropped, result.Waiting, result.Failed, result.Parked, result.Left, stoppedBy ?? "done");
        await ReportBacklogAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// Retries a transient failure later (exponential, jittered, capped) or parks a permanent one, or one that failed
    /// <c>Nurture:MaxSendAttempts</c> times. True when parked. If storage fails here too, the reminder simply stays due.
    /// </summary>
    private async Task<bool> FailAsync(DueItemEntity item, Exception exception)
    {
        var (failure, outboxKey) = exception is OutboxSendException send
            ? (send.Failure, send.OutboxKey)
            : (ProcessingFailure(exception), null);
        if (exception is not OutboxSendException)
            LogProcessingError(logger, exception, item.LeadId, item.Kind, item.RowKey);

        var attempts = item.Attempts + 1;
        var now = time.GetUtcNow();
        try
        {
            if (failure.IsPermanent || attempts >= Options.MaxSendAttempts)
            {
                var reason = failure.IsPermanent ? failure.Reason : $"{failure.Reason} (gave up after {attempts} failed attempts)";
                await store.ParkAsync(item, reason, failure.IsPermanent, attempts, outboxKey, now, CancellationToken.None);
                metrics.Parked(item.Kind, failure.IsPermanent);
                LogParked(logger, item.LeadId, item.Kind, item.WorkKey, attempts, reason);
                return true;
            }

            var retryAt = now + Backoff(attempts);
            await store.RetryLaterAsync(item, retryAt, attempts, failure.Reason, now, CancellationToken.None);
            metrics.Retried(item.Kind);
            LogRetryLater(logger, item.LeadId, item.Kind, item.WorkKey, attempts, retryAt, failure.Reason);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogItemFailed(logger, ex, item.LeadId, item.Kind, item.RowKey);
        }
        return false;
    }

    /// <summary>Exponential from <c>RetryDelaySeconds</c>, capped, with "equal jitter": between half and all of the nominal delay.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var nominal = Options.RetryDelaySeconds * Math.Pow(2, Math.Min(attempts - 1, 30));
        var capped = Math.Min(nominal, Options.MaxRetryDelaySeconds);
        return TimeSpan.FromSeconds(capped * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    /// <summary>
    /// A failure outside the send: storage and network trouble is transient; anything else (a template that fails to render,
    /// a programme that no longer fits the lead) would fail the same way next time, so it is parked.
    /// </summary>
    private static EmailFailure ProcessingFailure(Exception exception) => exception switch
    {
        RequestFailedException { Status: 0 or 408 or 429 or >= 500 } storage => new(EmailFailureKind.Transient, $"storage {storage.Status}", false),
        RequestFailedException storage => new(EmailFailureKind.Transient, $"storage {storage.Status} {storage.ErrorCode}", false),
        IOException or TimeoutException or HttpRequestException => new(EmailFailureKind.Transient, $"network: {exception.GetType().Name}", false),
        LeadEventNotAcceptedException => new(EmailFailureKind.Transient, "lead-events queue unavailable", false),
        _ => new(EmailFailureKind.Permanent, $"could not compose or process ({exception.GetType().Name})", false),
    };

    private async Task ReportBacklogAsync(CancellationToken cancellationToken)
    {
        try
        {
            var backlog = await store.BacklogAsync(time.GetUtcNow(), BacklogCountLimit, cancellationToken);
            metrics.Backlog(backlog);
            LogBacklog(logger, backlog.Due.GetValueOrDefault(DuePartitions.Sales), backlog.Due.GetValueOrDefault(DuePartitions.Default), backlog.Parked, backlog.OldestDueAge, backlog.AtLeast);
        }
        catch (RequestFailedException ex)
        {
            // The report is for people; a storage hiccup while counting must not fail a run that sent its e-mail.
            LogBacklogFailed(logger, ex.Status);
        }
    }

    private async Task<Outcome> NurtureAsync(DueItemEntity item, CancellationToken cancellationToken)
    {
        var programme = configuration.Catalogue.Find(item.Programme ?? "");
        var step = programme?.Steps.FirstOrDefault(s => s.Id == item.Step);
        if (programme is null || step is null)
            return await DropAsync(item, "the programme or step no longer exists", cancellationToken);

        // The step's outbox record is read alongside the enrolment (both point reads, independent): one round trip, not two.
        var outboxKey = $"{OutboxEntity.NurturePrefix}{programme.Id}-{step.Id}";
        var existingRead = step.Branch is null ? store.FindOutboxAsync(item.LeadId, outboxKey, cancellationToken) : Task.FromResult<OutboxEntity?>(null);
        var enrolment = await programmes.FindEnrolmentAsync(item.LeadId, cancellationToken);
        var existing = await existingRead;
        // A lead is in one programme at a time: a step of a programme another one took over from (same MQL episode) goes no further.
        if (enrolment is not null && enrolment.Programme != programme.Id && !enrolment.IsBefore(item.TransitionAt))
            return await DropAsync(item, $"taken over by {enrolment.Programme}", cancellationToken);
        if (enrolment is not null && enrolment.IsAfter(item.TransitionAt))
            return await DropAsync(item, "a later MQL episode enrolled the lead again", cancellationToken);
        if (step.Branch is { } branch)
            return await BranchAsync(item, programme, step, branch, enrolment, cancellationToken);

        if (existing is { Status: OutboxStatus.Sent })
        {
            await results.CountAsync(item.LeadId, existing.MessageId, cancellationToken); // a run that stopped after the send counts it now
            return await AdvanceAsync(item, programme, step, existing.SentAt ?? time.GetUtcNow(), cancellationToken);
        }

        // The lead alone (one point read): a nurture step needs its stage, consent and profile, not its ledger. The three reads are
        // independent point reads, so they go together: an item waits for one round trip, not three.
        var foundRead = directory.FindSummaryAsync(item.LeadId, cancellationToken);
        var suppressedRead = store.IsSuppressedAsync(item.LeadId, cancellationToken);
        var sendsRead = store.MarketingSendsAsync(item.LeadId, time.GetUtcNow(), cancellationToken);
        var found = await foundRead;
        var suppressed = await suppressedRead;
        var sends = await sendsRead;
        var decision = _planner.CheckNurture(found, item.TransitionAt, suppressed, sends, Options.MaxMarketingEmailsPerWeek, Grace,
            ConfirmationValidFor, item.DueAt);
        switch (decision.Verdict)
        {
            case FollowUpVerdict.Drop:
                return await DropAsync(item, decision.Reason, cancellationToken);
            case FollowUpVerdict.Wait:
                return await PostponeAsync(item, decision, cancellationToken);
        }
        var lead = found!;
        if (await ExitAsync(item, programme, lead, enrolment, cancellationToken) is { } exited)
            return exited;
        // Checked after the cap, consent and exit rules, so a step held to its window is checked against them again when it opens.
        if (SendWindowGate.Hold(programme, lead.Profile, configuration.Catalogue.DefaultTimeZone, time.GetUtcNow()) is { } held)
            return await PostponeAsync(item, held, cancellationToken);
        var now = time.GetUtcNow();
        var messageId = $"{lead.LeadId}-{DueKinds.Nurture}-{programme.Id}-{step.Id}";
        // The outbox record as read above: the claim's Add or ETag'd replace fails if it changed since, so reading it again buys nothing.
        var claim = await store.ClaimAsync(
            new OutboxEntity { PartitionKey = lead.LeadId, RowKey = outboxKey, Kind = DueKinds.Nurture, MessageId = messageId, Marketing = true },
            existing, now, Lease, cancellationToken);
        switch (claim)
        {
            case ClaimResult.AlreadySent already:
                return await AdvanceAsync(item, programme, step, already.Record.SentAt ?? now, cancellationToken);
            case ClaimResult.HeldElsewhere:
                return Outcome.Waiting;
        }

        var record = ((ClaimResult.Won)claim).Record;
        var message = composer.Nurture(lead, programme, step, messageId, record.FirstAttemptAt, ComposedAt(record, now));
        await SendAsync(record, message, cancellationToken);
        var sentAt = time.GetUtcNow();
        var written = await store.MarkSentAsync(record, sentAt, new SentEmailInfo(programme.Id, step.Id, message.Subject), sends, cancellationToken);
        // Counts the e-mail record just written rather than reading it back; throws: the item retries, and the branch above counts it.
        if (written is not null && results is INurtureSentCounter counter)
            await counter.CountSentAsync(lead.LeadId, written, cancellationToken);
        else
            await results.CountAsync(lead.LeadId, messageId, cancellationToken);
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

    /// <summary>
    /// A branch fires when its wait is over: it re-reads what the lead did (the behaviour row, as of now, so a click processed late
    /// still counts; probable bots were never recorded) and schedules <c>then</c> or <c>else</c> from this moment.
    /// </summary>
    private async Task<Outcome> BranchAsync(DueItemEntity item, NurtureProgramme programme, NurtureStep step, NurtureBranch branch,
        NurtureEnrolmentEntity? enrolment, CancellationToken cancellationToken)
    {
        var found = await directory.FindSummaryAsync(item.LeadId, cancellationToken);
        var suppressed = await store.IsSuppressedAsync(item.LeadId, cancellationToken);
        var decision = _planner.CheckBranch(found, item.TransitionAt, suppressed, Grace);
        switch (decision.Verdict)
        {
            case FollowUpVerdict.Drop:
                return await DropAsync(item, decision.Reason, cancellationToken);
            case FollowUpVerdict.Wait:
                return Outcome.Waiting;
        }
        if (await ExitAsync(item, programme, found!, enrolment, cancellationToken) is { } exited)
            return exited;

        var now = time.GetUtcNow();
        var last = await programmes.LastAsync(item.LeadId, NurtureBehaviourEntity.BranchRow(programme.Id, step.Id), cancellationToken);
        var waitStartedAt = item.DueAt - branch.Wait;
        var targetId = branch.Resolve(waitStartedAt, last);
        LogBranch(logger, item.LeadId, programme.Id, step.Id, branch.When.ToString(), NurtureBranch.Happened(waitStartedAt, last), targetId ?? NurtureCatalogueReader.End);
        if (programme.Find(targetId) is { } target)
        {
            var dueAt = NurturePlanner.DueAt(target, item.TransitionAt, now);
            await store.ScheduleAsync(
                DueItemEntity.Create(item.LeadId, DueKinds.Nurture, dueAt, item.TransitionAt, $"{programme.Id}-{target.Id}", programme.Id, target.Id),
                cancellationToken);
        }
        await store.CompleteAsync(item, cancellationToken);
        return Outcome.AlreadySent;
    }

    /// <summary>
    /// Null while the lead stays in <paramref name="programme"/>; otherwise the reminder is dropped because the programme's goal was
    /// reached since enrolment, or because a higher-priority programme now matches the lead (entry is evaluated again before every
    /// step), which the lead then enters: its first step is scheduled from now.
    /// </summary>
    private async Task<Outcome?> ExitAsync(DueItemEntity item, NurtureProgramme programme, LeadSummary lead, NurtureEnrolmentEntity? enrolment, CancellationToken cancellationToken)
    {
        if (programme.Exit.Goals.Count > 0
            && NurtureBranch.Happened(item.TransitionAt, await programmes.LastAsync(item.LeadId, NurtureBehaviourEntity.GoalRow(programme.Id), cancellationToken)))
            return await DropAsync(item, "the programme's goal was reached", cancellationToken);

        var kind = enrolment is not null && !enrolment.IsBefore(item.TransitionAt) && !enrolment.IsAfter(item.TransitionAt) ? enrolment.EntryKind : NurtureEntryKind.Mql;
        if (configuration.Catalogue.Select(lead, kind, above: programme.Priority) is not { } better)
            return null;
        var now = time.GetUtcNow();
        await programmes.EnrolAsync(item.LeadId, better.Id, item.TransitionAt, kind, now, programme.Id, cancellationToken);
        var first = better.Steps[0];
        await store.ScheduleAsync(
            DueItemEntity.Create(item.LeadId, DueKinds.Nurture, now + first.Delay, item.TransitionAt, $"{better.Id}-{first.Id}", better.Id, first.Id),
            cancellationToken);
        LogTakenOver(logger, item.LeadId, programme.Id, better.Id);
        return await DropAsync(item, $"taken over by {better.Id}", cancellationToken);
    }

    /// <summary>
    /// The double opt-in e-mail for the consent request made at the reminder's transition time. At most one goes to a lead in any
    /// <see cref="NurtureOptions.ConfirmationWindowHours"/>: the records are numbered, a new number is claimed only when the latest
    /// was sent longer ago than the window, and only one run can add a given number. Later reminders of the window are dropped; the
    /// link in the e-mail already sent confirms the latest request.
    /// </summary>
    private async Task<Outcome> ConfirmAsync(DueItemEntity item, CancellationToken cancellationToken)
    {
        var found = await directory.FindSummaryAsync(item.LeadId, cancellationToken);
        var suppressed = await store.IsSuppressedAsync(item.LeadId, cancellationToken);
        var decision = _planner.CheckConfirmation(found, item.TransitionAt, suppressed, ConfirmationValidFor, Grace);
        switch (decision.Verdict)
        {
            case FollowUpVerdict.Drop:
                return await DropAsync(item, decision.Reason, cancellationToken);
            case FollowUpVerdict.Wait:
                return Outcome.Waiting;
        }

        var lead = found!;
        var now = time.GetUtcNow();
        var (number, latest) = await store.LatestConfirmationAsync(lead.LeadId, cancellationToken);
        if (latest is { Status: OutboxStatus.Sent } && latest.SentAt > now - ConfirmationWindow)
            return await DropAsync(item, $"a confirmation e-mail went to this lead at {latest.SentAt:O}; one per {Options.ConfirmationWindowHours} h", cancellationToken);
        // An unsent record (a crashed or failed run) is taken over under its own number, so it keeps its message id.
        if (latest is null || latest.Status == OutboxStatus.Sent)
            number++;

        var messageId = $"{lead.LeadId}-{DueKinds.Confirm}-{number}";
        // The record the query above found, when this number is its own; a new number had none.
        var claim = await store.ClaimAsync(
            new OutboxEntity { PartitionKey = lead.LeadId, RowKey = OutboxEntity.ConfirmRow(number), Kind = DueKinds.Confirm, MessageId = messageId, Marketing = false },
            latest is { Status: not OutboxStatus.Sent } ? latest : null, now, Lease, cancellationToken);
        switch (claim)
        {
            case ClaimResult.AlreadySent:
                await store.CompleteAsync(item, cancellationToken);
                return Outcome.AlreadySent;
            case ClaimResult.HeldElsewhere:
                return Outcome.Waiting;
        }

        var record = ((ClaimResult.Won)claim).Record;
        var message = composer.ConsentConfirmation(lead, messageId, record.FirstAttemptAt, ComposedAt(record, now));
        await SendAsync(record, message, cancellationToken);
        await store.MarkSentAsync(record, time.GetUtcNow(), new SentEmailInfo(null, null, message.Subject), marketingSends: null, cancellationToken);
        LogConfirmationSent(logger, lead.LeadId, number, record.Attempts);
        await store.CompleteAsync(item, cancellationToken);
        return Outcome.Sent;
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
        var (record, lost) = await ClaimSqlAsync(item, fresh, existing, now, cancellationToken);
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
        await AssignAsync(lead.LeadId, sqlAt, owner, record.RoutedBy ?? SalesRoutingPools.RoundRobin, cancellationToken);
        var origin = await composer.OriginAsync(details, sqlAt, cancellationToken);
        var message = composer.SalesAlert(details, sqlAt, owner, record.RoutedBy ?? SalesRoutingPools.RoundRobin, messageId, record.FirstAttemptAt, ComposedAt(record, now), origin);
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
            existing, now, cancellationToken);
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
        if (step.Kind == SlaStepKind.Reroute)
            await AssignAsync(lead.LeadId, sqlAt, recipient, routedBy, cancellationToken);

        var origin = step.Kind is SlaStepKind.Remind or SlaStepKind.Reroute ? await composer.OriginAsync(details, sqlAt, cancellationToken) : null;
        var currentOwner = step.Kind == SlaStepKind.Reroute ? recipient : owner ?? "(alert not sent)";
        var message = composer.SlaStep(details, sqlAt, step, recipient, currentOwner, routedBy,
            step.Kind == SlaStepKind.Reroute ? owner : sla?.ReroutedFrom, messageId, record.FirstAttemptAt, ComposedAt(record, now), origin);
        await SendAsync(record, message, cancellationToken);
        await store.MarkSentAsync(record, time.GetUtcNow(), cancellationToken);
        LogSlaStepSent(logger, lead.LeadId, step.Id, step.Kind.ToString(), record.Attempts);
        await store.CompleteAsync(item, cancellationToken);
        return Outcome.Sent;
    }

    /// <summary>
    /// Tells the processor who routing gave the SQL to, as an event on <c>lead-events</c>: the lead row's owner is written by the
    /// processor only, in the lead's transaction with a ledger note. Queued before the e-mail goes, so a queue that refuses it
    /// fails the item like a failed send (retried with back-off, the same rep kept on the outbox record); the event id is the
    /// episode and the rep, so a retry is applied once.
    /// </summary>
    private async Task AssignAsync(string leadId, DateTimeOffset sqlAt, string owner, string routedBy, CancellationToken cancellationToken)
    {
        if (!EmailAddress.TryNormalize(owner, out var address))
            return; // routing files are validated at start; an owner that is no address cannot own a lead row
        var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{leadId}|{sqlAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}|{address}")))[..32];
        await publisher.PublishAsync(new LeadEvent
        {
            EventId = "sales-assignment-" + id,
            Type = LeadEventTypes.SalesAssignment,
            OccurredAt = time.GetUtcNow(),
            LeadId = leadId,
            Properties = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [LeadEventProperties.Owner] = address,
                [LeadEventProperties.RoutedBy] = routedBy.Length > 100 ? routedBy[..100] : routedBy,
                [LeadEventProperties.SqlEpisode] = sqlAt.ToString("O", CultureInfo.InvariantCulture),
            },
        }, cancellationToken);
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
    private async Task<(OutboxEntity? Record, Outcome Lost)> ClaimSqlAsync(DueItemEntity item, OutboxEntity fresh, OutboxEntity? existing, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The record as BeginSqlWorkAsync read it: the claim's Add or ETag'd replace fails if it changed since.
        var claim = await store.ClaimAsync(fresh, existing, now, Lease, cancellationToken);
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

    /// <summary>
    /// Sends the claimed record's message as its current logical attempt. A quota refusal gives the claim back uncounted; a
    /// failure gives it back with its classified reason and is rethrown as <see cref="OutboxSendException"/> for the run loop.
    /// </summary>
    private async Task SendAsync(OutboxEntity record, EmailMessage message, CancellationToken cancellationToken)
    {
        if (record.Takeovers >= Options.MaxSendAttempts)
        {
            var crashed = new EmailFailure(EmailFailureKind.Permanent, $"the run sending it stopped mid-send {record.Takeovers} times", MayHaveBeenSent: true);
            await store.ReleaseAsync(record, time.GetUtcNow(), crashed, CancellationToken.None);
            throw new OutboxSendException(crashed, record.RowKey);
        }
        if (record.NewAttemptAfterUnknownOutcome)
            LogPossibleDuplicate(logger, record.PartitionKey, record.RowKey, record.RequestAttempt);

        var attempt = new SendAttempt(Math.Max(1, record.RequestAttempt), record.RequestFirstSent ?? record.FirstAttemptAt);
        try
        {
            await sender.SendAsync(message with { Attempt = attempt, Marketing = record.Marketing }, cancellationToken);
        }
        catch (EmailQuotaExceededException)
        {
            await store.ReleaseAsync(record, time.GetUtcNow(), failure: null, CancellationToken.None);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var failure = EmailFailures.Classify(ex);
            await store.ReleaseAsync(record, time.GetUtcNow(), failure, CancellationToken.None);
            throw new OutboxSendException(failure, record.RowKey, ex);
        }
    }

    /// <summary>
    /// The time a message is composed as of (its links' send time, the alert's hours left): the start of the send attempt, so a
    /// repeat of the attempt on a later run has the same body, which ACS needs to recognise it as a repeat rather than refuse it.
    /// </summary>
    private static DateTimeOffset ComposedAt(OutboxEntity record, DateTimeOffset now) => record.RequestFirstSent ?? now;

    private async Task<Outcome> PostponeAsync(DueItemEntity item, FollowUpDecision decision, CancellationToken cancellationToken)
    {
        // A commit still in flight is simply looked at again next run; a frequency cap moves the reminder to when it frees, and
        // consent waiting for its confirmation link to when the request expires.
        if (decision.RetryAt is { } retryAt && retryAt > item.DueAt && decision.Reschedule)
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Nurture run: {Due} due, {Sent} sent, {AlreadySent} already sent, {Dropped} dropped, {Waiting} waiting, {Failed} failed ({Parked} parked), {Left} left due ({StoppedBy})")]
    private static partial void LogRun(ILogger logger, int due, int sent, int alreadySent, int dropped, int waiting, int failed, int parked, int left, string stoppedBy);

    [LoggerMessage(Level = LogLevel.Error, Message = "Due item {RowKey} ({Kind}) of lead {LeadId} failed and could not be rescheduled; it stays due and is retried next run")]
    private static partial void LogItemFailed(ILogger logger, Exception exception, string leadId, string kind, string rowKey);

    [LoggerMessage(Level = LogLevel.Error, Message = "Due item {RowKey} ({Kind}) of lead {LeadId} failed before sending")]
    private static partial void LogProcessingError(ILogger logger, Exception exception, string leadId, string kind, string rowKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} {WorkKey} of lead {LeadId} failed (attempt {Attempts}): {Reason}; retrying at {RetryAt}")]
    private static partial void LogRetryLater(ILogger logger, string leadId, string kind, string workKey, int attempts, DateTimeOffset retryAt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Kind} {WorkKey} of lead {LeadId} parked after {Attempts} attempt(s): {Reason}; see GET /api/ops/email/failed")]
    private static partial void LogParked(ILogger logger, string leadId, string kind, string workKey, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quota spent; the run stops and leaves the rest due (next send allowed in {FreeIn})")]
    private static partial void LogQuotaSpent(ILogger logger, TimeSpan freeIn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox backlog: {DueSales} sales and {DueOther} other items due, {Parked} parked, oldest due for {OldestDueAge} (capped counts: {AtLeast})")]
    private static partial void LogBacklog(ILogger logger, int dueSales, int dueOther, int parked, TimeSpan oldestDueAge, bool atLeast);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count the outbox backlog (storage answered {Status})")]
    private static partial void LogBacklogFailed(ILogger logger, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox {RowKey} of lead {LeadId}: new send attempt {RequestAttempt} after an attempt whose outcome is unknown; if that one was accepted, this is a second copy")]
    private static partial void LogPossibleDuplicate(ILogger logger, string leadId, string rowKey, int requestAttempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent nurture {Programme} v{ProgrammeVersion} step {Step} to lead {LeadId} (attempt {Attempt})")]
    private static partial void LogNurtureSent(ILogger logger, string leadId, string programme, string programmeVersion, string step, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent consent confirmation e-mail {Number} to lead {LeadId} (attempt {Attempt})")]
    private static partial void LogConfirmationSent(ILogger logger, string leadId, long number, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent sales alert for lead {LeadId}, routed by {RoutedBy} (attempt {Attempt})")]
    private static partial void LogAlertSent(ILogger logger, string leadId, string routedBy, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent SLA step {Step} ({Kind}) for lead {LeadId} (attempt {Attempt})")]
    private static partial void LogSlaStepSent(ILogger logger, string leadId, string step, string kind, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SLA breached for lead {LeadId}: nobody acted by {Deadline}; escalating")]
    private static partial void LogSlaBreached(ILogger logger, string leadId, DateTimeOffset deadline);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} {Programme}/{Step} deferred to {RetryAt}: {Reason}")]
    private static partial void LogDeferred(ILogger logger, string leadId, string programme, string step, DateTimeOffset retryAt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} {Programme}/{Step}: branch on {Behaviour}, happened {Happened}, next {Next}")]
    private static partial void LogBranch(ILogger logger, string leadId, string programme, string step, string behaviour, bool happened, string next);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} left programme {From}: taken over by {To}")]
    private static partial void LogTakenOver(ILogger logger, string leadId, string from, string to);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Kind} {Programme}/{Step} for lead {LeadId}: {Reason}")]
    private static partial void LogDropped(ILogger logger, string leadId, string kind, string programme, string step, string reason);
}

/// <summary>A send that failed, classified, with the outbox record it was for (so a parked item can reset it on replay).</summary>
internal sealed class OutboxSendException : Exception
{
    public OutboxSendException(EmailFailure failure, string outboxKey, Exception? innerException = null)
        : base($"Send of {outboxKey} failed: {failure.Reason}", innerException)
    {
        Failure = failure;
        OutboxKey = outboxKey;
    }

    public EmailFailure Failure { get; }
    public string OutboxKey { get; }
}

internal static class SalesRoutingPools
{
    public const string RoundRobin = Domain.SalesAlerts.SalesRouting.RoundRobinPool;
}
