using System.Globalization;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>
/// Closes the lead index to an erased lead. The projection runs after the lead's commit, so an erasure can fall between: the
/// work in flight (or run later) would write the name and company back. So instead of deleting the lead's anchors, the erasure
/// replaces them with an erasure marker (lead id, erasure time, no personal data) in every partition the lead could be written
/// to: every stage partition, and every stage of every owner it can see (the lead row, pending work, the anchors found). The
/// projection's writes are ETag-checked against the anchor (an update fails with 412, an insert with 409), its re-read sees the
/// marker, and work of a lead created at or before the erasure writes nothing; a lead created after it (a fresh form) replaces
/// the marker. No request is added to an event: the marker is found by the read the projection does anyway.
/// <para>
/// Markers are bounded: each is listed in partition <see cref="RecordPartition"/> under the erasure time, and
/// <see cref="LeadIndexMaintenance"/> deletes them after <see cref="MarkerLifetime"/>. The records are written before the markers,
/// so a crash between leaves a record of a marker that is not there, never a marker nobody will delete.
/// </para>
/// </summary>
internal sealed partial class LeadIndexErasureGuard(LeadIndexTable table, ILogger<LeadIndexErasureGuard> logger) : ILeadErasureGuard
{
    /// <summary>
    /// How long a marker stays. It only has to outlive work already running when the erasure happened: an invocation ends within
    /// host.json's functionTimeout (5 minutes), and nothing starts new index work for an erased lead later (the erasure deletes the
    /// pending-work rows, and the processor drops every event of an erased lead against its tombstone, redeliveries included).
    /// A day is that with a wide margin.
    /// </summary>
    public static readonly TimeSpan MarkerLifetime = TimeSpan.FromDays(1);

    /// <summary>Where the markers are listed for their removal; no stage or owner partition starts with '!'.</summary>
    public const string RecordPartition = "!erasures";

    private const int MaxTransactionActions = 100;
    private const int MaxParallelWrites = 8;

    public static bool IsErasureRow(TableEntity row) =>
        row.PartitionKey == RecordPartition
        || (row.RowKey.StartsWith(LeadIndexRows.AnchorPrefix, StringComparison.Ordinal)
            && row.GetDateTimeOffset(nameof(LeadIndexAnchorEntity.ErasedAt)) is not null
            && row.GetInt32(nameof(LeadIndexAnchorEntity.Version)) is null or 0);

    public bool Keeps(StoredRow row) =>
        row.Table == table.Client.Name
        && (row.Kind == RowKinds.IndexErasureMarker || row.Entity.RowKey.StartsWith(LeadIndexRows.AnchorPrefix, StringComparison.Ordinal));

    public async Task GuardAsync(LeadData data, DateTimeOffset erasedAt, ISet<string> done, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(done);
        var partitions = PartitionsOf(data).Where(p => !done.Contains(p)).ToList();
        if (partitions.Count == 0)
            return;

        var records = partitions.Select(p => new LeadIndexErasureRecordEntity
        {
            PartitionKey = RecordPartition,
            RowKey = RecordKey(erasedAt, data.LeadId, p),
            LeadId = data.LeadId,
            ErasedAt = erasedAt,
            MarkerPartition = p,
        });
        foreach (var chunk in records.Chunk(MaxTransactionActions))
            await table.Client.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), cancellationToken);

        await Parallel.ForEachAsync(partitions, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelWrites, CancellationToken = cancellationToken },
            async (partition, ct) => await table.Client.UpsertEntityAsync(Marker(partition, data.LeadId, erasedAt), TableUpdateMode.Replace, ct));
        foreach (var partition in partitions)
            done.Add(partition);
        LogMarked(logger, data.LeadId, partitions.Count);
    }

    internal static LeadIndexAnchorEntity Marker(string partition, string leadId, DateTimeOffset erasedAt) => new()
    {
        PartitionKey = partition,
        RowKey = LeadIndexRows.Anchor(leadId),
        LeadId = leadId,
        Version = 0,
        ErasedAt = erasedAt,
    };

    internal static string RecordKey(DateTimeOffset erasedAt, string leadId, string partition) =>
        $"{TimeKey(erasedAt)}|{leadId}|{partition}";

    /// <summary>Record keys sort by erasure time: every record of an erasure before <paramref name="at"/> sorts below this.</summary>
    internal static string TimeKey(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>
    /// Every stage partition, and every stage of every owner the lead had as far as the erasure can see: a pending work's
    /// after-state may be a stage or owner the index has not seen yet, so the exact partitions are not known, but the stages are few.
    /// </summary>
    private static IEnumerable<string> PartitionsOf(LeadData data)
    {
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        if (data.Lead?.Owner is { } owner && !string.IsNullOrWhiteSpace(owner))
            hashes.Add(LeadIndexRows.OwnerHash(owner));
        var partitions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in data.Rows)
        {
            if (row.Kind == RowKinds.ProjectionWork && row.Entity.GetString(nameof(ProjectionWorkEntity.WorkJson)) is { Length: > 0 } json)
            {
                foreach (var snapshotOwner in OwnersOf(json))
                    hashes.Add(LeadIndexRows.OwnerHash(snapshotOwner));
            }
            else if (row.Kind is RowKinds.LeadIndex)
            {
                if (row.Entity.RowKey.StartsWith(LeadIndexRows.AnchorPrefix, StringComparison.Ordinal))
                    partitions.Add(row.Entity.PartitionKey); // whatever it is, a partition the lead has an anchor in
                if (LeadIndexRows.OwnerHashOf(row.Entity.PartitionKey) is { } hash)
                    hashes.Add(hash);
            }
        }
        foreach (var stage in Enum.GetValues<LifecycleStage>())
        {
            partitions.Add(LeadIndexRows.StagePartition(stage));
            foreach (var hash in hashes)
                partitions.Add(LeadIndexRows.OwnerHashPartition(hash, stage));
        }
        return partitions.Order(StringComparer.Ordinal);
    }

    /// <summary>The owners a pending work names; none for a row that does not read (the erasure goes on: it deletes the row anyway).</summary>
    private static IEnumerable<string> OwnersOf(string workJson)
    {
        LeadProjectionWork work;
        try
        {
            work = LeadProjectionWorkRows.Deserialize(workJson);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or NotSupportedException)
        {
            return [];
        }
        return new[] { work.Before?.Owner, work.After?.Owner }.Where(o => !string.IsNullOrWhiteSpace(o)).Select(o => o!);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId}: erasure markers written in {Partitions} index partition(s)")]
    private static partial void LogMarked(ILogger logger, string leadId, int partitions);
}

/// <summary>
/// One erasure marker, listed for its removal (partition <see cref="LeadIndexErasureGuard.RecordPartition"/>, row key
/// <c>{erasure ticks}|{leadId}|{marker partition}</c>): ids and a time, no personal data.
/// </summary>
internal sealed class LeadIndexErasureRecordEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string LeadId { get; set; } = "";
    public DateTimeOffset ErasedAt { get; set; }
    public string MarkerPartition { get; set; } = "";
}
