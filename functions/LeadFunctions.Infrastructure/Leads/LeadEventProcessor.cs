using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Brings a lead up to date with one event from <c>lead-events</c>, exactly once.
/// <para>
/// Applying an event is one entity-group transaction in the lead's partition: add the applied-event row (keyed by event id),
/// add the ledger and history rows, and insert or ETag-update the lead row. A redelivered event fails on its applied-event
/// row (409) and is a no-op; a concurrent update fails on the ETag (412) and is re-read and re-applied, so none is lost.
/// The happy path costs one point read and one transaction; only the transaction when this instance committed the lead last
/// (<see cref="LeadStateCache"/>: the remembered row and ETag stand in for the read, and any conflict reads).
/// </para>
/// <para>
/// Work outside the partition (indexes, counters: <see cref="ILeadProjection"/>) is recorded as a pending-work row in that
/// same transaction when the event changed something a projection sees, run after the commit, and then deleted; a work that
/// only refreshes what a list shows (a score) replaces the lead's one latest-snapshot row and is kept, saving the delete
/// (<see cref="LeadProjectionWorkRows.IsSnapshotOnly"/>). A redelivery runs whatever work is still pending, so a crash between
/// the commit and the projections loses nothing.
/// </para>
/// Exceptions other than those two conflicts propagate, so the queue retries and finally poisons the message.
/// </summary>
public sealed partial class LeadEventProcessor(
    LeadsTable table,
    ScoringEngine engine,
    IEnumerable<IStageChangeObserver> observers,
    LeadIdentity identity,
    TimeProvider time,
    IOptions<ScoringOptions> options,
    ILogger<LeadEventProcessor> logger,
    IEnumerable<ILeadProjection>? projections = null,
    IActiveScoringModel? activeModel = null,
    IEnumerable<ILeadEventRecorder>? recorders = null,
    LeadStateCache? cache = null)
{
    /// <summary>An entity-group transaction holds at most 100 actions.</summary>
    private const int MaxTransactionActions = 100;

    private readonly IStageChangeObserver[] _observers = [.. observers];
    private readonly ILeadProjection[] _projections = [.. projections ?? []];
    private readonly ILeadEventRecorder[] _recorders = [.. recorders ?? []];

    /// <summary>
    /// Events for one lead take turns within this instance (striped by lead id), so a burst for one lead does not
    /// spend its time on conflicts; between instances the lead row's ETag still decides.
    /// </summary>
    private readonly SemaphoreSlim[] _leadLocks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>Reads a queue message and applies it; a malformed message throws <see cref="MalformedLeadEventException"/>.</summary>
    public Task<LeadEventResult> ProcessMessageAsync(string messageText, CancellationToken cancellationToken) =>
        ProcessAsync(LeadEventJson.Deserialize(messageText), cancellationToken);

    public async Task<LeadEventResult> ProcessAsync(LeadEvent leadEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leadEvent);
        var leadId = ResolveLeadId(leadEvent);
        var visitorKey = string.IsNullOrWhiteSpace(leadEvent.VisitorId) ? null : identity.VisitorKeyFor(leadEvent.VisitorId);

        if (leadId is null)
            return await ProcessAnonymousAsync(leadEvent, visitorKey!, cancellationToken);

        var applied = await ApplyAsync(leadId, [leadEvent], visitorKey is null ? null : new VisitorLink(visitorKey, Claimed: false), cancellationToken);
        if (applied.Erased)
        {
            LogErasedLead(logger, leadEvent.EventId, leadId);
            return new LeadEventResult(leadId, LeadEventOutcome.ErasedLead);
        }
        // A redelivery stitches again: the first delivery may have stopped between claiming the visitor and moving its events.
        if (visitorKey is not null && (!applied.VisitorWasLinked || applied.AlreadyApplied))
            await StitchVisitorAsync(leadId, visitorKey, cancellationToken);

        if (applied.AlreadyApplied)
            LogAlreadyApplied(logger, leadEvent.EventId, leadId);
        else
            LogApplied(logger, leadEvent.EventId, leadEvent.Type, leadId, applied.Transitions);
        return new LeadEventResult(leadId, applied.AlreadyApplied ? LeadEventOutcome.AlreadyApplied : LeadEventOutcome.Applied);
    }

    private string? ResolveLeadId(LeadEvent e)
    {
        if (e.Email is not null)
        {
            if (!EmailAddress.TryNormalize(e.Email, out var email))
                throw new MalformedLeadEventException("email is not a valid address.");
            return identity.LeadIdFor(email);
        }
        if (e.LeadId is not null)
        {
            if (!LeadIdentity.IsLeadId(e.LeadId))
                throw new MalformedLeadEventException("leadId is not a lead id.");
            return e.LeadId;
        }
        return null;
    }

    /// <summary>
    /// Anonymous activity: routed to the lead if the visitor has been claimed, otherwise kept under the visitor, at most
    /// <see cref="ScoringOptions.MaxPendingVisitorEvents"/> of them (the newest) and none older than the stitch window.
    /// </summary>
    private async Task<LeadEventResult> ProcessAnonymousAsync(LeadEvent e, string visitorKey, CancellationToken cancellationToken)
    {
        // Events of one visitor take turns within this instance, like a lead's; the gate is released before the lead's is taken.
        var gate = GateFor(visitorKey);
        await gate.WaitAsync(cancellationToken);
        (LeadEventResult? Result, string? Owner) kept;
        try
        {
            kept = await KeepForVisitorAsync(e, visitorKey, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
        if (kept.Result is { } result)
            return result;

        var applied = await ApplyAsync(kept.Owner!, [e], null, cancellationToken);
        return new LeadEventResult(kept.Owner, applied.AlreadyApplied ? LeadEventOutcome.AlreadyApplied : LeadEventOutcome.Applied);
    }

    /// <summary>Stores a pending event under an unclaimed visitor; returns the owner instead when the visitor has been claimed.</summary>
    private async Task<(LeadEventResult? Result, string? Owner)> KeepForVisitorAsync(LeadEvent e, string visitorKey, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        for (var attempt = 0; ; attempt++)
        {
            var visitor = await ReadAsync<VisitorEntity>(visitorKey, LeadRows.Visitor, cancellationToken);
            if (visitor?.LeadId is { } owner)
                return (null, owner);

            var now = time.GetUtcNow();
            var json = LeadEventJson.Serialize(e);
            if (e.OccurredAt < now - settings.VisitorHistory || json.Length >= LeadRowBounds.MaxStringLength)
            {
                // Never attachable (too old) or not storable: kept nowhere, and said so.
                LogNotKept(logger, e.EventId, visitorKey, e.OccurredAt < now - settings.VisitorHistory ? "older than the visitor history window" : "too large to keep");
                return (new LeadEventResult(null, LeadEventOutcome.NotKept), null);
            }

            var pending = new VisitorEventEntity
            {
                PartitionKey = visitorKey,
                RowKey = LeadRows.Pending(e.OccurredAt, e.EventId),
                EventJson = json,
                OccurredAt = e.OccurredAt,
            };
            var actions = new List<TableTransactionAction>(3) { new(TableTransactionActionType.Add, pending) };
            if (visitor is null)
            {
                actions.Add(new(TableTransactionActionType.Add, new VisitorEntity { PartitionKey = visitorKey, LastSeenAt = now, PendingCount = 1 }));
            }
            else
            {
                visitor.LastSeenAt = now;
                if (visitor.PendingCount >= settings.MaxPendingVisitorEvents)
                {
                    // Full: the oldest makes room, so a visitor's pending rows stay bounded however many events it sends.
                    var oldest = await OldestPendingAsync(visitorKey, cancellationToken);
                    if (oldest is null)
                    {
                        visitor.PendingCount = 1; // the count had drifted (rows of an earlier version): start it again from this row
                    }
                    else if (string.CompareOrdinal(pending.RowKey, oldest.RowKey) <= 0)
                    {
                        if (string.Equals(pending.RowKey, oldest.RowKey, StringComparison.Ordinal))
                            return (new LeadEventResult(null, LeadEventOutcome.AlreadyApplied), null);
                        LogNotKept(logger, e.EventId, visitorKey, "older than every pending event of a full visitor");
                        return (new LeadEventResult(null, LeadEventOutcome.NotKept), null);
                    }
                    else
                    {
                        actions.Add(new(TableTransactionActionType.Delete, oldest, oldest.ETag));
                    }
                }
                else
                {
                    visitor.PendingCount++;
                }
                actions.Add(new(TableTransactionActionType.UpdateReplace, visitor, visitor.ETag));
            }

            try
            {
                await table.Client.SubmitTransactionAsync(actions, cancellationToken);
                LogKeptForVisitor(logger, e.EventId, visitorKey);
                return (new LeadEventResult(null, LeadEventOutcome.KeptForVisitor), null);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
            {
                if (ex.Status == 409 && await ExistsAsync(visitorKey, pending.RowKey, cancellationToken))
                    return (new LeadEventResult(null, LeadEventOutcome.AlreadyApplied), null);
                ThrowIfTooManyAttempts(attempt, visitorKey, ex);
                await BackOffAsync(attempt, cancellationToken);
            }
        }
    }

    private async Task<VisitorEventEntity?> OldestPendingAsync(string visitorKey, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {visitorKey} and RowKey ge {LeadRows.PendingPrefix} and RowKey lt {PendingEnd}");
        await foreach (var row in table.Client.QueryAsync<VisitorEventEntity>(filter, maxPerPage: 1, select: [nameof(ITableEntity.PartitionKey), nameof(ITableEntity.RowKey)], cancellationToken: cancellationToken))
            return row;
        return null;
    }

    /// <summary>Just past every pending key (<c>|</c> + 1 is <c>}</c>).</summary>
    private const string PendingEnd = "p}";

    /// <summary>
    /// Claims the visitor for the lead and moves its recent pending events there. A visitor belongs to the first lead that
    /// claims it: a form for another lead carrying the same visitor id gets nothing from the visitor (its own event is
    /// applied, the visitor's history and later activity stay with the owner), so nobody can take over, or be handed,
    /// someone else's history by naming a visitor id.
    /// </summary>
    private async Task StitchVisitorAsync(string leadId, string visitorKey, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var visitor = await ReadAsync<VisitorEntity>(visitorKey, LeadRows.Visitor, cancellationToken);
            if (visitor?.LeadId is { } owner)
            {
                if (owner != leadId)
                {
                    LogVisitorOwnedElsewhere(logger, visitorKey, leadId);
                    return;
                }
                if (visitor.PendingCount > 0)
                    await MovePendingAsync(leadId, visitor, cancellationToken);
                return;
            }

            try
            {
                if (visitor is null)
                {
                    // Nothing pending: owning the visitor is all there is to do.
                    await table.Client.AddEntityAsync(new VisitorEntity { PartitionKey = visitorKey, LeadId = leadId, LastSeenAt = time.GetUtcNow() }, cancellationToken);
                    LogVisitorAttached(logger, visitorKey, leadId, 0);
                    return;
                }
                visitor.LeadId = leadId;
                visitor.ETag = (await table.Client.UpdateEntityAsync(visitor, visitor.ETag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag ?? default;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                ThrowIfTooManyAttempts(attempt, visitorKey, ex);
                await BackOffAsync(attempt, cancellationToken);
                continue;
            }
            if (visitor.PendingCount > 0)
                await MovePendingAsync(leadId, visitor, cancellationToken);
            return;
        }
    }

    /// <summary>
    /// Moves the pending events of a visitor this lead owns: those of the last <see cref="ScoringOptions.VisitorHistoryDays"/>,
    /// at most <see cref="ScoringOptions.MaxPendingVisitorEvents"/>, are applied (each becomes an applied-event row on the
    /// lead, so scored once even if a move is repeated); older ones are deleted unapplied. The visitor is owned, so no new
    /// pending row can appear meanwhile: the work is two range reads of at most the bound (this layout's rows and an earlier
    /// version's), and the transactions that move them.
    /// </summary>
    private async Task MovePendingAsync(string leadId, VisitorEntity visitor, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var visitorKey = visitor.PartitionKey;
        var budget = settings.MaxPendingVisitorEvents;
        var moved = 0;
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var cutoff = now - settings.VisitorHistory;
            var (rows, more) = await PendingPageAsync(visitorKey, settings.MaxPendingVisitorEvents, cancellationToken);

            var fresh = new List<LeadEvent>();
            foreach (var row in rows.Where(r => r.OccurredAt >= cutoff).OrderByDescending(r => r.OccurredAt).ThenByDescending(r => r.RowKey, StringComparer.Ordinal))
            {
                if (fresh.Count >= budget)
                    break;
                try
                {
                    fresh.Add(LeadEventJson.Deserialize(row.EventJson));
                }
                catch (MalformedLeadEventException ex)
                {
                    LogPendingUnreadable(logger, visitorKey, row.RowKey, ex.Message);
                }
            }
            fresh.Reverse(); // oldest first, as they happened
            // One event may be kept twice: a resend (track.js's fetch fallback after a lost 503) is captured again under the
            // same event id at another receipt time, so another pending row. It is applied once, at its first receipt: a batch
            // holding its applied-event row twice is refused whole (InvalidDuplicateRow), and would fail the visitor's form.
            fresh = [.. fresh.DistinctBy(e => e.EventId, StringComparer.Ordinal)];
            if (fresh.Count > 0)
                await ApplyAsync(leadId, fresh, new VisitorLink(visitorKey, Claimed: true), cancellationToken);
            budget -= fresh.Count;
            moved += fresh.Count;

            try
            {
                foreach (var chunk in rows.Chunk(MaxTransactionActions))
                    await table.Client.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, r.ETag)), cancellationToken);
                if (more)
                {
                    attempt = -1; // a full page (an earlier version's unbounded rows): the next one only gets what budget is left
                    continue;
                }
                visitor.PendingCount = 0;
                await table.Client.UpdateEntityAsync(visitor, visitor.ETag, TableUpdateMode.Replace, cancellationToken);
                LogVisitorAttached(logger, visitorKey, leadId, moved);
                return;
            }
            catch (Exception ex) when (ex is TableTransactionFailedException { Status: 404 or 412 } or RequestFailedException { Status: 404 or 412 })
            {
                // Another delivery is moving the same visitor; what it moved is already applied, so read again and go on.
                ThrowIfTooManyAttempts(attempt, visitorKey, ex);
                await BackOffAsync(attempt, cancellationToken);
                var current = await ReadAsync<VisitorEntity>(visitorKey, LeadRows.Visitor, cancellationToken);
                if (current is null || current.LeadId != leadId || current.PendingCount == 0)
                    return;
                visitor = current;
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="max"/> pending rows of each kind (the time-ordered ones, and an earlier version's), and whether
    /// either kind has more. One row more than kept is read, so a visitor at its bound needs no second look.
    /// </summary>
    private async Task<(List<VisitorEventEntity> Rows, bool More)> PendingPageAsync(string visitorKey, int max, CancellationToken cancellationToken)
    {
        var rows = new List<VisitorEventEntity>();
        var more = false;
        foreach (var (from, to) in new[] { (LeadRows.LegacyPendingPrefix, "e}"), (LeadRows.PendingPrefix, PendingEnd) })
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {visitorKey} and RowKey ge {from} and RowKey lt {to}");
            var count = 0;
            await foreach (var row in table.Client.QueryAsync<VisitorEventEntity>(filter, maxPerPage: max + 1, cancellationToken: cancellationToken))
            {
                if (count == max)
                {
                    more = true;
                    break;
                }
                rows.Add(row);
                count++;
            }
        }
        return (rows, more);
    }

    /// <summary>
    /// Applies events to one lead in as few transactions as fit, skipping those already applied.
    /// A claimed <paramref name="link"/> is recorded on the lead (most recent last), so later forms with that visitor id
    /// need no visitor read; an unclaimed one is only looked up.
    /// </summary>
    private async Task<ApplyResult> ApplyAsync(string leadId, IReadOnlyList<LeadEvent> events, VisitorLink? link, CancellationToken cancellationToken)
    {
        var gate = GateFor(leadId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await ApplyUnderLockAsync(leadId, events, link, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private SemaphoreSlim GateFor(string key) => _leadLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_leadLocks.Length)];

    private async Task<ApplyResult> ApplyUnderLockAsync(string leadId, IReadOnlyList<LeadEvent> events, VisitorLink? link, CancellationToken cancellationToken)
    {
        // The published model in force (cached, re-read every few seconds), or the model file when none is registered.
        var current = activeModel is null ? engine : (await activeModel.GetAsync(cancellationToken)).Engine;
        var remaining = events.ToList();
        var transitions = 0;
        var visitorWasLinked = true;
        var appliedAny = false;
        var firstRead = true;
        var redelivered = false;
        var chunk = Math.Min(remaining.Count, 10);

        for (var attempt = 0; remaining.Count > 0; attempt++)
        {
            // The row this instance committed last stands in for the read: the transaction's ETag check is what trusts it.
            var entity = cache?.TryGet(leadId);
            var remembered = entity is not null;
            var erased = false;
            if (entity is null)
                (entity, erased) = await ReadLeadAsync(leadId, cancellationToken);
            // A re-score changes a stored lead; it never creates one (an erased or unknown lead has nothing to re-score).
            if (entity is null && remaining.RemoveAll(e => e.Type == LeadEventTypes.ModelRescore) > 0 && remaining.Count == 0)
                return new ApplyResult(!appliedAny, visitorWasLinked, transitions);
            // Only an erased lead costs a second read, for the time of its erasure: its events from before are replays.
            if (entity is null && erased && await ReadAsync<Privacy.ErasureTombstoneEntity>(leadId, Privacy.ErasureTombstoneEntity.Row, cancellationToken) is { } tombstone)
            {
                remaining.RemoveAll(e => !Privacy.ErasurePolicy.MayRecreate(e, tombstone.ErasedAt));
                if (remaining.Count == 0)
                    return new ApplyResult(!appliedAny, visitorWasLinked, transitions) { Erased = !appliedAny };
            }
            var state = entity is null ? new LeadScoreState { LeadId = leadId } : LeadMapping.ToState(entity);
            var before = _projections.Length > 0 && entity is not null ? LeadProjectionWorkRows.Snapshot(state, current.Model.HalfLife) : null;
            // A re-score comes alone (one queue message, one event) and scores under the version it names.
            var rescoreEngine = remaining[0].Type == LeadEventTypes.ModelRescore ? await RescoreEngineAsync(remaining[0], cancellationToken) : null;
            var replay = rescoreEngine is null ? null : await StoredEventsAsync(leadId, rescoreEngine.Model, cancellationToken);
            if (link is not null && firstRead)
                visitorWasLinked = state.LinkedVisitors.Contains(link.VisitorKey);
            firstRead = false;

            var now = time.GetUtcNow();
            var take = Math.Min(chunk, remaining.Count);
            var actions = new List<TableTransactionAction>(8);
            var changes = new List<StageChange>();
            var changeTypes = new List<string>();
            var consentChanges = new List<ConsentChange>();
            var outcome = new ScoringOutcome();
            var scoredBy = rescoreEngine ?? current;
            if (rescoreEngine is not null)
                take = 1;
            foreach (var e in remaining.Take(take))
            {
                if (rescoreEngine is not null)
                    LeadRescore.Apply(state, e, replay!, rescoreEngine.Model, HalfLifeOf(entity, current.Model), now, outcome);
                else
                    current.Apply(state, e, now, outcome);
                actions.Add(new(TableTransactionActionType.Add, AppliedRow(leadId, e, now, scoredBy.Model.Version)));
                for (var i = 0; i < outcome.Awards.Count; i++)
                    actions.Add(new(TableTransactionActionType.Add, LeadMapping.ToEntity(leadId, outcome.Awards[i], i, scoredBy.Model.Version)));
                for (var i = 0; i < outcome.Transitions.Count; i++)
                {
                    actions.Add(new(TableTransactionActionType.Add, LeadMapping.ToEntity(leadId, outcome.Transitions[i], e.EventId, i)));
                    changes.Add(outcome.Transitions[i]);
                    changeTypes.Add(e.Type);
                }
                consentChanges.AddRange(outcome.ConsentChanges);
            }
            if (link is not null && (link.Claimed || state.LinkedVisitors.Contains(link.VisitorKey)))
                state.TouchLinkedVisitor(link.VisitorKey);
            foreach (var recorder in _recorders)
            {
                foreach (var row in await recorder.RowsAsync(leadId, [.. remaining.Take(take)], cancellationToken))
                    actions.Add(new(TableTransactionActionType.UpsertReplace, row));
            }

            // Room for the lead row, and the pending-work row when projections are registered.
            if (actions.Count + (_projections.Length > 0 ? 2 : 1) > MaxTransactionActions)
            {
                if (take == 1)
                    throw new InvalidOperationException($"Event {remaining[0].EventId} produces {actions.Count} rows, more than one transaction holds.");
                chunk = Math.Max(1, take / 2);
                continue;
            }

            // Bounded before the observers see the lead, and measured before the write, so no write fails for size.
            var leadRow = LeadRowBounds.ToEntity(state, scoredBy.Model, options.Value.MaxLinkedVisitors, entity?.ETag ?? default);
            leadRow.PointsModelVersion = PointsVersion.Next(entity?.PointsModelVersion, entity?.ModelVersion, scoredBy.Model.Version, rescoreEngine is not null);
            actions.Add(entity is null
                ? new(TableTransactionActionType.Add, leadRow)
                : new(TableTransactionActionType.UpdateReplace, leadRow, entity.ETag));

            var work = _projections.Length > 0 ? ProjectionWork(leadId, remaining[take - 1], now, before, state, changes, changeTypes, scoredBy.Model) : null;
            if (work is not null)
            {
                if (work.Row.WorkJson.Length >= LeadRowBounds.MaxStringLength)
                {
                    if (take == 1)
                        throw new InvalidOperationException($"Event {remaining[0].EventId} produces projection work larger than a property holds.");
                    chunk = Math.Max(1, take / 2);
                    continue;
                }
                // The latest snapshot-only work replaces the one before it (whether that ran or not); any other is a row of its own.
                actions.Add(new(work.Latest ? TableTransactionActionType.UpsertReplace : TableTransactionActionType.Add, work.Row));
            }

            if ((changes.Count > 0 || consentChanges.Count > 0) && _observers.Length > 0 && remembered)
            {
                // Observers write outside the partition before the commit, which a stale memory's failed transaction would not undo
                // (work scheduled for an erased lead, or from a state another instance has moved on from): they act only on a lead
                // just read, as they did before the memory.
                cache?.Forget(leadId);
                continue;
            }
            if ((changes.Count > 0 || consentChanges.Count > 0) && _observers.Length > 0)
            {
                // Observers schedule follow-up work before the commit, so a crash right after it loses nothing.
                var summary = state.ToSummary(now, scoredBy.Model.HalfLife);
                foreach (var change in changes)
                {
                    foreach (var observer in _observers)
                        await observer.OnStageChangingAsync(summary, change, cancellationToken);
                }
                foreach (var change in consentChanges)
                {
                    foreach (var observer in _observers)
                        await observer.OnConsentChangingAsync(summary, change, cancellationToken);
                }
            }

            PendingWork? committed = null;
            try
            {
                var leadAction = actions.FindIndex(a => ReferenceEquals(a.Entity, leadRow));
                Response<IReadOnlyList<Response>> response;
                try
                {
                    response = await table.Client.SubmitTransactionAsync(actions, cancellationToken);
                }
                catch
                {
                    // Failed, or maybe committed without our hearing it: either way the remembered row may be stale.
                    cache?.Forget(leadId);
                    throw;
                }
                cache?.Remember(leadRow, response.Value.Count == actions.Count ? response.Value[leadAction].Headers.ETag : null);
                remaining.RemoveRange(0, take);
                transitions += changes.Count;
                appliedAny = true;
                attempt = -1;
                committed = work;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 || (ex.Status == 404 && entity is not null))
            {
                // 404 on an update: the lead row went since it was read or remembered (an erasure); the next read sees the tombstone.
                if (ex.Status == 409)
                {
                    // Some of these events are already applied (a redelivery): drop them and apply the rest.
                    var dropped = 0;
                    foreach (var e in remaining.Take(take).ToList())
                    {
                        if (await ExistsAsync(leadId, LeadRows.Applied(e.EventId), cancellationToken))
                        {
                            remaining.Remove(e);
                            dropped++;
                        }
                    }
                    if (dropped > 0)
                    {
                        redelivered = true;
                        continue;
                    }
                    // Otherwise the lead row was created by a concurrent event since we read it; anything else is unexpected.
                    if (entity is not null || !await LeadRowExistsAsync(leadId, cancellationToken))
                        throw;
                }
                LogConcurrentUpdate(logger, leadId, attempt);
                ThrowIfTooManyAttempts(attempt, leadId, ex);
                await BackOffAsync(attempt, cancellationToken);
            }
            // Outside the try: a projection's own storage conflict must not read as this lead's.
            if (committed is not null)
                await RunWorkAsync(committed.Work, committed.Row.RowKey, cancellationToken);
        }

        // A redelivery: the first delivery may have died between its commit and its projections.
        if (redelivered && _projections.Length > 0)
            await RunPendingWorkAsync(leadId, cancellationToken);
        return new ApplyResult(!appliedAny, visitorWasLinked, transitions);
    }

    /// <summary>The work of one transaction, or null when nothing a projection sees changed.</summary>
    private static PendingWork? ProjectionWork(string leadId, LeadEvent last, DateTimeOffset now, LeadSnapshot? before, LeadScoreState state,
        List<StageChange> changes, List<string> changeTypes, ScoringModel model)
    {
        var after = LeadProjectionWorkRows.Snapshot(state, model.HalfLife);
        if (changes.Count == 0 && !LeadProjectionWorkRows.Matters(before, after))
            return null;
        // Keyed by the transaction's last event: each event commits once, so it is the last of at most one transaction.
        var work = new LeadProjectionWork(leadId, last.EventId, now, before, after,
            LeadProjectionWorkRows.Transitions(before, [.. changes.Zip(changeTypes)]));
        var latest = LeadProjectionWorkRows.IsSnapshotOnly(work);
        return new PendingWork(work, new ProjectionWorkEntity
        {
            PartitionKey = leadId,
            RowKey = latest ? LeadProjectionWorkRows.LatestSnapshot : LeadProjectionWorkRows.RowKey(last.EventId),
            WorkJson = LeadProjectionWorkRows.Serialize(work),
            EventCount = after.EventCount,
        }, latest);
    }

    /// <summary>
    /// Runs every projection, then deletes the work row; a projection that throws leaves the row for the queue's retry. The
    /// latest-snapshot row stays: deleting it would cost the request it exists to save, and a later work may have replaced it
    /// since it was read (running it again is a version-checked no-op).
    /// </summary>
    private async Task RunWorkAsync(LeadProjectionWork work, string rowKey, CancellationToken cancellationToken)
    {
        foreach (var projection in _projections)
            await projection.ProjectAsync(work, cancellationToken);
        if (rowKey == LeadProjectionWorkRows.LatestSnapshot)
            return;
        try
        {
            await table.Client.DeleteEntityAsync(work.LeadId, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Another delivery finished it first.
        }
    }

    /// <summary>The lead's pending work (one bounded range read), oldest first, run and deleted (the latest snapshot is run and kept).</summary>
    private async Task RunPendingWorkAsync(string leadId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadProjectionWorkRows.Prefix} and RowKey lt {LeadProjectionWorkRows.End}");
        var rows = new List<ProjectionWorkEntity>();
        await foreach (var page in table.Client.QueryAsync<ProjectionWorkEntity>(filter, maxPerPage: LeadProjectionWorkRows.MaxReadPerDelivery, cancellationToken: cancellationToken).AsPages())
        {
            rows.AddRange(page.Values);
            break;
        }
        foreach (var row in rows.OrderBy(r => r.EventCount))
        {
            LogPendingWork(logger, leadId, row.RowKey);
            await RunWorkAsync(LeadProjectionWorkRows.Deserialize(row.WorkJson), row.RowKey, cancellationToken);
        }
    }

    /// <param name="Latest">The work goes in the lead's latest-snapshot row (upserted, kept), not a row of its own.</param>
    private sealed record PendingWork(LeadProjectionWork Work, ProjectionWorkEntity Row, bool Latest);

    private static TimeSpan HalfLifeOf(LeadEntity? entity, ScoringModel model) =>
        entity is { HalfLifeSeconds: > 0 } ? TimeSpan.FromSeconds(entity.HalfLifeSeconds) : model.HalfLife;

    /// <summary>The engine of the version a re-score event names; a version that is not stored is a malformed event (parked).</summary>
    private async Task<ScoringEngine> RescoreEngineAsync(LeadEvent e, CancellationToken cancellationToken)
    {
        var version = e.Property(LeadRescore.TargetVersionProperty);
        if (string.IsNullOrEmpty(version))
            throw new MalformedLeadEventException("a model-rescore event names no modelVersion.");
        if (activeModel is null)
        {
            return version == engine.Model.Version
                ? engine
                : throw new MalformedLeadEventException($"model {version} is not the model this processor scores with.");
        }
        var model = await activeModel.GetVersionAsync(version, cancellationToken)
            ?? throw new MalformedLeadEventException($"model {version} is not a published version.");
        return new ScoringEngine(model);
    }

    /// <summary>
    /// The lead's applied events replayed under the re-score's model, streamed in applied order a bounded window at a time
    /// (<see cref="StoredEventStream"/>): only the replay's state is kept, whatever the number of stored events.
    /// </summary>
    private Task<RescoreReplay> StoredEventsAsync(string leadId, ScoringModel target, CancellationToken cancellationToken) =>
        LeadRescore.FoldAsync(leadId, target, new StoredEventStream(table.Client) { OnUnreadable = (id, problem) => LogStoredEventUnreadable(logger, id, problem) }
            .ReadAsync(leadId, cancellationToken), cancellationToken);

    private static AppliedEventEntity AppliedRow(string leadId, LeadEvent e, DateTimeOffset now, string modelVersion)
    {
        var json = LeadEventJson.Serialize(e);
        return new AppliedEventEntity
        {
            PartitionKey = leadId,
            RowKey = LeadRows.Applied(e.EventId),
            EventId = e.EventId,
            EventType = e.Type,
            OccurredAt = e.OccurredAt,
            AppliedAt = now,
            ModelVersion = modelVersion,
            EventJson = json.Length < LeadRowBounds.MaxStringLength ? json : null,
        };
    }

    /// <summary>
    /// The lead row, and whether an erasure tombstone is there, in one request: the tombstone sorts just before the lead row
    /// (<c>!erased</c>, <c>!lead</c>), so one range of the partition holds both, and a new lead costs one read, not two.
    /// Every page is followed (a query may answer with an empty page and a continuation); the range holds a few rows at most.
    /// </summary>
    private async Task<(LeadEntity? Lead, bool Erased)> ReadLeadAsync(string leadId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {Privacy.ErasureTombstoneEntity.Row} and RowKey le {LeadRows.Lead}");
        LeadEntity? lead = null;
        var erased = false;
        await foreach (var row in table.Client.QueryAsync<LeadEntity>(filter, maxPerPage: 10, cancellationToken: cancellationToken))
        {
            if (row.RowKey == LeadRows.Lead)
                lead = row;
            else if (row.RowKey == Privacy.ErasureTombstoneEntity.Row)
                erased = true;
        }
        return (lead, erased);
    }

    private async Task<T?> ReadAsync<T>(string partitionKey, string rowKey, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        var response = await table.Client.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    private async Task<bool> ExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken) =>
        (await table.Client.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, ["PartitionKey"], cancellationToken)).HasValue;

    private Task<bool> LeadRowExistsAsync(string leadId, CancellationToken cancellationToken) => ExistsAsync(leadId, LeadRows.Lead, cancellationToken);

    /// <summary>Random, growing pauses spread out writers contending for one lead, so each retry has a fair chance.</summary>
    private static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + Math.Min(attempt, 20) * 5)), cancellationToken);

    private void ThrowIfTooManyAttempts(int attempt, string key, Exception ex)
    {
        if (attempt + 1 >= options.Value.MaxConcurrencyRetries)
            throw new InvalidOperationException($"Gave up on {key} after {attempt + 1} concurrent-update conflicts; the queue will retry.", ex);
    }

    private sealed record ApplyResult(bool AlreadyApplied, bool VisitorWasLinked, int Transitions)
    {
        /// <summary>The lead was erased and none of the events may re-create it.</summary>
        public bool Erased { get; init; }
    }

    /// <param name="Claimed">The lead owns the visitor (its history is being moved); otherwise it is only refreshed if already linked.</param>
    private sealed record VisitorLink(string VisitorKey, bool Claimed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied event {EventId} ({EventType}) to lead {LeadId} with {Transitions} stage change(s)")]
    private static partial void LogApplied(ILogger logger, string eventId, string eventType, string leadId, int transitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} was already applied to lead {LeadId}; nothing to do")]
    private static partial void LogAlreadyApplied(ILogger logger, string eventId, string leadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kept anonymous event {EventId} for visitor {VisitorKey}")]
    private static partial void LogKeptForVisitor(ILogger logger, string eventId, string visitorKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Attached visitor {VisitorKey} to lead {LeadId} with {Count} pending event(s)")]
    private static partial void LogVisitorAttached(ILogger logger, string visitorKey, string leadId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Did not keep anonymous event {EventId} for visitor {VisitorKey}: {Reason}")]
    private static partial void LogNotKept(ILogger logger, string eventId, string visitorKey, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Visitor {VisitorKey} already belongs to another lead; lead {LeadId} gets nothing from it")]
    private static partial void LogVisitorOwnedElsewhere(ILogger logger, string visitorKey, string leadId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pending event {RowKey} of visitor {VisitorKey} is unreadable and was not attached: {Problem}")]
    private static partial void LogPendingUnreadable(ILogger logger, string visitorKey, string rowKey, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lead {LeadId} changed concurrently (attempt {Attempt}); re-reading")]
    private static partial void LogConcurrentUpdate(ILogger logger, string leadId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Running projection work {RowKey} of lead {LeadId} left pending by an earlier delivery")]
    private static partial void LogPendingWork(ILogger logger, string leadId, string rowKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stored event {EventId} is unreadable and is left out of the re-score: {Problem}")]
    private static partial void LogStoredEventUnreadable(ILogger logger, string eventId, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} for erased lead {LeadId} dropped: a replay of erased history")]
    private static partial void LogErasedLead(ILogger logger, string eventId, string leadId);
}

public enum LeadEventOutcome
{
    Applied,
    AlreadyApplied,
    /// <summary>Anonymous activity stored under the visitor until it converts.</summary>
    KeptForVisitor,
    /// <summary>Anonymous activity outside the visitor bounds (older than the history window, or than every pending event of a full visitor): kept nowhere.</summary>
    NotKept,
    /// <summary>The lead was erased and this event is from before (or is no fresh form submission): nothing was stored.</summary>
    ErasedLead,
}

public sealed record LeadEventResult(string? LeadId, LeadEventOutcome Outcome);
