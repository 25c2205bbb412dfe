using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Workspace;

/// <summary>
/// What one access-log sweep did. <see cref="StoppedBy"/> is <c>page budget</c> or <c>overlapping run</c> when the run stopped
/// before the end of the table, null when it finished a pass.
/// </summary>
public sealed record AccessLogRetentionResult(
    int PagesRead,
    int RowsRead,
    int DeletedAsOld,
    int DeletedOverCap,
    int Conflicts,
    bool PassCompleted,
    string? StoppedBy = null);

/// <summary>The access log's part of the retention timer.</summary>
public interface IAccessLogRetention
{
    Task<AccessLogRetentionResult> RunOnceAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Keeps the access log bounded: deletes rows whose latest access is older than <see cref="WorkspaceOptions.AccessLogDays"/>, and
/// in each lead's partition every row beyond the newest <see cref="WorkspaceOptions.AccessLogRowsPerLead"/>.
/// <para>
/// Always on, unlike the lead retention (<c>Retention:*</c>, off until the company chooses): the log is the app's own record, and
/// "every stored list has a bound" holds for it whatever the company decides about leads. Its own sweep rather than part of the
/// leads-table scan because it is another table, and the cap needs every row's key in order (rows are newest first within a
/// lead, so "beyond the newest N" is "after the N-th row of the partition"); a server-side filter could find old rows but not
/// count. It reads keys and two dates only, at most <see cref="WorkspaceOptions.AccessLogPagesPerRun"/> pages of 1,000 per
/// run, deletes in entity-group transactions of at most 100 rows of one partition, and resumes from a state row written with
/// its ETag after every page, with the count of the partition it stopped in, so a lead spanning two runs is counted once.
/// </para>
/// </summary>
internal sealed partial class AccessLogRetention(
    AccessLogTable table,
    IOptions<WorkspaceOptions> options,
    TimeProvider time,
    ILogger<AccessLogRetention> logger,
    int pageSize = AccessLogRetention.PageSize) : IAccessLogRetention
{
    public const int PageSize = 1000;
    private const int MaxActionsPerTransaction = 100;

    private static readonly string[] ScanColumns =
        ["PartitionKey", "RowKey", nameof(AccessLogEntity.At), nameof(AccessLogEntity.LastAt)];

    public async Task<AccessLogRetentionResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var cutoff = time.GetUtcNow().AddDays(-settings.AccessLogDays);
        var run = new Counters();
        var state = await ReadStateAsync(cancellationToken);
        if (state is null)
            return new AccessLogRetentionResult(0, 0, 0, 0, 0, PassCompleted: false); // the table does not exist (yet): nothing to keep bounded

        var pages = table.Client.QueryAsync<TableEntity>(filter: (string?)null, maxPerPage: pageSize, select: ScanColumns, cancellationToken: cancellationToken)
            .AsPages(state.Continuation, pageSize);
        string? stoppedBy = "page budget";
        var passCompleted = false;
        await foreach (var page in pages.WithCancellation(cancellationToken))
        {
            run.Pages++;
            run.Rows += page.Values.Count;
            // A query returns rows in key order, so each partition's rows are contiguous and newest first.
            string? lastPartition = null;
            var lastCount = 0;
            foreach (var partition in page.Values.GroupBy(r => r.PartitionKey, StringComparer.Ordinal))
            {
                if (partition.Key == AccessLogSweepEntity.Partition)
                    continue;
                var seen = state.CarriedPartition is not null && state.CarriedPartition == PartitionHash(partition.Key) ? state.CarriedCount : 0;
                var capped = LeadIdentity.IsLeadId(partition.Key); // day partitions (lists, lead-less) are bounded by folding and by age
                var doomed = new List<(string RowKey, bool OverCap)>();
                foreach (var row in partition)
                {
                    if (capped && seen >= settings.AccessLogRowsPerLead)
                        doomed.Add((row.RowKey, true));
                    else if ((row.GetDateTimeOffset(nameof(AccessLogEntity.LastAt)) ?? row.GetDateTimeOffset(nameof(AccessLogEntity.At))) < cutoff)
                        doomed.Add((row.RowKey, false));
                    seen++;
                }
                await DeleteAsync(partition.Key, doomed, run, cancellationToken);
                lastPartition = partition.Key;
                lastCount = seen;
            }

            state.Continuation = page.ContinuationToken;
            // Only a partition the page ended in can continue on the next page; its count so far travels with the resume point.
            // An empty page (storage may return one at a server boundary) changes nothing about where the scan is.
            if (state.Continuation is null)
                (state.CarriedPartition, state.CarriedCount) = (null, 0);
            else if (lastPartition is not null)
                (state.CarriedPartition, state.CarriedCount) = (PartitionHash(lastPartition), lastCount);
            if (state.Continuation is null)
            {
                state.PassesCompleted++;
                state.LastPassCompletedAt = time.GetUtcNow();
                passCompleted = true;
            }
            if (!await TrySaveStateAsync(state, cancellationToken))
            {
                stoppedBy = "overlapping run";
                break;
            }
            if (passCompleted)
            {
                stoppedBy = null;
                break;
            }
            if (run.Pages >= settings.AccessLogPagesPerRun)
                break;
        }

        var result = new AccessLogRetentionResult(run.Pages, run.Rows, run.Old, run.OverCap, run.Conflicts, passCompleted, stoppedBy);
        LogRun(logger, result.PagesRead, result.RowsRead, result.DeletedAsOld, result.DeletedOverCap, settings.AccessLogDays, settings.AccessLogRowsPerLead,
            result.Conflicts, result.StoppedBy ?? "end of pass");
        return result;
    }

