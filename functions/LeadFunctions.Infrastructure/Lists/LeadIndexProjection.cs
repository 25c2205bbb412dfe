using Azure;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>
/// Keeps the lead index (<see cref="LeadIndexRows"/>) in step with the processor. For every partition the lead is in after
/// the event, and every one it was in before, it reconciles that partition to <see cref="LeadProjectionWork.After"/> in one
/// entity-group transaction: the anchor (ETag-checked) and the lead's rows change together. A partition whose anchor already
/// reflects this or a later event is left alone, so a redelivered or late work never resurrects rows. A partition holding an
/// erasure marker (<see cref="LeadIndexErasureGuard"/>) takes no work of a lead created before that erasure: the marker changed
/// the anchor's ETag (an in-flight update fails with 412) or is there to be found (an in-flight insert fails with 409), and the
/// re-read sees it.
/// Cost: per partition touched, one point read and one transaction; only the transaction when this instance wrote the
/// partition's anchor for the lead last (see <see cref="_written"/>) or the lead is new.
/// </summary>
internal sealed partial class LeadIndexProjection(LeadIndexTable table, ILogger<LeadIndexProjection> logger) : ILeadProjection
{
    private const int MaxAttempts = 8;

    /// <summary>Anchors remembered at most; past that the memory starts again empty (a forgotten anchor costs one read).</summary>
    private const int MaxRemembered = 10_000;

    /// <summary>
    /// The anchors this instance wrote, with their ETags: a lead's next event in this instance (the processor's lead lock makes
    /// them follow each other) writes against the remembered ETag instead of reading the anchor first. Only a hint: the write
    /// is still ETag-checked, and any conflict (another instance wrote since, an erasure deleted it) drops the memory and goes
    /// the reading way. A remembered anchor at or past the work's version is not trusted to skip the work (versions start again
    /// after an erasure); that case reads too.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Partition, string LeadId), LeadIndexAnchorEntity> _written = new();

    public async Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var targets = LeadIndexRows.Partitions(work.After);
        var left = work.Before is null ? [] : LeadIndexRows.Partitions(work.Before).Except(targets, StringComparer.Ordinal);
        // An erasure marker in any partition means the person was erased after this work's lead was created: the rest is not
        // written either (the eraser marks every partition it can find, this is the belt to those braces).
        foreach (var partition in targets)
        {
            if (await ReconcileAsync(partition, work, present: true, cancellationToken) == Reconciled.Erased)
                return;
        }
        foreach (var partition in left)
        {
            if (await ReconcileAsync(partition, work, present: false, cancellationToken) == Reconciled.Erased)
                return;
        }
    }

    /// <summary>
    /// Indexes a lead as its stored row has it (the backfill, <see cref="LeadIndexBackfill"/>): the same version-checked
    /// reconcile as a live event's work, so it may race one; true when it wrote a partition.
    /// </summary>
    internal async Task<bool> IndexAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        var written = false;
        foreach (var partition in LeadIndexRows.Partitions(work.After))
        {
            var outcome = await ReconcileAsync(partition, work, present: true, cancellationToken);
            if (outcome == Reconciled.Erased)
                return false;
            written |= outcome == Reconciled.Written;
        }
        return written;
    }

    private enum Reconciled
    {
        Written,
        Unchanged,
        Erased,
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

    /// <returns><see cref="Reconciled.Erased"/> when the partition holds an erasure marker (or an anchor carrying an erasure) newer than the work's lead.</returns>
    private async Task<Reconciled> ReconcileAsync(string partition, LeadProjectionWork work, bool present, CancellationToken cancellationToken)
    {
        var version = work.After.EventCount;
        var deleteInBatch = true;
        var anchorKey = (partition, work.LeadId);
        for (var attempt = 0; ; attempt++)
        {
            LeadIndexAnchorEntity? anchor;
            LeadIndexAnchorEntity? remembered = null;
            var fromMemory = attempt == 0 && _written.TryGetValue(anchorKey, out remembered) && remembered.Version < version;
            // A new lead (no lead row before the event) has no anchor yet: insert it unread. An anchor that is there after all
            // (a redelivered or late work, a lead re-created after an erasure) fails the insert (409), and that attempt reads.
            var assumedNew = attempt == 0 && !fromMemory && work.Before is null && present;
            if (fromMemory)
            {
                anchor = remembered;
            }
            else if (assumedNew)
            {
                anchor = null;
            }
            else
            {
                _written.TryRemove(anchorKey, out _);
                var read = await table.Client.GetEntityIfExistsAsync<LeadIndexAnchorEntity>(partition, LeadIndexRows.Anchor(work.LeadId), cancellationToken: cancellationToken);
                anchor = read.HasValue ? read.Value : null;
            }
            // The lead was erased after this work's lead was created: the work is the erased person's (in flight across the
            // erasure, or a late run of it), and writes nothing. A lead created after the erasure (a fresh form) goes on and
            // replaces the marker.
            if (anchor?.ErasedAt is { } erasedAt && work.After.CreatedAt <= erasedAt)
            {
                LogErased(logger, work.LeadId, work.EventId, partition);
                return Reconciled.Erased;
            }
            if (anchor is not null && !anchor.IsErasureMarker && anchor.Version >= version)
            {
                LogStale(logger, work.LeadId, work.EventId, anchor.Version);
                return Reconciled.Unchanged;
            }
            if (anchor is null && !present)
                return Reconciled.Unchanged; // never held here, and not to be: nothing to take out

            var rows = present ? RowsFor(partition, work.LeadId, work.After) : [];
            var keep = rows.Select(r => r.RowKey).ToHashSet(StringComparer.Ordinal);
            var stale = new[] { anchor?.NewestKey, anchor?.ScoreRowKey }.OfType<string>().Where(k => !keep.Contains(k)).ToList();

            var actions = new List<TableTransactionAction>(5);
            if (deleteInBatch)
                actions.AddRange(stale.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, k), ETag.All)));
            actions.AddRange(rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
            var next = Anchor(partition, work.LeadId, version, rows);
            next.ErasedAt = anchor?.ErasedAt;
            actions.Add(anchor is null
                ? new TableTransactionAction(TableTransactionActionType.Add, next)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, anchor.ETag));
            try
            {
                var committed = await table.Client.SubmitTransactionAsync(actions, cancellationToken);
                Remember(anchorKey, next, committed.Value.Count == actions.Count ? committed.Value[^1].Headers.ETag : null);
                return Reconciled.Written;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412 && attempt + 1 < MaxAttempts)
            {
                _written.TryRemove(anchorKey, out _);
                if (fromMemory || assumedNew)
                {
                    // The remembered anchor is out of date (another instance, an erasure's marker), or the new lead had one after
                    // all (a late work, a marker): read it.
                    LogConflict(logger, work.LeadId, partition, ex.Status);
                    continue;
                }
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

    private void Remember((string, string) key, LeadIndexAnchorEntity anchor, Azure.ETag? etag)
    {
        if (etag is not { } written)
        {
            _written.TryRemove(key, out _);
            return;
        }
        if (_written.Count >= MaxRemembered)
            _written.Clear();
        anchor.ETag = written;
        _written[key] = anchor;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Index work {EventId} of lead {LeadId} is from before the lead's erasure (marker in {Partition}); nothing written")]
    private static partial void LogErased(ILogger logger, string leadId, string eventId, string partition);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Index partition {Partition} of lead {LeadId} changed meanwhile ({Status}); reading again")]
    private static partial void LogConflict(ILogger logger, string leadId, string partition, int status);
}
