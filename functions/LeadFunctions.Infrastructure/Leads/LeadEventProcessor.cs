using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Brings a lead up to date with one event from <c>lead-events</c>, exactly once.
/// <para>
/// Applying an event is one entity-group transaction in the lead's partition: add the applied-event row (keyed by event id),
/// add the ledger and history rows, and insert or ETag-update the lead row. A redelivered event fails on its applied-event
/// row (409) and is a no-op; a concurrent update fails on the ETag (412) and is re-read and re-applied, so none is lost.
/// The happy path costs one point read and one transaction.
/// </para>
/// Exceptions other than those two conflicts propagate, so the queue retries and finally poisons the message.
/// </summary>
public sealed partial class LeadEventProcessor(
    LeadsTable table,
    ScoringEngine engine,
    IEnumerable<IStageChangeObserver> observers,
    TimeProvider time,
    IOptions<ScoringOptions> options,
    ILogger<LeadEventProcessor> logger)
{
    /// <summary>An entity-group transaction holds at most 100 actions.</summary>
    private const int MaxTransactionActions = 100;

    /// <summary>Table property strings hold 64 KiB (32K UTF-16 characters).</summary>
    private const int MaxStoredJsonLength = 30_000;

    private readonly IStageChangeObserver[] _observers = [.. observers];

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
        var visitorKey = string.IsNullOrWhiteSpace(leadEvent.VisitorId) ? null : LeadKeys.VisitorKeyFor(leadEvent.VisitorId);

        if (leadId is null)
            return await ProcessAnonymousAsync(leadEvent, visitorKey!, cancellationToken);

        var applied = await ApplyAsync(leadId, [leadEvent], visitorKey, cancellationToken);
        if (applied.Erased)
        {
            LogErasedLead(logger, leadEvent.EventId, leadId);
            return new LeadEventResult(leadId, LeadEventOutcome.ErasedLead);
        }
        if (visitorKey is not null && (!applied.VisitorWasLinked || applied.AlreadyApplied))
            await AttachVisitorAsync(leadId, visitorKey, cancellationToken);

        if (applied.AlreadyApplied)
            LogAlreadyApplied(logger, leadEvent.EventId, leadId);
        else
            LogApplied(logger, leadEvent.EventId, leadEvent.Type, leadId, applied.Transitions);
        return new LeadEventResult(leadId, applied.AlreadyApplied ? LeadEventOutcome.AlreadyApplied : LeadEventOutcome.Applied);
    }

    private static string? ResolveLeadId(LeadEvent e)
    {
        if (e.Email is not null)
        {
            if (!EmailAddress.TryNormalize(e.Email, out var email))
                throw new MalformedLeadEventException("email is not a valid address.");
            return LeadKeys.LeadIdFor(email);
        }
        if (e.LeadId is not null)
        {
            if (!LeadKeys.IsLeadId(e.LeadId))
                throw new MalformedLeadEventException("leadId is not a lead id.");
            return e.LeadId;
        }
        return null;
    }

    /// <summary>Anonymous activity: routed to the lead if the visitor has converted, otherwise kept under the visitor.</summary>
    private async Task<LeadEventResult> ProcessAnonymousAsync(LeadEvent e, string visitorKey, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var visitor = await ReadAsync<VisitorEntity>(visitorKey, LeadRows.Visitor, cancellationToken);
            if (visitor?.LeadId is { } leadId)
            {
                var applied = await ApplyAsync(leadId, [e], null, cancellationToken);
                return new LeadEventResult(leadId, applied.AlreadyApplied ? LeadEventOutcome.AlreadyApplied : LeadEventOutcome.Applied);
            }

            var now = time.GetUtcNow();
            var pending = new VisitorEventEntity
            {
                PartitionKey = visitorKey,
                RowKey = LeadRows.Applied(e.EventId),
                EventJson = LeadEventJson.Serialize(e),
                OccurredAt = e.OccurredAt,
            };
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, pending) };
            if (visitor is null)
            {
                actions.Add(new(TableTransactionActionType.Add, new VisitorEntity { PartitionKey = visitorKey, LastSeenAt = now, PendingCount = 1 }));
            }
            else
            {
                visitor.LastSeenAt = now;
                visitor.PendingCount++;
                actions.Add(new(TableTransactionActionType.UpdateReplace, visitor, visitor.ETag));
            }

            try
            {
                await table.Client.SubmitTransactionAsync(actions, cancellationToken);
                LogKeptForVisitor(logger, e.EventId, visitorKey);
                return new LeadEventResult(null, LeadEventOutcome.KeptForVisitor);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
            {
                if (ex.Status == 409 && await ExistsAsync(visitorKey, pending.RowKey, cancellationToken))
                    return new LeadEventResult(null, LeadEventOutcome.AlreadyApplied);
                ThrowIfTooManyAttempts(attempt, visitorKey, ex);
                await BackOffAsync(attempt, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Moves a converted visitor's pending events into the lead (scored once: each becomes an applied-event row there)
    /// and points the visitor at the lead. The visitor row's ETag makes an event arriving meanwhile go round again.
    /// </summary>
    private async Task AttachVisitorAsync(string leadId, string visitorKey, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            VisitorEntity? visitor = null;
            var pending = new List<VisitorEventEntity>();
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {visitorKey}");
            await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                if (row.RowKey == LeadRows.Visitor)
                {
                    visitor = new VisitorEntity
                    {
                        PartitionKey = row.PartitionKey,
                        ETag = row.ETag,
                        LeadId = row.GetString(nameof(VisitorEntity.LeadId)),
                        LastSeenAt = row.GetDateTimeOffset(nameof(VisitorEntity.LastSeenAt)) ?? default,
                        PendingCount = row.GetInt32(nameof(VisitorEntity.PendingCount)) ?? 0,
                    };
                }
                else if (row.RowKey.StartsWith(LeadRows.AppliedPrefix, StringComparison.Ordinal))
                {
                    pending.Add(new VisitorEventEntity
                    {
                        PartitionKey = row.PartitionKey,
                        RowKey = row.RowKey,
                        ETag = row.ETag,
                        EventJson = row.GetString(nameof(VisitorEventEntity.EventJson)) ?? "",
                        OccurredAt = row.GetDateTimeOffset(nameof(VisitorEventEntity.OccurredAt)) ?? default,
                    });
                }
            }

            if (visitor?.LeadId == leadId && pending.Count == 0)
                return;

            // A visitor transaction holds the visitor row and up to 99 deletions.
            var batch = pending.OrderBy(p => p.OccurredAt).Take(MaxTransactionActions - 1).ToList();
            if (batch.Count > 0)
                await ApplyAsync(leadId, [.. batch.Select(p => LeadEventJson.Deserialize(p.EventJson))], visitorKey, cancellationToken);

            var actions = new List<TableTransactionAction>();
            if (visitor is null)
            {
                actions.Add(new(TableTransactionActionType.Add, new VisitorEntity { PartitionKey = visitorKey, LeadId = leadId, LastSeenAt = time.GetUtcNow() }));
            }
            else
            {
                visitor.LeadId = leadId;
                visitor.PendingCount = Math.Max(0, visitor.PendingCount - batch.Count);
                actions.Add(new(TableTransactionActionType.UpdateReplace, visitor, visitor.ETag));
            }
            actions.AddRange(batch.Select(p => new TableTransactionAction(TableTransactionActionType.Delete, p, p.ETag)));

            try
            {
                await table.Client.SubmitTransactionAsync(actions, cancellationToken);
                LogVisitorAttached(logger, visitorKey, leadId, batch.Count);
                if (batch.Count == pending.Count)
                    return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
            {
                ThrowIfTooManyAttempts(attempt, visitorKey, ex);
                await BackOffAsync(attempt, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Applies events to one lead in as few transactions as fit, skipping those already applied.
    /// <paramref name="linkVisitorKey"/> is recorded on the lead so later events from that visitor need no visitor read.
    /// </summary>
    private async Task<ApplyResult> ApplyAsync(string leadId, IReadOnlyList<LeadEvent> events, string? linkVisitorKey, CancellationToken cancellationToken)
    {
        var gate = _leadLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(leadId) % (uint)_leadLocks.Length)];
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await ApplyUnderLockAsync(leadId, events, linkVisitorKey, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<ApplyResult> ApplyUnderLockAsync(string leadId, IReadOnlyList<LeadEvent> events, string? linkVisitorKey, CancellationToken cancellationToken)
    {
        var remaining = events.ToList();
        var transitions = 0;
        var visitorWasLinked = true;
        var appliedAny = false;
        var firstRead = true;
        var chunk = Math.Min(remaining.Count, 10);

        for (var attempt = 0; remaining.Count > 0; attempt++)
        {
            var entity = await ReadAsync<LeadEntity>(leadId, LeadRows.Lead, cancellationToken);
            // Only a missing lead costs a second read: was it erased? Then its old events are replays and create nothing.
            if (entity is null && await ReadAsync<Privacy.ErasureTombstoneEntity>(leadId, Privacy.ErasureTombstoneEntity.Row, cancellationToken) is { } tombstone)
            {
                remaining.RemoveAll(e => !Privacy.ErasurePolicy.MayRecreate(e, tombstone.ErasedAt));
                if (remaining.Count == 0)
                    return new ApplyResult(!appliedAny, visitorWasLinked, transitions) { Erased = !appliedAny };
            }
            var state = entity is null ? new LeadScoreState { LeadId = leadId } : LeadMapping.ToState(entity);
            if (linkVisitorKey is not null && firstRead)
                visitorWasLinked = state.LinkedVisitors.Contains(linkVisitorKey);
            firstRead = false;

            var now = time.GetUtcNow();
            var take = Math.Min(chunk, remaining.Count);
            var actions = new List<TableTransactionAction>(8);
            var changes = new List<StageChange>();
            var consentChanges = new List<ConsentChange>();
            var outcome = new ScoringOutcome();
            foreach (var e in remaining.Take(take))
            {
                engine.Apply(state, e, now, outcome);
                actions.Add(new(TableTransactionActionType.Add, AppliedRow(leadId, e, now)));
                for (var i = 0; i < outcome.Awards.Count; i++)
                    actions.Add(new(TableTransactionActionType.Add, LeadMapping.ToEntity(leadId, outcome.Awards[i], i, engine.Model.Version)));
                for (var i = 0; i < outcome.Transitions.Count; i++)
                {
                    actions.Add(new(TableTransactionActionType.Add, LeadMapping.ToEntity(leadId, outcome.Transitions[i], e.EventId, i)));
                    changes.Add(outcome.Transitions[i]);
                }
                consentChanges.AddRange(outcome.ConsentChanges);
            }
            if (linkVisitorKey is not null)
                state.LinkedVisitors.Add(linkVisitorKey);

            if (actions.Count + 1 > MaxTransactionActions)
            {
                if (take == 1)
                    throw new InvalidOperationException($"Event {remaining[0].EventId} produces {actions.Count} rows, more than one transaction holds.");
                chunk = Math.Max(1, take / 2);
                continue;
            }

            var leadRow = LeadMapping.ToEntity(state, engine.Model.HalfLife, entity?.ETag ?? default);
            actions.Add(entity is null
                ? new(TableTransactionActionType.Add, leadRow)
                : new(TableTransactionActionType.UpdateReplace, leadRow, entity.ETag));

            if ((changes.Count > 0 || consentChanges.Count > 0) && _observers.Length > 0)
            {
                // Observers schedule follow-up work before the commit, so a crash right after it loses nothing.
                var summary = state.ToSummary(now, engine.Model.HalfLife);
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

            try
            {
                await table.Client.SubmitTransactionAsync(actions, cancellationToken);
                remaining.RemoveRange(0, take);
                transitions += changes.Count;
                appliedAny = true;
                attempt = -1;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
            {
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
                        continue;
                    // Otherwise the lead row was created by a concurrent event since we read it; anything else is unexpected.
                    if (entity is not null || !await LeadRowExistsAsync(leadId, cancellationToken))
                        throw;
                }
                LogConcurrentUpdate(logger, leadId, attempt);
                ThrowIfTooManyAttempts(attempt, leadId, ex);
                await BackOffAsync(attempt, cancellationToken);
            }
        }

        return new ApplyResult(!appliedAny, visitorWasLinked, transitions);
    }

    private AppliedEventEntity AppliedRow(string leadId, LeadEvent e, DateTimeOffset now)
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
            ModelVersion = engine.Model.Version,
            EventJson = json.Length <= MaxStoredJsonLength ? json : null,
        };
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied event {EventId} ({EventType}) to lead {LeadId} with {Transitions} stage change(s)")]
    private static partial void LogApplied(ILogger logger, string eventId, string eventType, string leadId, int transitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} was already applied to lead {LeadId}; nothing to do")]
    private static partial void LogAlreadyApplied(ILogger logger, string eventId, string leadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kept anonymous event {EventId} for visitor {VisitorKey}")]
    private static partial void LogKeptForVisitor(ILogger logger, string eventId, string visitorKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Attached visitor {VisitorKey} to lead {LeadId} with {Count} pending event(s)")]
    private static partial void LogVisitorAttached(ILogger logger, string visitorKey, string leadId, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lead {LeadId} changed concurrently (attempt {Attempt}); re-reading")]
    private static partial void LogConcurrentUpdate(ILogger logger, string leadId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} for erased lead {LeadId} dropped: a replay of erased history")]
    private static partial void LogErasedLead(ILogger logger, string eventId, string leadId);
}

public enum LeadEventOutcome
{
    Applied,
    AlreadyApplied,
    /// <summary>Anonymous activity stored under the visitor until it converts.</summary>
    KeptForVisitor,
    /// <summary>The lead was erased and this event is from before (or is no fresh form submission): nothing was stored.</summary>
    ErasedLead,
}

public sealed record LeadEventResult(string? LeadId, LeadEventOutcome Outcome);
