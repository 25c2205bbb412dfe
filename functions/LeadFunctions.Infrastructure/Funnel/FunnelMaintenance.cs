using System.Globalization;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Storage;
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
    public async Task<FunnelCleanupResult> PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Value.MarkerDays);
        var markers = 0;
        var episodes = 0;
        for (var shard = 0; shard < options.Value.Shards; shard++)
        {
            var partition = FunnelRows.Partition(shard);
            var markerTo = FunnelRows.MarkerPrefix + FunnelRows.DayKey(cutoff);
            markers += await TableRowPruner.DeleteAsync(table.Client,
                TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {FunnelRows.MarkerPrefix} and RowKey lt {markerTo}"), cancellationToken);
            episodes += await TableRowPruner.DeleteAsync(table.Client,
                TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {FunnelRows.EpisodePrefix} and RowKey lt {"f}"} and Closed eq {true} and ClosedAt lt {cutoff}"),
                cancellationToken);
        }
        if (markers + episodes > 0)
            LogPruned(logger, markers, episodes, options.Value.MarkerDays.ToString(CultureInfo.InvariantCulture));
        return new FunnelCleanupResult(markers, episodes);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Funnel: deleted {Markers} transition markers and {Episodes} closed SQL episode markers older than {Days} days")]
    private static partial void LogPruned(ILogger logger, int markers, int episodes, string days);
}
