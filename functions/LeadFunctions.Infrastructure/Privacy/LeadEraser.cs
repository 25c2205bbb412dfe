using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>What one erasure removed (counts and ids only).</summary>
public sealed record ErasureResult(string LeadId, DateTimeOffset ErasedAt, int RowsDeleted, int FilesDeleted, int PoisonMessagesDeleted);

public interface ILeadEraser
{
    /// <summary>Erases the lead; null when nothing was ever stored under that id (no rows, no tombstone).</summary>
    Task<ErasureResult?> EraseAsync(string leadId, CancellationToken cancellationToken);
}

/// <summary>
/// Removes every row about a lead in every registered table, its poison-queue messages and its outbox files, and leaves only the
/// tombstone (lead id and erasure time) and the suppression row (keyed by the lead id, itself a hash), so the person is never
/// mailed again and replays of their old events create nothing.
/// <para>
/// The tombstone is written first: from then on the processor drops the lead's old events, so nothing is re-created while the
/// rest goes. Rows are deleted per partition in transactions of at most 100; a row that changed or went meanwhile makes the
/// whole pass start again, a few times at most. Running it again is harmless: it finds only the tombstone, the suppression and
/// the guards' markers (<see cref="ILeadErasureGuard"/>: what stops a projection in flight writing the lead back).
/// </para>
/// </summary>
internal sealed partial class LeadEraser(
    LeadRowCollector collector,
    NurtureStore nurture,
    LeadsTable leads,
    SentMailFiles files,
    QueueServiceClient queues,
    LeadEventsQueue events,
    LeadIdentity identity,
    TimeProvider time,
    ILogger<LeadEraser> logger,
    LeadStateCache? cache = null,
    IEnumerable<ILeadErasureGuard>? guards = null) : ILeadEraser
{
    private const int MaxTransactionActions = 100;
    private const int MaxPasses = 5;
    private readonly ILeadErasureGuard[] _guards = [.. guards ?? []];
    /// <summary>A bound on the poison messages one erasure reads; more than this many is an incident of its own.</summary>
    internal const int MaxPoisonMessagesScanned = 5000;

    public async Task<ErasureResult?> EraseAsync(string leadId, CancellationToken cancellationToken)
    {
        var data = await collector.CollectAsync(leadId, cancellationToken);
        if (!data.Exists)
            return null;

        var now = time.GetUtcNow();
        var previous = data.Rows.FirstOrDefault(r => r.Kind == RowKinds.Tombstone)?.Entity.GetInt32(nameof(ErasureTombstoneEntity.Erasures)) ?? 0;
        await leads.Client.UpsertEntityAsync(new ErasureTombstoneEntity { PartitionKey = leadId, ErasedAt = now, Erasures = previous + 1 }, TableUpdateMode.Replace, cancellationToken);
        // The processor's memory holds a copy of the lead row (name, address): it goes with the rows, not at an eviction.
        cache?.Forget(leadId);
        await nurture.SuppressAsync(leadId, now, "erasure", cancellationToken);

        // The lead's e-mail address and visitors, read before their rows go, to recognise its poison messages.
        var email = data.Email;
        var visitors = new HashSet<string>(data.VisitorKeys, StringComparer.Ordinal);
        var deleted = 0;
        var guarded = new HashSet<string>(StringComparer.Ordinal);
        for (var pass = 0; ; pass++)
        {
            // Before anything goes, and again with what each pass finds: a place work could still write the person back to is closed.
            foreach (var guard in _guards)
                await guard.GuardAsync(data, now, guarded, cancellationToken);
            var doomed = data.Rows.Where(r => r.Kind is not (RowKinds.Tombstone or RowKinds.Suppression) && !_guards.Any(g => g.Keeps(r))).ToList();
            if (doomed.Count == 0)
                break;
            try
            {
                deleted += await DeleteAsync(doomed, cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 404 or 412 && pass < MaxPasses)
            {
                // A row went or changed since it was read (a concurrent run or event): read again and go on.
                LogPassRepeated(logger, leadId, pass);
            }
            data = await collector.CollectAsync(leadId, cancellationToken);
            if (pass >= MaxPasses && data.Rows.Any(r => r.Kind is not (RowKinds.Tombstone or RowKinds.Suppression) && !_guards.Any(g => g.Keeps(r))))
                throw new InvalidOperationException($"Lead {leadId} still had rows after {MaxPasses} erasure passes; erasing again finishes it.");
        }

        var poison = await DeletePoisonMessagesAsync(leadId, email, visitors, cancellationToken);
        var removedFiles = files.Delete(leadId);
        LogErased(logger, leadId, deleted, removedFiles, poison);
        return new ErasureResult(leadId, now, deleted, removedFiles, poison);
    }

    private async Task<int> DeleteAsync(List<StoredRow> rows, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var partition in rows.GroupBy(r => (r.Table, r.Entity.PartitionKey)))
        {
            var table = collector.Table(partition.Key.Table);
            foreach (var chunk in partition.Chunk(MaxTransactionActions))
            {
                var actions = chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r.Entity, ETag.All)).ToList();
                await table.SubmitTransactionAsync(actions, cancellationToken);
                deleted += actions.Count;
            }
        }
        return deleted;
    }

    /// <summary>
    /// Poison messages name the person (a form submission carries the address and profile), so they go too. Live
    /// <c>lead-events</c> messages are left to the processor, which drops them against the tombstone.
    /// </summary>
    private async Task<int> DeletePoisonMessagesAsync(string leadId, string? email, HashSet<string> visitors, CancellationToken cancellationToken)
    {
        var poison = queues.GetQueueClient(events.Client.Name + "-poison");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var deleted = 0;
        try
        {
            while (seen.Count < MaxPoisonMessagesScanned)
            {
                // Invisible while we read on; messages of other leads reappear a minute later for the operator's replay.
                var received = (await poison.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1), cancellationToken)).Value;
                if (received.Length == 0 || received.All(m => !seen.Add(m.MessageId)))
                    break;
                foreach (var message in received)
                {
                    if (!Names(message.Body.ToString(), leadId, email, visitors, identity))
                        continue;
                    await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                    deleted++;
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No poison queue: nothing poisoned.
        }
        return deleted;
    }

    internal static bool Names(string text, string leadId, string? email, HashSet<string> visitors, LeadIdentity identity)
    {
        if (text.Contains(leadId, StringComparison.Ordinal) || (email is { Length: > 0 } && text.Contains(email, StringComparison.OrdinalIgnoreCase)))
            return true;
        try
        {
            var e = LeadEventJson.Deserialize(text);
            if (e.Email is not null && email is not null && EmailAddress.TryNormalize(e.Email, out var normalized) && string.Equals(normalized, email, StringComparison.OrdinalIgnoreCase))
                return true;
            return !string.IsNullOrWhiteSpace(e.VisitorId) && visitors.Contains(identity.VisitorKeyFor(e.VisitorId));
        }
        catch (MalformedLeadEventException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} erased: {Rows} row(s), {Files} e-mail file(s), {Poison} poison message(s)")]
    private static partial void LogErased(ILogger logger, string leadId, int rows, int files, int poison);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Erasure of lead {LeadId} met a concurrent change (pass {Pass}); reading again")]
    private static partial void LogPassRepeated(ILogger logger, string leadId, int pass);
}
