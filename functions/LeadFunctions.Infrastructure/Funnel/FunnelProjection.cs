using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Funnel;

/// <summary>The funnel counters table, typed so it cannot be confused with another table.</summary>
public sealed record FunnelCountersTable(TableClient Client);

/// <summary>A transition could not be counted because other workers kept changing the same counters; the queue retries the event.</summary>
public sealed class FunnelContentionException(string message) : Exception(message);

/// <summary>
/// Keeps the funnel counters (<see cref="FunnelRows"/>) from the stage changes the processor hands over, exactly once per
/// transition: each transition's counter changes are one entity-group transaction in the lead's shard partition, every counter
/// row written with the ETag it was read with, together with an insert of the transition's marker. A redelivered work finds its
/// marker (409) and counts nothing; a counter another worker changed meanwhile (412, or 409/404 on a row it created or deleted)
/// is re-read and tried again with back-off, at most <see cref="MaxAttempts"/> times, and then the work fails for the queue to
/// retry. What it counts and why is in docs/funnel.md.
/// <para>
/// One instance runs many works at once (the listener's 24 messages), and every new lead of a shard changes the same counter
/// rows, so its own workers would collide with each other, back off and give up. The instance therefore counts one transition
/// at a time per shard (a lock per shard: a few milliseconds of waiting instead of a conflict), and remembers the counter rows it
/// last wrote with the ETags its transactions returned, so the next transition of the shard computes from memory and writes
/// against those ETags without reading. The ETag check is what trusts the memory: a row another instance changed or deleted
/// since fails the transaction (412/404), the shard's memory is forgotten and the attempt reads as before. Conflicts are then
/// only between instances.
/// </para>
/// </summary>
internal sealed partial class FunnelProjection(
    FunnelCountersTable table,
    IOptions<FunnelOptions> options,
    ILogger<FunnelProjection> logger) : ILeadProjection
{
    public const int MaxAttempts = 10;

    /// <summary>
    /// Counter rows remembered per shard; over it the shard's memory is dropped but for the rows just written. A day's transitions
    /// touch at most about 20 rows of a shard (7 <c>now|</c> rows, the day's counts, histograms and first actions), plus the
    /// conversion rows of the days leads entered their stage and the open SQLs' minute rows, which come and go.
    /// </summary>
    public const int MaxRememberedRows = 64;

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly Shard[] _shards = [.. Enumerable.Range(0, options.Value.Shards).Select(_ => new Shard())];

    private TableClient Client => table.Client;

    /// <summary>How many counter rows the instance remembers for a shard (for tests; read while no work runs).</summary>
    internal int RememberedRows(int shard) => _shards[shard].Written.Count;

    public async Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var index = FunnelRows.ShardOf(work.LeadId, _shards.Length);
        var partition = FunnelRows.Partition(index);
        foreach (var transition in work.Transitions.OrderBy(t => t.Index))
            await CountAsync(_shards[index], partition, work, transition, cancellationToken);
    }

    private async Task CountAsync(Shard shard, string partition, LeadProjectionWork work, ProjectedTransition transition, CancellationToken cancellationToken)
    {
        var marker = FunnelRows.Marker(work.AppliedAt, work.EventId, transition.Index);
        for (var attempt = 1; ; attempt++)
        {
            // Outside the lock: the SQL episode row it may read belongs to this lead alone.
            var plan = await PlanAsync(partition, work.LeadId, transition, cancellationToken);
            if (plan.IsEmpty)
                return;
            int status;
            await shard.Lock.WaitAsync(cancellationToken);
            try
            {
                var actions = await plan.ActionsAsync(Client, partition, marker, shard.Written, cancellationToken);
                try
                {
                    var committed = await Client.SubmitTransactionAsync(actions.Actions, cancellationToken);
                    shard.Remember(actions, committed.Value);
                    return;
                }
                catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
                {
                    // Nothing of a failed transaction was written, so a redelivered work (its marker there) leaves the memory right.
                    if (ex.Status == 409 && await ExistsAsync(partition, marker, cancellationToken))
                    {
                        LogAlreadyCounted(logger, work.EventId, transition.Index);
                        return;
                    }
                    shard.Written.Clear();
                    status = ex.Status;
                }
                catch
                {
                    // A transaction that timed out may have committed: the remembered ETags could be stale (harmless, but a 412).
                    shard.Written.Clear();
                    throw;
                }
            }
            finally
            {
                shard.Lock.Release();
            }
            if (attempt >= MaxAttempts)
            {
                LogGaveUp(logger, work.EventId, transition.Index, attempt);
                throw new FunnelContentionException(
                    $"The funnel counters of event {work.EventId} (transition {transition.Index}) kept changing under {attempt} attempts; the event will be retried.");
            }
            LogConflict(logger, work.EventId, transition.Index, status, attempt);
            // Outside the lock: only another instance conflicts with this one, and this instance's other works may go meanwhile.
            await Task.Delay(Backoff(attempt), cancellationToken);
        }
    }

    /// <summary>One shard partition as this instance sees it: the lock its transitions take turns on, and the rows it last wrote.</summary>
    private sealed class Shard
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        /// <summary>Counter rows as this instance last wrote them, with the ETags their transaction returned. Used under <see cref="Lock"/> only.</summary>
        public Dictionary<string, TableEntity> Written { get; } = new(StringComparer.Ordinal);

        public void Remember(CounterActions actions, IReadOnlyList<Response> responses)
        {
            if (Written.Count + actions.Written.Count > MaxRememberedRows)
                Written.Clear();
            foreach (var (index, key, row) in actions.Written)
            {
                var etag = responses.Count == actions.Actions.Count ? responses[index].Headers.ETag : null;
                if (row is not null && etag is { } written)
                {
                    row.ETag = written;
                    Written[key] = row;
                }
                else
                    Written.Remove(key);
            }
        }
    }

    private static TimeSpan Backoff(int attempt)
    {
        var exponential = FirstBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var capped = Math.Min(exponential, MaxBackoff.TotalMilliseconds);
        // Jitter, so two workers that collided do not collide again at the same moment.
        return TimeSpan.FromMilliseconds(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    private async Task<bool> ExistsAsync(string partition, string rowKey, CancellationToken cancellationToken) =>
        (await Client.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, ["RowKey"], cancellationToken)).HasValue;

    /// <summary>What the transition changes, from the transition itself and, for a move out of SQL, the SQL episode's marker.</summary>
    private async Task<CounterPlan> PlanAsync(string partition, string leadId, ProjectedTransition t, CancellationToken cancellationToken)
    {
        var plan = new CounterPlan();
        string? episodeKey = null;
        TableEntity? episode = null;
        if (t.From == LifecycleStage.Sql && t.FromEnteredAt is { } stageChangedAt)
        {
            episodeKey = FunnelRows.Episode(leadId, stageChangedAt);
            var read = await Client.GetEntityIfExistsAsync<TableEntity>(partition, episodeKey, cancellationToken: cancellationToken);
            episode = read.HasValue ? read.Value : null;
        }
        var acted = episode?.GetBoolean(EpisodeColumns.Acted) == true;
        var closed = episode?.GetBoolean(EpisodeColumns.Closed) == true;
        // After an accept the lead's stage-changed time is the accept, so the SQL's real entry comes from the episode marker.
        var entered = episode?.GetDateTimeOffset(EpisodeColumns.Entered) ?? t.FromEnteredAt;

        if (t.From == t.To)
        {
            // Accept: the lead stays an SQL, but sales acted, which stops the SLA clock and may be the first action.
            if (t.To == LifecycleStage.Sql && t.BySales && episodeKey is not null && entered is { } sqlAt && !closed)
            {
                if (!acted)
                {
                    plan.Add(FunnelRows.FirstAction(t.At), FunnelBuckets.Property(FunnelBuckets.Of(t.At - sqlAt)), 1);
                    plan.Add(FunnelRows.Sla(sqlAt), FunnelRows.Count, -1, deleteAtZero: true);
                }
                var next = FunnelRows.Episode(leadId, t.At);
                if (next != episodeKey)
                    plan.SetEpisode(episodeKey, sqlAt, acted: true, closedAt: t.At);
                plan.SetEpisode(next, sqlAt, acted: true, closedAt: null);
            }
            return plan;
        }

        plan.Add(FunnelRows.Now(t.To), FunnelRows.Count, 1);
        plan.Add(FunnelRows.DayCounts(t.At), FunnelRows.Entries(t.To), 1);
        if (t.From is { } from)
        {
            plan.Add(FunnelRows.Now(from), FunnelRows.Count, -1);
            if (entered is { } fromAt)
            {
                plan.Add(FunnelRows.TimeInStage(t.At, from), FunnelBuckets.Property(FunnelBuckets.Of(t.At - fromAt)), 1);
                // Forward, even past the next stage (Lead -> SQL), converts the cohort of the day the lead entered the stage.
                if (t.To > from)
                    plan.Add(FunnelRows.DayCounts(fromAt), FunnelRows.Conversions(from), 1);
            }
            if (from == LifecycleStage.Sql && episodeKey is not null && entered is { } sqlAt && !closed)
            {
                if (!acted)
                {
                    if (t.BySales)
                        plan.Add(FunnelRows.FirstAction(t.At), FunnelBuckets.Property(FunnelBuckets.Of(t.At - sqlAt)), 1);
                    plan.Add(FunnelRows.Sla(sqlAt), FunnelRows.Count, -1, deleteAtZero: true);
                }
                // Kept closed for a while, so a late accept of this episode (projected out of order) counts nothing.
                plan.SetEpisode(episodeKey, sqlAt, acted || t.BySales, closedAt: t.At);
            }
        }
        if (t.To == LifecycleStage.Sql)
        {
            if (t.BySales)
                plan.SetEpisode(FunnelRows.Episode(leadId, t.At), t.At, acted: true, closedAt: null);
            else
                plan.Add(FunnelRows.Sla(t.At), FunnelRows.Count, 1, deleteAtZero: true);
        }
        return plan;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Funnel: event {EventId} transition {Index} was counted before; nothing counted again")]
    private static partial void LogAlreadyCounted(ILogger logger, string eventId, int index);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Funnel: counters of event {EventId} transition {Index} changed meanwhile ({Status}), attempt {Attempt}; re-reading")]
    private static partial void LogConflict(ILogger logger, string eventId, int index, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funnel: counters of event {EventId} transition {Index} kept changing for {Attempts} attempts; leaving it to the queue's retry")]
    private static partial void LogGaveUp(ILogger logger, string eventId, int index, int attempts);
}

internal static class EpisodeColumns
{
    public const string Entered = "Entered";
    public const string Acted = "Acted";
    public const string Closed = "Closed";
    public const string ClosedAt = "ClosedAt";
}

/// <summary>The rows one transition changes, merged by row key (a transaction may touch each row once).</summary>
internal sealed class CounterPlan
{
    private readonly Dictionary<string, (Dictionary<string, long> Deltas, bool DeleteAtZero)> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset Entered, bool Acted, DateTimeOffset? ClosedAt)> _episodes = new(StringComparer.Ordinal);

    public bool IsEmpty => _counters.Count == 0 && _episodes.Count == 0;

    public void Add(string rowKey, string property, long delta, bool deleteAtZero = false)
    {
        if (!_counters.TryGetValue(rowKey, out var row))
            _counters[rowKey] = row = (new Dictionary<string, long>(StringComparer.Ordinal), deleteAtZero);
        row.Deltas[property] = row.Deltas.GetValueOrDefault(property) + delta;
    }

    public void SetEpisode(string rowKey, DateTimeOffset entered, bool acted, DateTimeOffset? closedAt) =>
        _episodes[rowKey] = (entered, acted, closedAt);

    /// <summary>
    /// Reads every row not in <paramref name="remembered"/> (in parallel) and turns the plan into ETag-checked actions, the marker
    /// insert first. Counter rows come from memory when remembered; SQL episode rows, one lead's each, are always read.
    /// </summary>
    public async Task<CounterActions> ActionsAsync(TableClient client, string partition, string marker, IReadOnlyDictionary<string, TableEntity> remembered, CancellationToken cancellationToken)
    {
        var keys = _counters.Keys.Where(k => !remembered.ContainsKey(k)).Concat(_episodes.Keys).Distinct(StringComparer.Ordinal).ToList();
        var reads = await Task.WhenAll(keys.Select(async key =>
        {
            var read = await client.GetEntityIfExistsAsync<TableEntity>(partition, key, cancellationToken: cancellationToken);
            return (Key: key, Entity: read.HasValue ? read.Value : null);
        }));
        var current = reads.ToDictionary(r => r.Key, r => r.Entity, StringComparer.Ordinal);
        foreach (var key in _counters.Keys.Where(remembered.ContainsKey))
            current[key] = remembered[key];

        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, new TableEntity(partition, marker)) };
        var written = new List<(int Index, string Key, TableEntity? Row)>();
        foreach (var (key, (deltas, deleteAtZero)) in _counters)
        {
            var existing = current[key];
            var row = new TableEntity(partition, key);
            foreach (var (property, delta) in deltas)
                row[property] = (existing?.GetInt64(property) ?? 0) + delta;
            // Only single-count rows (open SQLs by minute) are deleted at zero, so their number stays that of open SQLs.
            var empty = deleteAtZero && deltas.Keys.All(p => (long)row[p] == 0);
            if (existing is null)
            {
                if (empty)
                    continue;
                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
                written.Add((actions.Count - 1, key, new TableEntity(row)));
            }
            else if (empty)
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, existing, existing.ETag));
                written.Add((actions.Count - 1, key, null));
            }
            else
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, row, existing.ETag));
                // The row as stored after the merge: the properties it had, with this transition's changed.
                var merged = new TableEntity(partition, key);
                foreach (var (property, value) in existing.Where(p => p.Key is not ("PartitionKey" or "RowKey" or "Timestamp") && !p.Key.Contains("odata", StringComparison.Ordinal)))
                    merged[property] = value;
                foreach (var (property, value) in row.Where(p => p.Key is not ("PartitionKey" or "RowKey")))
                    merged[property] = value;
                written.Add((actions.Count - 1, key, merged));
            }
        }
        foreach (var (key, (entered, acted, closedAt)) in _episodes)
        {
            var row = new TableEntity(partition, key)
            {
                [EpisodeColumns.Entered] = entered,
                [EpisodeColumns.Acted] = acted,
                [EpisodeColumns.Closed] = closedAt is not null,
            };
            if (closedAt is { } at)
                row[EpisodeColumns.ClosedAt] = at;
            var existing = current[key];
            actions.Add(existing is null
                ? new TableTransactionAction(TableTransactionActionType.Add, row)
                : new TableTransactionAction(TableTransactionActionType.UpdateMerge, row, existing.ETag));
        }
        return new CounterActions(actions, written);
    }
}

/// <summary>A transition's actions, and the counter rows they leave (by action index; null for a row deleted), to remember once committed.</summary>
internal sealed record CounterActions(List<TableTransactionAction> Actions, IReadOnlyList<(int Index, string Key, TableEntity? Row)> Written);
