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
/// </summary>
internal sealed partial class FunnelProjection(
    FunnelCountersTable table,
    IOptions<FunnelOptions> options,
    ILogger<FunnelProjection> logger) : ILeadProjection
{
    public const int MaxAttempts = 10;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private TableClient Client => table.Client;

    public async Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var partition = FunnelRows.Partition(FunnelRows.ShardOf(work.LeadId, options.Value.Shards));
        foreach (var transition in work.Transitions.OrderBy(t => t.Index))
            await CountAsync(partition, work, transition, cancellationToken);
    }

    private async Task CountAsync(string partition, LeadProjectionWork work, ProjectedTransition transition, CancellationToken cancellationToken)
    {
        var marker = FunnelRows.Marker(work.AppliedAt, work.EventId, transition.Index);
        for (var attempt = 1; ; attempt++)
        {
            var plan = await PlanAsync(partition, work.LeadId, transition, cancellationToken);
            if (plan.IsEmpty)
                return;
            var actions = await plan.ActionsAsync(Client, partition, marker, cancellationToken);
            try
            {
                await Client.SubmitTransactionAsync(actions, cancellationToken);
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
            {
                if (ex.Status == 409 && await ExistsAsync(partition, marker, cancellationToken))
                {
                    LogAlreadyCounted(logger, work.EventId, transition.Index);
                    return;
                }
                if (attempt >= MaxAttempts)
                {
                    LogGaveUp(logger, work.EventId, transition.Index, attempt);
                    throw new FunnelContentionException(
                        $"The funnel counters of event {work.EventId} (transition {transition.Index}) kept changing under {attempt} attempts; the event will be retried.");
                }
                LogConflict(logger, work.EventId, transition.Index, ex.Status, attempt);
                await Task.Delay(Backoff(attempt), cancellationToken);
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

    /// <summary>Reads every row (in parallel) and turns the plan into ETag-checked actions, the marker insert first.</summary>
    public async Task<List<TableTransactionAction>> ActionsAsync(TableClient client, string partition, string marker, CancellationToken cancellationToken)
    {
        var keys = _counters.Keys.Concat(_episodes.Keys).Distinct(StringComparer.Ordinal).ToList();
        var reads = await Task.WhenAll(keys.Select(async key =>
        {
            var read = await client.GetEntityIfExistsAsync<TableEntity>(partition, key, cancellationToken: cancellationToken);
            return (Key: key, Entity: read.HasValue ? read.Value : null);
        }));
        var current = reads.ToDictionary(r => r.Key, r => r.Entity, StringComparer.Ordinal);

        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, new TableEntity(partition, marker)) };
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
                if (!empty)
                    actions.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
            }
            else if (empty)
                actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, existing, existing.ETag));
            else
                actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, row, existing.ETag));
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
        return actions;
    }
}
