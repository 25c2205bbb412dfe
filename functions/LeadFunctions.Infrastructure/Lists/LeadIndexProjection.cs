using Azure;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>
/// Keeps the lead index (<see cref="LeadIndexRows"/>) in step with the processor. For every partition the lead is in after
/// the event, and every one it was in before, it reconciles that partition to <see cref="LeadProjectionWork.After"/> in one
/// entity-group transaction: the anchor (ETag-checked) and the lead's rows change together. A partition whose anchor already
/// reflects this or a later event is left alone, so a redelivered or late work never resurrects rows.
/// Cost: per partition touched, one point read and one transaction.
/// </summary>
internal sealed partial class LeadIndexProjection(LeadIndexTable table, ILogger<LeadIndexProjection> logger) : ILeadProjection
{
    private const int MaxAttempts = 8;

    public async Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var targets = LeadIndexRows.Partitions(work.After);
        var left = work.Before is null ? [] : LeadIndexRows.Partitions(work.Before).Except(targets, StringComparer.Ordinal);
        foreach (var partition in targets)
            await ReconcileAsync(partition, work, present: true, cancellationToken);
        foreach (var partition in left)
            await ReconcileAsync(partition, work, present: false, cancellationToken);
    }

    /// <summary>Writes the rows for the given snapshot straight away, for seeding an index in bulk; not version-checked.</summary>
    internal static IEnumerable<(string Partition, TableTransactionAction Action)> SeedActions(string leadId, LeadSnapshot lead)
    {
        foreach (var partition in LeadIndexRows.Partitions(lead))
        {
            var rows = RowsFor(partition, leadId, lead);
            foreach (var row in rows)
                yield return (partition, new TableTransactionAction(TableTransactionActionType.UpsertReplace, row));
            yield return (partition, new TableTransactionAction(TableTransactionActionType.UpsertReplace, Anchor(partition, leadId, lead.EventCount, rows)));
        }
    }

    private async Task ReconcileAsync(string partition, LeadProjectionWork work, bool present, CancellationToken cancellationToken)
    {
        var version = work.After.EventCount;
        var deleteInBatch = true;
        for (var attempt = 0; ; attempt++)
        {
            var read = await table.Client.GetEntityIfExistsAsync<LeadIndexAnchorEntity>(partition, LeadIndexRows.Anchor(work.LeadId), cancellationToken: cancellationToken);
            var anchor = read.HasValue ? read.Value : null;
            if (anchor is not null && anchor.Version >= version)
            {
                LogStale(logger, work.LeadId, work.EventId, anchor.Version);
                return;
            }
            if (anchor is null && !present)
                return; // never held here, and not to be: nothing to take out

            var rows = present ? RowsFor(partition, work.LeadId, work.After) : [];
            var keep = rows.Select(r => r.RowKey).ToHashSet(StringComparer.Ordinal);
            var stale = new[] { anchor?.NewestKey, anchor?.ScoreRowKey }.OfType<string>().Where(k => !keep.Contains(k)).ToList();

            var actions = new List<TableTransactionAction>(5);
            if (deleteInBatch)
                actions.AddRange(stale.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, k), ETag.All)));
            actions.AddRange(rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
            var next = Anchor(partition, work.LeadId, version, rows);
            actions.Add(anchor is null
                ? new TableTransactionAction(TableTransactionActionType.Add, next)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, anchor.ETag));
            try
            {
                await table.Client.SubmitTransactionAsync(actions, cancellationToken);
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412 && attempt + 1 < MaxAttempts)
            {
                if (ex.Status == 404)
                {
                    // A row the anchor names is gone (an erasure or an earlier version's cleanup): take them out one by one.
                    deleteInBatch = false;
                    foreach (var key in stale)
                        await DeleteIfPresentAsync(partition, key, cancellationToken);
                }
                LogConflict(logger, work.LeadId, partition, ex.Status);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 + attempt * 10)), cancellationToken);
            }
        }
    }

    private async Task DeleteIfPresentAsync(string partition, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await table.Client.DeleteEntityAsync(partition, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone: what we wanted.
        }
    }

    private static List<LeadIndexEntity> RowsFor(string partition, string leadId, LeadSnapshot lead)
    {
        var scoreKey = LeadIndexRows.ScoreKey(lead.EngagementValue, lead.EngagementAnchor, lead.HalfLifeSeconds);
        return
        [
            LeadIndexRows.Row(partition, LeadIndexRows.Newest(lead.StageChangedAt, leadId), leadId, lead),
            LeadIndexRows.Row(partition, LeadIndexRows.Score(scoreKey, leadId), leadId, lead),
        ];
    }

    private static LeadIndexAnchorEntity Anchor(string partition, string leadId, int version, List<LeadIndexEntity> rows) => new()
    {
        PartitionKey = partition,
        RowKey = LeadIndexRows.Anchor(leadId),
        LeadId = leadId,
        Version = version,
        NewestKey = rows.FirstOrDefault(r => r.RowKey.StartsWith(LeadIndexRows.NewestPrefix, StringComparison.Ordinal))?.RowKey,
        ScoreRowKey = rows.FirstOrDefault(r => r.RowKey.StartsWith(LeadIndexRows.ScorePrefix, StringComparison.Ordinal))?.RowKey,
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Index work {EventId} of lead {LeadId} is older than the index (version {Version}); skipped")]
    private static partial void LogStale(ILogger logger, string leadId, string eventId, int version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Index partition {Partition} of lead {LeadId} changed meanwhile ({Status}); reading again")]
    private static partial void LogConflict(ILogger logger, string leadId, string partition, int status);
}