    private async Task DeleteAsync(string partitionKey, List<(string RowKey, bool OverCap)> rows, Counters run, CancellationToken cancellationToken)
    {
        foreach (var chunk in rows.Chunk(MaxActionsPerTransaction))
        {
            try
            {
                await table.Client.SubmitTransactionAsync(
                    chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, r.RowKey), ETag.All)), cancellationToken);
                var overCap = chunk.Count(r => r.OverCap);
                run.OverCap += overCap;
                run.Old += chunk.Length - overCap;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                // An overlapping run (or an erasure) deleted some of them first; the rest go on the next pass.
                run.Conflicts++;
                LogConflict(logger, partitionKey, ex.Status);
            }
        }
    }

    /// <summary>
    /// The resume point names the partition by a hash, so the state row keeps no lead id in the clear that erasure would miss
    /// (the continuation token beside it is storage's own encoding of the next key, as in the lead retention's state row).
    /// </summary>
    internal static string PartitionHash(string partitionKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(partitionKey)).AsSpan(0, 12));

    private async Task<AccessLogSweepEntity?> ReadStateAsync(CancellationToken cancellationToken)
    {
        try
        {
            var state = await table.Client.GetEntityIfExistsAsync<AccessLogSweepEntity>(AccessLogSweepEntity.Partition, AccessLogSweepEntity.Row, cancellationToken: cancellationToken);
            return state.HasValue ? state.Value! : new AccessLogSweepEntity();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private Task<bool> TrySaveStateAsync(AccessLogSweepEntity state, CancellationToken cancellationToken) =>
        ResumePoints.TrySaveAsync(table.Client, state, cancellationToken);

    private sealed class Counters
    {
        public int Pages;
        public int Rows;
        public int Old;
        public int OverCap;
        public int Conflicts;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Access log retention: {Pages} pages, {Rows} rows read, {Old} older than {Days} days deleted, {OverCap} beyond {Cap} per lead deleted, {Conflicts} left for a later pass; stopped at {StoppedBy}")]
    private static partial void LogRun(ILogger logger, int pages, int rows, int old, int overCap, int days, int cap, int conflicts, string stoppedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Access log retention left partition {Partition} for a later pass: another writer changed it ({Status})")]
    private static partial void LogConflict(ILogger logger, string partition, int status);
}

/// <summary>
/// Where the access-log sweep stopped (PartitionKey <c>!sweep</c>: no lead id or day partition starts with "!"), updated with
/// its ETag after every page so two overlapping runs cannot both advance it.
/// </summary>
internal sealed class AccessLogSweepEntity : ITableEntity
{
    public const string Partition = "!sweep";
    public const string Row = "scan";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>The table continuation token of the next page; null starts a new pass.</summary>
    public string? Continuation { get; set; }

    /// <summary>A hash of the partition the last page ended in, and how many of its rows came before the resume point.</summary>
    public string? CarriedPartition { get; set; }
    public int CarriedCount { get; set; }

    public DateTimeOffset? LastPassCompletedAt { get; set; }
    public long PassesCompleted { get; set; }
}
