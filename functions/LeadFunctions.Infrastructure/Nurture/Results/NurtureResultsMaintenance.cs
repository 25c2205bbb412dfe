using System.Globalization;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture.Results;

/// <summary>
/// Keeps the results table bounded: deletes the exactly-once markers of messages sent more than <c>NurtureResults:MarkerDays</c>
/// (and a day) ago, one range query per shard, as their keys begin with the send day. Those messages are no longer counted, so
/// nothing can count them again. Counter rows stay: one per step and shard. Runs with the retention timer; safe to overlap.
/// </summary>
public sealed partial class NurtureResultsMaintenance(NurtureResultsTable table, IOptions<NurtureResultsOptions> options, TimeProvider time, ILogger<NurtureResultsMaintenance> logger)
{
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        // A day's margin past the counting limit, so a count running now cannot meet a marker being deleted.
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Value.MarkerDays + 1);
        var deleted = 0;
        for (var shard = 0; shard < options.Value.Shards; shard++)
        {
            var partition = NurtureResultRows.Partition(shard);
            var to = NurtureResultRows.MarkerPrefix + NurtureResultRows.DayKey(cutoff);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {NurtureResultRows.MarkerPrefix} and RowKey lt {to}");
            deleted += await TableRowPruner.DeleteAsync(table.Client, filter, cancellationToken);
        }
        if (deleted > 0)
            LogPruned(logger, deleted, options.Value.MarkerDays.ToString(CultureInfo.InvariantCulture));
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Nurture results: deleted {Markers} message markers older than {Days} days")]
    private static partial void LogPruned(ILogger logger, int markers, string days);
}
