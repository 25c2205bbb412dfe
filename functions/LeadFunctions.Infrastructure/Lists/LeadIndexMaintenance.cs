using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>What one cleanup of the lead index removed.</summary>
/// <param name="More">Records past the lifetime were left for the next run (the run's budget was spent).</param>
public sealed record LeadIndexCleanupResult(int MarkersDeleted, int RecordsDeleted, bool More);

/// <summary>
/// Keeps the lead index's erasure markers bounded (<see cref="LeadIndexErasureGuard"/>): deletes markers listed more than
/// <see cref="LeadIndexErasureGuard.MarkerLifetime"/> ago, oldest first, at most <see cref="MaxRecordsPerRun"/> per run. It keeps
/// no resume point of its own: the records still there are what is left, so a run that stops part way is resumed by the next
/// one, and overlapping runs are harmless. A marker is deleted only while it is still that erasure's marker (ETag-checked): a
/// lead created again since replaced it with its own anchor, and a later erasure wrote its own marker, with its own record.
/// Runs with the retention timer.
/// </summary>
public sealed partial class LeadIndexMaintenance(LeadIndexTable table, TimeProvider time, ILogger<LeadIndexMaintenance> logger)
{
    /// <summary>One record is a point read and at most one delete; the records go in transactions of up to 100.</summary>
    public const int MaxRecordsPerRun = 5000;

    private const int MaxTransactionActions = 100;
    private const int MaxParallel = 8;

    public async Task<LeadIndexCleanupResult> PruneAsync(CancellationToken cancellationToken) => await PruneAsync(MaxRecordsPerRun, cancellationToken);

    internal async Task<LeadIndexCleanupResult> PruneAsync(int budget, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - LeadIndexErasureGuard.MarkerLifetime;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {LeadIndexErasureGuard.RecordPartition} and RowKey lt {LeadIndexErasureGuard.TimeKey(cutoff)}");
        var records = new List<LeadIndexErasureRecordEntity>();
        var more = false;
        await foreach (var record in table.Client.QueryAsync<LeadIndexErasureRecordEntity>(filter, maxPerPage: Math.Min(budget, 1000), cancellationToken: cancellationToken))
        {
            if (records.Count == budget)
            {
                more = true;
                break;
            }
            records.Add(record);
        }

        var markers = 0;
        await Parallel.ForEachAsync(records, new ParallelOptions { MaxDegreeOfParallelism = MaxParallel, CancellationToken = cancellationToken }, async (record, ct) =>
        {
            if (await DeleteMarkerAsync(record, ct))
                Interlocked.Increment(ref markers);
        });

        var deleted = 0;
        foreach (var chunk in records.Chunk(MaxTransactionActions))
        {
            try
            {
                await table.Client.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
                deleted += chunk.Length;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // An overlapping run deleted some of them first; what is left goes on the next run.
            }
        }
        if (records.Count > 0)
            LogPruned(logger, markers, deleted, more);
        return new LeadIndexCleanupResult(markers, deleted, more);
    }

    private async Task<bool> DeleteMarkerAsync(LeadIndexErasureRecordEntity record, CancellationToken cancellationToken)
    {
        var read = await table.Client.GetEntityIfExistsAsync<LeadIndexAnchorEntity>(record.MarkerPartition, LeadIndexRows.Anchor(record.LeadId), cancellationToken: cancellationToken);
        if (!read.HasValue || read.Value is not { IsErasureMarker: true } marker || marker.ErasedAt != record.ErasedAt)
            return false; // never written (a crash between), replaced by a re-created lead's anchor, or a later erasure's marker
        try
        {
            await table.Client.DeleteEntityAsync(marker.PartitionKey, marker.RowKey, marker.ETag, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Gone or replaced since the read (a re-created lead, an overlapping run): not this run's to delete.
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead index: deleted {Markers} erasure markers and {Records} of their records past their lifetime; more left: {More}")]
    private static partial void LogPruned(ILogger logger, int markers, int records, bool more);
}
