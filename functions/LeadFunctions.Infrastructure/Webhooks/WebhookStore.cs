using System.Globalization;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>The deliveries table client, typed so it cannot be mixed up with another table.</summary>
internal sealed record WebhookTable(TableClient Client);

/// <summary>Reads and writes delivery records and their due / dead index rows, with optimistic concurrency on the record.</summary>
internal sealed class WebhookStore(WebhookTable table, LeadsTable leads)
{
    private TableClient Client => table.Client;

    /// <summary>
    /// Adds the record unless it exists (a retried commit finds its own row and changes nothing, whatever state it reached) and
    /// writes its first due row, deterministic too. A due row left behind for a record already done is deleted when it comes up.
    /// </summary>
    public async Task ScheduleAsync(WebhookRecordEntity record, CancellationToken cancellationToken)
    {
        try
        {
            await Client.AddEntityAsync(record, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Written before: only a record never tried may lack its due row (a crash between the two writes); any other has one.
            var existing = await FindRecordAsync(record.PartitionKey, record.DeliveryId, cancellationToken);
            if (existing is not { Status: WebhookDeliveryStatus.Pending, Attempts: 0, LastAttemptAt: null })
                return;
        }
        await Client.UpsertEntityAsync(WebhookIndexEntity.Due(record, record.TransitionAt), TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<List<WebhookIndexEntity>> DueAsync(string subscriptionId, DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var items = new List<WebhookIndexEntity>();
        if (max <= 0)
            return items;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {WebhookIndexEntity.DuePartitionFor(subscriptionId)} and RowKey lt {WebhookIndexEntity.UpperBound(now)}");
        await foreach (var item in Client.QueryAsync<WebhookIndexEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken))
        {
            items.Add(item);
            if (items.Count >= max)
                break;
        }
        return items;
    }

    public async Task<WebhookRecordEntity?> FindRecordAsync(string leadId, string deliveryId, CancellationToken cancellationToken)
    {
        var row = await Client.GetEntityIfExistsAsync<WebhookRecordEntity>(leadId, WebhookRecordEntity.RowFor(deliveryId), cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>
    /// Whether the stage change the record is about is in the lead's history: the history row is written in the same transaction as
    /// the lead, so its presence is the commit. One range read of the rows at that instant per key layout (a handful at most).
    /// </summary>
    public async Task<bool> IsCommittedAsync(WebhookRecordEntity record, CancellationToken cancellationToken)
    {
        foreach (var (from, to) in LeadRows.HistoryRangesAt(record.TransitionAt))
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {record.PartitionKey} and RowKey ge {from} and RowKey lt {to}");
            await foreach (var row in leads.Client.QueryAsync<HistoryEntity>(filter, maxPerPage: 100, cancellationToken: cancellationToken))
            {
                if (row.To == record.ToStage && row.From == record.FromStage)
                    return true;
            }
        }
        return false;
    }

    public async Task<bool> IsErasedAsync(string leadId, CancellationToken cancellationToken)
    {
        var row = await leads.Client.GetEntityIfExistsAsync<TableEntity>(leadId, Privacy.ErasureTombstoneEntity.Row, ["PartitionKey"], cancellationToken);
        return row.HasValue;
    }

    /// <summary>Takes the record for one attempt; false when another run holds it or it changed meanwhile.</summary>
    public async Task<bool> TryClaimAsync(WebhookRecordEntity record, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (record.ClaimedUntil is { } until && until > now)
            return false;
        record.ClaimedUntil = now + lease;
        return await TryUpdateAsync(record, cancellationToken);
    }

    /// <summary>Writes the record with its ETag; false when someone else changed it first.</summary>
    public async Task<bool> TryUpdateAsync(WebhookRecordEntity record, CancellationToken cancellationToken)
    {
        try
        {
            var response = await Client.UpdateEntityAsync(record, record.ETag, TableUpdateMode.Replace, cancellationToken);
            record.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>Moves the delivery later: the new due row is written before the old one is deleted, so a crash leaves a harmless duplicate.</summary>
    public async Task MoveAsync(WebhookRecordEntity record, WebhookIndexEntity due, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var later = WebhookIndexEntity.Due(record, at);
        later.CreatedAt = due.CreatedAt;
        await Client.UpsertEntityAsync(later, TableUpdateMode.Replace, cancellationToken);
        if (later.RowKey != due.RowKey || later.PartitionKey != due.PartitionKey)
            await DeleteAsync(due.PartitionKey, due.RowKey, cancellationToken);
    }

    /// <summary>Dead-letters the delivery: the dead row (with the last status and reason) first, then the due row goes.</summary>
    public async Task BuryAsync(WebhookRecordEntity record, WebhookIndexEntity due, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dead = WebhookIndexEntity.Due(record, due.DueAt);
        dead.PartitionKey = WebhookIndexEntity.DeadPartition;
        dead.RowKey = record.DeliveryId;
        dead.CreatedAt = due.CreatedAt;
        dead.DeadAt = now;
        await Client.UpsertEntityAsync(dead, TableUpdateMode.Replace, cancellationToken);
        await DeleteAsync(due.PartitionKey, due.RowKey, cancellationToken);
    }

    public Task CompleteAsync(WebhookIndexEntity due, CancellationToken cancellationToken) => DeleteAsync(due.PartitionKey, due.RowKey, cancellationToken);

    /// <summary>One page of the dead letters, or of the waiting deliveries of every subscription; <c>Continuation</c> is null on the last page.</summary>
    public async Task<(List<WebhookIndexEntity> Items, string? Continuation)> ListAsync(bool dead, int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        var filter = dead
            ? TableClient.CreateQueryFilter($"PartitionKey eq {WebhookIndexEntity.DeadPartition}")
            : TableClient.CreateQueryFilter($"PartitionKey ge {WebhookIndexEntity.DuePrefix} and PartitionKey lt {WebhookIndexEntity.DueEnd}");
        await foreach (var page in Client.QueryAsync<WebhookIndexEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(continuation, pageSize))
            return ([.. page.Values], page.ContinuationToken);
        return ([], null);
    }

    public async Task<WebhookIndexEntity?> FindDeadAsync(string deliveryId, CancellationToken cancellationToken)
    {
        var row = await Client.GetEntityIfExistsAsync<WebhookIndexEntity>(WebhookIndexEntity.DeadPartition, deliveryId, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>
    /// Puts a dead delivery back, due now, with its attempts cleared: the record first (pending again), then the due row, then the
    /// dead row goes. A record that is gone (the lead was erased) leaves nothing to replay; its dead row just goes. Returns false then.
    /// </summary>
    public async Task<bool> ReviveAsync(WebhookIndexEntity dead, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var record = await FindRecordAsync(dead.LeadId, dead.DeliveryId, cancellationToken);
        if (record is null || record.Body is null)
        {
            await DeleteAsync(dead.PartitionKey, dead.RowKey, cancellationToken);
            return false;
        }
        record.Status = WebhookDeliveryStatus.Pending;
        record.Attempts = 0;
        record.ClaimedUntil = null;
        await Client.UpdateEntityAsync(record, ETag.All, TableUpdateMode.Replace, cancellationToken);
        var due = WebhookIndexEntity.Due(record, now);
        due.CreatedAt = dead.CreatedAt;
        await Client.UpsertEntityAsync(due, TableUpdateMode.Replace, cancellationToken);
        await DeleteAsync(dead.PartitionKey, dead.RowKey, cancellationToken);
        return true;
    }

    private async Task DeleteAsync(string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await Client.DeleteEntityAsync(partitionKey, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Another run (or an erasure) removed it first.
        }
    }
}
