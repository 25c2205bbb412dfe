using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Funnel;

/// <summary>What a cleanup run deleted.</summary>
public sealed record FunnelCleanupResult(int MarkersDeleted, int EpisodesDeleted);

/// <summary>
/// Keeps the counters table bounded: deletes exactly-once markers of transitions counted more than <c>Funnel:MarkerDays</c>
/// ago (a range query per shard, as their keys begin with the day) and markers of SQL episodes closed that long ago. Counter rows
/// are kept (one set per day and shard: a few hundred small rows a year). Runs with the retention timer; safe to overlap.
/// </summary>
public sealed partial class FunnelMaintenance(FunnelCountersTable table, IOptions<FunnelOptions> options, TimeProvider time, ILogger<FunnelMaintenance> logger)
{
    private const int MaxActionsPerTransaction = 100;

    public async Task<FunnelCleanupResult> PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Value.MarkerDays);
        var markers = 0;
        var episodes = 0;
        for (var shard = 0; shard < options.Value.Shards; shard++)
        {
            var partition = FunnelRows.Partition(shard);
            var markerTo = FunnelRows.MarkerPrefix + FunnelRows.DayKey(cutoff);
            markers += await DeleteAsync(partition,
                TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {FunnelRows.MarkerPrefix} and RowKey lt {markerTo}"), cancellationToken);
            episodes += await DeleteAsync(partition,
                TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {FunnelRows.EpisodePrefix} and RowKey lt {"f}"} and Closed eq {true} and ClosedAt lt {cutoff}"),
                cancellationToken);
        }
        if (markers + episodes > 0)
            LogPruned(logger, markers, episodes, options.Value.MarkerDays.ToString(CultureInfo.InvariantCulture));
        return new FunnelCleanupResult(markers, episodes);
    }

    private async Task<int> DeleteAsync(string partition, string filter, CancellationToken cancellationToken)
    {
        var deleted = 0;
        var batch = new List<TableTransactionAction>(MaxActionsPerTransaction);
        await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            batch.Add(new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All));
            if (batch.Count == MaxActionsPerTransaction)
                deleted += await SubmitAsync(batch, cancellationToken);
        }
        if (batch.Count > 0)
            deleted += await SubmitAsync(batch, cancellationToken);
        return deleted;
    }

    private async Task<int> SubmitAsync(List<TableTransactionAction> batch, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        try
        {
            await table.Client.SubmitTransactionAsync(batch, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404)
        {
            // An overlapping run deleted some of them first; the rest go on its or the next run.
            count = 0;
        }
        batch.Clear();
        return count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Funnel: deleted {Markers} transition markers and {Episodes} closed SQL episode markers older than {Days} days")]
    private static partial void LogPruned(ILogger logger, int markers, int episodes, string days);
}
