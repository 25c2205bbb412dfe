using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>The due index and state table clients, typed so they cannot be mixed up.</summary>
internal sealed record NurtureTables(TableClient Due, TableClient State);

internal abstract record ClaimResult
{
    /// <summary>This run owns the record and must send (then <see cref="NurtureStore.MarkSentAsync"/>).</summary>
    public sealed record Won(OutboxEntity Record) : ClaimResult;
    public sealed record AlreadySent(OutboxEntity Record) : ClaimResult;
    /// <summary>Another run holds an unexpired claim: leave it alone.</summary>
    public sealed record HeldElsewhere : ClaimResult;
}

/// <summary>Reads and writes the due index and the per-lead state (outbox, suppression, SLA) with optimistic concurrency.</summary>
internal sealed class NurtureStore(NurtureTables tables)
{
    public async Task ScheduleAsync(DueItemEntity item, CancellationToken cancellationToken) =>
        // Upsert: the row key is deterministic, so scheduling the same work twice writes the same row.
        await tables.Due.UpsertEntityAsync(item, TableUpdateMode.Replace, cancellationToken);

    public async Task<List<DueItemEntity>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DueItemEntity.Partition} and RowKey lt {DueItemEntity.UpperBound(now)}");
        var items = new List<DueItemEntity>();
        await foreach (var item in tables.Due.QueryAsync<DueItemEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken))
        {
            items.Add(item);
            if (items.Count >= max)
                break;
        }
        return items;
    }

    public async Task CompleteAsync(DueItemEntity item, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Due.DeleteEntityAsync(item.PartitionKey, item.RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Another run finished it first.
        }
    }

    public async Task<bool> IsSuppressedAsync(string leadId, CancellationToken cancellationToken)
    {
        var row = await tables.State.GetEntityIfExistsAsync<SuppressionEntity>(leadId, SuppressionEntity.Row, cancellationToken: cancellationToken);
        return row.HasValue;
    }

    public async Task<Suppression?> FindSuppressionAsync(string leadId, CancellationToken cancellationToken)
    {
        var row = await tables.State.GetEntityIfExistsAsync<SuppressionEntity>(leadId, SuppressionEntity.Row, cancellationToken: cancellationToken);
        return row.HasValue ? new Suppression(row.Value!.SuppressedAt, row.Value.Source) : null;
    }

    /// <summary>
    /// Removes the suppression. Only a confirmed double opt-in may call this: an unconfirmed form post proves nothing about who
    /// typed the address, so it must never re-open marketing e-mail to someone who unsubscribed.
    /// </summary>
    public async Task LiftSuppressionAsync(string leadId, CancellationToken cancellationToken)
    {
        try
        {
            await tables.State.DeleteEntityAsync(leadId, SuppressionEntity.Row, Azure.ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Nothing to lift.
        }
    }

    public async Task SuppressAsync(string leadId, DateTimeOffset at, string source, CancellationToken cancellationToken)
    {
        try
        {
            await tables.State.AddEntityAsync(new SuppressionEntity { PartitionKey = leadId, SuppressedAt = at, Source = source }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Already unsubscribed: the first time is the one recorded.
        }
    }

    /// <summary>When each marketing e-mail to the lead was sent, for the frequency cap (one partition, the lead's own).</summary>
    public async Task<List<DateTimeOffset>> MarketingSendsAsync(string leadId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {leadId} and RowKey ge {OutboxEntity.Prefix} and RowKey lt {"outbox."} and Marketing eq {true} and Status eq {OutboxStatus.Sent}");
        var sends = new List<DateTimeOffset>();
        await foreach (var row in tables.State.QueryAsync<OutboxEntity>(filter, select: [nameof(OutboxEntity.SentAt)], cancellationToken: cancellationToken))
        {
            if (row.SentAt is { } at)
                sends.Add(at);
        }
        return sends;
    }

    public async Task<OutboxEntity?> FindOutboxAsync(string leadId, string rowKey, CancellationToken cancellationToken)
    {
        var row = await tables.State.GetEntityIfExistsAsync<OutboxEntity>(leadId, rowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>
    /// Claims an outbox record for sending. A new record is added (only one Add can win); an expired claim is taken over with its ETag
    /// (only one Update can win); a sent record is never claimed again. The first attempt's time is kept across takeovers.
    /// </summary>
    public async Task<ClaimResult> ClaimAsync(OutboxEntity fresh, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        var existing = await FindOutboxAsync(fresh.PartitionKey, fresh.RowKey, cancellationToken);
        if (existing is null)
        {
            fresh.Status = OutboxStatus.Claimed;
            fresh.FirstAttemptAt = now;
            fresh.ClaimedUntil = now + lease;
            fresh.Attempts = 1;
            try
            {
                var added = await tables.State.AddEntityAsync(fresh, cancellationToken);
                fresh.ETag = added.Headers.ETag ?? default;
                return new ClaimResult.Won(fresh);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                return new ClaimResult.HeldElsewhere();
            }
        }

        if (existing.Status == OutboxStatus.Sent)
            return new ClaimResult.AlreadySent(existing);
        if (existing.ClaimedUntil > now)
            return new ClaimResult.HeldElsewhere();

        existing.ClaimedUntil = now + lease;
        existing.Attempts++;
        try
        {
            var updated = await tables.State.UpdateEntityAsync(existing, existing.ETag, TableUpdateMode.Replace, cancellationToken);
            existing.ETag = updated.Headers.ETag ?? default;
            return new ClaimResult.Won(existing);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return new ClaimResult.HeldElsewhere();
        }
    }

    /// <summary>Records the send. If the lease was lost meanwhile, the record is re-read and marked anyway: the message did go.</summary>
    public async Task MarkSentAsync(OutboxEntity record, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        record.Status = OutboxStatus.Sent;
        record.SentAt = sentAt;
        try
        {
            await tables.State.UpdateEntityAsync(record, record.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            var current = await FindOutboxAsync(record.PartitionKey, record.RowKey, cancellationToken);
            if (current is null || current.Status == OutboxStatus.Sent)
                return;
            current.Status = OutboxStatus.Sent;
            current.SentAt = sentAt;
            await tables.State.UpdateEntityAsync(current, current.ETag, TableUpdateMode.Replace, cancellationToken);
        }
    }

    /// <summary>Gives a failed send back at once, so the next run retries rather than waiting out the lease.</summary>
    public async Task ReleaseAsync(OutboxEntity record, DateTimeOffset now, CancellationToken cancellationToken)
    {
        record.ClaimedUntil = now;
        try
        {
            await tables.State.UpdateEntityAsync(record, record.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            // Someone else already took it over.
        }
    }

    public async Task<SlaEntity?> FindSlaAsync(string leadId, long sqlTicks, CancellationToken cancellationToken)
    {
        var row = await tables.State.GetEntityIfExistsAsync<SlaEntity>(leadId, SlaEntity.RowFor(sqlTicks), cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Merges the given fields into the SLA record (null fields are left as they are).</summary>
    public Task MergeSlaAsync(SlaEntity sla, CancellationToken cancellationToken) =>
        tables.State.UpsertEntityAsync(sla, TableUpdateMode.Merge, cancellationToken);

    /// <summary>
    /// Records the first sales decision only: a later click on an old link does not overwrite it. Returns who acted: the recipient
    /// of the e-mail the link's marker names (the rep for the alert, the manager for an escalation), or the actor as given.
    /// </summary>
    public async Task<string?> RecordDecisionAsync(string leadId, long sqlTicks, string decision, string? actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var resolved = await ResolveActorAsync(leadId, sqlTicks, actor, cancellationToken);
        var existing = await FindSlaAsync(leadId, sqlTicks, cancellationToken);
        if (existing?.Decision is not null)
            return resolved;
        await MergeSlaAsync(new SlaEntity { PartitionKey = leadId, RowKey = SlaEntity.RowFor(sqlTicks), Decision = decision, DecidedAt = at, DecidedBy = resolved }, cancellationToken);
        return resolved;
    }

    private async Task<string?> ResolveActorAsync(string leadId, long sqlTicks, string? actor, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(actor) || SalesAlertKeys.OutboxForMarker(actor, sqlTicks) is not { } outboxKey)
            return actor;
        var record = await FindOutboxAsync(leadId, outboxKey, cancellationToken);
        return record?.Owner ?? actor;
    }

    /// <summary>Hands out the next turn of a round-robin pool; concurrent callers retry on a lost ETag race, so turns are never shared.</summary>
    public async Task<long> NextTurnAsync(string pool, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var row = await tables.State.GetEntityIfExistsAsync<RoundRobinEntity>(RoundRobinEntity.Partition, pool, cancellationToken: cancellationToken);
            try
            {
                if (!row.HasValue)
                {
                    await tables.State.AddEntityAsync(new RoundRobinEntity { RowKey = pool, NextTurn = 1 }, cancellationToken);
                    return 0;
                }
                var counter = row.Value!;
                var turn = counter.NextTurn;
                counter.NextTurn = turn + 1;
                await tables.State.UpdateEntityAsync(counter, counter.ETag, TableUpdateMode.Replace, cancellationToken);
                return turn;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 20)
            {
                // Lost the race to another run: read the new value and try again.
            }
        }
    }
}
