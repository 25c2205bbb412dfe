using Azure;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Email;

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

    /// <summary>What is due at <paramref name="now"/>, sales partition first, oldest first within each, at most <paramref name="max"/>.</summary>
    public async Task<List<DueItemEntity>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var items = new List<DueItemEntity>();
        foreach (var partition in DuePartitions.ReadOrder)
        {
            if (items.Count >= max)
                break;
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {DueItemEntity.UpperBound(now)}");
            await foreach (var item in tables.Due.QueryAsync<DueItemEntity>(filter, maxPerPage: Math.Min(max - items.Count, 1000), cancellationToken: cancellationToken))
            {
                items.Add(item);
                if (items.Count >= max)
                    break;
            }
        }
        return items;
    }

    /// <summary>Moves failed work later: the new row is written before the old one is deleted, so a crash leaves a harmless duplicate.</summary>
    public async Task RetryLaterAsync(DueItemEntity item, DateTimeOffset at, int attempts, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var later = item.At(at);
        later.Attempts = attempts;
        later.LastError = Bounded(reason);
        later.LastFailedAt = now;
        await tables.Due.UpsertEntityAsync(later, TableUpdateMode.Replace, cancellationToken);
        if (later.RowKey != item.RowKey)
            await CompleteAsync(item, cancellationToken);
    }

    /// <summary>Takes the work off the due index and keeps it, with its reason, in the parked partition.</summary>
    public async Task ParkAsync(DueItemEntity item, string reason, bool permanent, int attempts, string? outboxKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await tables.Due.UpsertEntityAsync(new ParkedEntity
        {
            RowKey = item.WorkKey,
            DuePartition = item.PartitionKey,
            LeadId = item.LeadId,
            Kind = item.Kind,
            Programme = item.Programme,
            Step = item.Step,
            DueAt = item.DueAt,
            TransitionTicks = item.TransitionTicks,
            Reason = Bounded(reason),
            Permanent = permanent,
            Attempts = attempts,
            ParkedAt = now,
            OutboxKey = outboxKey,
        }, TableUpdateMode.Replace, cancellationToken);
        await CompleteAsync(item, cancellationToken);
    }

    /// <summary>One page of parked work, in row-key order; <c>Continuation</c> is null on the last page.</summary>
    public async Task<(List<ParkedEntity> Items, string? Continuation)> ParkedAsync(int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ParkedEntity.Partition}");
        await foreach (var page in tables.Due.QueryAsync<ParkedEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(continuation, pageSize))
            return ([.. page.Values], page.ContinuationToken);
        return ([], null);
    }

    public async Task<ParkedEntity?> FindParkedAsync(string id, CancellationToken cancellationToken)
    {
        var row = await tables.Due.GetEntityIfExistsAsync<ParkedEntity>(ParkedEntity.Partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>
    /// Puts parked work back on the due index, due now, with its failure count cleared (and its outbox record's takeover count,
    /// so a record parked for crashing runs gets its full allowance again, and its send attempt, so the retry is a new request). The due row is written before the parked one is deleted.
    /// </summary>
    public async Task RequeueAsync(ParkedEntity parked, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var due = new DueItemEntity
        {
            PartitionKey = parked.DuePartition,
            RowKey = $"{Math.Max(0, now.UtcTicks):D19}-{parked.RowKey}",
            LeadId = parked.LeadId,
            Kind = parked.Kind,
            Programme = parked.Programme,
            Step = parked.Step,
            DueAt = parked.DueAt,
            TransitionTicks = parked.TransitionTicks,
        };
        if (parked.OutboxKey is { } outboxKey && await FindOutboxAsync(parked.LeadId, outboxKey, cancellationToken) is { Status: not OutboxStatus.Sent } record)
        {
            // A fresh attempt too: a repeat of the refused request inside ACS's window would only be answered with the same refusal.
            record.Takeovers = 0;
            record.RequestFirstSent = null;
            try
            {
                await tables.State.UpdateEntityAsync(record, record.ETag, TableUpdateMode.Replace, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                // A run is working on it right now; its own outcome decides.
            }
        }
        await tables.Due.UpsertEntityAsync(due, TableUpdateMode.Replace, cancellationToken);
        try
        {
            await tables.Due.DeleteEntityAsync(ParkedEntity.Partition, parked.RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Re-queued by someone else at the same time: the due row is the same either way.
        }
    }

    /// <summary>
    /// Counts of what waits: due rows per priority partition, parked rows, and the age of the longest-waiting due row.
    /// Each count reads row keys only and stops at <paramref name="limit"/> (then <c>AtLeast</c> is set).
    /// </summary>
    public async Task<OutboxBacklog> BacklogAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var due = new Dictionary<string, int>(StringComparer.Ordinal);
        var oldest = TimeSpan.Zero;
        var capped = false;
        foreach (var partition in DuePartitions.ReadOrder)
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {DueItemEntity.UpperBound(now)}");
            var (count, first, hitLimit) = await CountAsync(filter, limit, cancellationToken);
            due[partition] = count;
            capped |= hitLimit;
            if (first is not null)
            {
                var age = now - new DueItemEntity { RowKey = first }.RetryAt;
                if (age > oldest)
                    oldest = age;
            }
        }
        var (parked, _, parkedCapped) = await CountAsync(TableClient.CreateQueryFilter($"PartitionKey eq {ParkedEntity.Partition}"), limit, cancellationToken);
        return new OutboxBacklog(due, parked, oldest, capped || parkedCapped);
    }

    private async Task<(int Count, string? First, bool HitLimit)> CountAsync(string filter, int limit, CancellationToken cancellationToken)
    {
        var count = 0;
        string? first = null;
        await foreach (var row in tables.Due.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            first ??= row.RowKey;
            if (++count >= limit)
                return (count, first, true);
        }
        return (count, first, false);
    }

    private static string Bounded(string reason) => reason.Length <= ParkedEntity.MaxReasonLength ? reason : reason[..ParkedEntity.MaxReasonLength];

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

    /// <summary>
    /// When each marketing e-mail to the lead was sent, for the frequency cap: the lead's <see cref="MarketingSendsEntity"/> row (one
    /// point read). Without the row, the lead had no marketing e-mail since the rows were introduced; only while a cap window has not
    /// passed since then can it have sends the row does not show, and then its outbox rows are queried as before (one partition).
    /// </summary>
    public async Task<List<DateTimeOffset>> MarketingSendsAsync(string leadId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await tables.State.GetEntityIfExistsAsync<MarketingSendsEntity>(leadId, MarketingSendsEntity.Row, cancellationToken: cancellationToken);
        if (row.HasValue)
            return row.Value!.SentAt();
        return await UntrackedUntilAsync(now, cancellationToken) > now
            ? await OutboxMarketingSendsAsync(leadId, cancellationToken)
            : [];
    }

    /// <summary>The frequency cap as the outbox rows alone show it (the layout before <see cref="MarketingSendsEntity"/>).</summary>
    public async Task<List<DateTimeOffset>> OutboxMarketingSendsAsync(string leadId, CancellationToken cancellationToken)
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

    private DateTimeOffset? _untrackedUntil;

    /// <summary>
    /// Until when a marketing send may exist that no <see cref="MarketingSendsEntity"/> row shows: a cap window after the first run
    /// that recorded sends in rows (<see cref="MarketingSendsLayoutEntity"/>, written once, so every process agrees). Read once per
    /// process: the row never changes once written.
    /// </summary>
    private async Task<DateTimeOffset> UntrackedUntilAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_untrackedUntil is { } cached)
            return cached;
        for (var attempt = 0; ; attempt++)
        {
            var row = await tables.State.GetEntityIfExistsAsync<MarketingSendsLayoutEntity>(MarketingSendsLayoutEntity.Partition, MarketingSendsLayoutEntity.Row, cancellationToken: cancellationToken);
            if (row.HasValue)
                return (_untrackedUntil = row.Value!.Since + Domain.Nurture.NurturePlanner.CapWindow).Value;
            try
            {
                await tables.State.AddEntityAsync(new MarketingSendsLayoutEntity { Since = now }, cancellationToken);
                return (_untrackedUntil = now + Domain.Nurture.NurturePlanner.CapWindow).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && attempt < 3)
            {
                // Another run wrote it first: its time holds.
            }
        }
    }

    /// <summary>
    /// The lead's latest confirmation e-mail record and its number (0 when there is none). One partition, and at most one row per
    /// confirmation window, so the range stays small.
    /// </summary>
    public async Task<(long Number, OutboxEntity? Record)> LatestConfirmationAsync(string leadId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {leadId} and RowKey ge {OutboxEntity.ConfirmPrefix} and RowKey lt {OutboxEntity.Prefix + DueKinds.Confirm + "."}");
        OutboxEntity? latest = null;
        await foreach (var row in tables.State.QueryAsync<OutboxEntity>(filter, cancellationToken: cancellationToken))
        {
            if (latest is null || string.CompareOrdinal(row.RowKey, latest.RowKey) > 0)
                latest = row;
        }
        if (latest is null)
            return (0, null);
        return long.TryParse(latest.RowKey.AsSpan(OutboxEntity.ConfirmPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? (number, latest)
            : throw new InvalidOperationException($"Outbox row {latest.RowKey} of lead {leadId} is not a numbered confirmation.");
    }

    public async Task<OutboxEntity?> FindOutboxAsync(string leadId, string rowKey, CancellationToken cancellationToken)
    {
        var row = await tables.State.GetEntityIfExistsAsync<OutboxEntity>(leadId, rowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>
    /// Claims an outbox record for sending. A new record is added (only one Add can win); an expired or released claim is taken over
    /// with its ETag (only one Update can win); a sent record is never claimed again. The first attempt's time is kept across takeovers
    /// (it is the MIME Date). The logical send attempt (the ACS request id and first-sent time) is kept while it is younger than
    /// <see cref="Repeatability.ReuseWithin"/>, so a takeover soon after a crash repeats the same request and ACS does not send twice;
    /// an older one is replaced by a new attempt, which ACS would otherwise refuse with 412 for ever.
    /// </summary>
    public async Task<ClaimResult> ClaimAsync(OutboxEntity fresh, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        await ClaimAsync(fresh, await FindOutboxAsync(fresh.PartitionKey, fresh.RowKey, cancellationToken), now, lease, cancellationToken);

    /// <summary>
    /// As <see cref="ClaimAsync(OutboxEntity, DateTimeOffset, TimeSpan, CancellationToken)"/>, with the record as the caller read it
    /// (null: it did not exist). Safe however old that read is: a new record is added (a record written meanwhile makes the Add
    /// fail) and an existing one is replaced with the ETag it was read with (a change meanwhile makes the replace fail).
    /// </summary>
    public async Task<ClaimResult> ClaimAsync(OutboxEntity fresh, OutboxEntity? existing, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (existing is null)
        {
            fresh.Status = OutboxStatus.Claimed;
            fresh.FirstAttemptAt = now;
            fresh.ClaimedUntil = now + lease;
            fresh.Attempts = 1;
            fresh.RequestAttempt = 1;
            fresh.RequestFirstSent = now;
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
        if (existing.Status != OutboxStatus.Released && existing.ClaimedUntil > now)
            return new ClaimResult.HeldElsewhere();

        if (existing.Status == OutboxStatus.Claimed)
        {
            // The run holding it died mid-send: what it sent, if anything, is unknown.
            existing.Takeovers++;
            existing.OutcomeUnknown = true;
        }
        if (existing.RequestFirstSent is not { } firstSent || now - firstSent >= Repeatability.ReuseWithin || existing.RequestAttempt < 1)
        {
            existing.NewAttemptAfterUnknownOutcome = existing.OutcomeUnknown;
            existing.PossibleDuplicate |= existing.OutcomeUnknown;
            existing.RequestAttempt = Math.Max(1, existing.RequestAttempt + 1);
            existing.RequestFirstSent = now;
            existing.OutcomeUnknown = false;
        }
        existing.Status = OutboxStatus.Claimed;
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
    public Task MarkSentAsync(OutboxEntity record, DateTimeOffset sentAt, CancellationToken cancellationToken) =>
        MarkSentAsync(record, sentAt, email: null, marketingSends: null, cancellationToken);

    /// <summary>
    /// Records the send, and for an e-mail to the lead (<paramref name="email"/>) its record in the lead's e-mail list, in the same
    /// entity-group transaction: the list shows exactly the messages the outbox says went. With <paramref name="marketingSends"/>
    /// (the lead's marketing sends the cap was checked against), the lead's <see cref="MarketingSendsEntity"/> row gets this send in
    /// the same transaction. Marked once: a record already sent is left as it is, so a second mark never adds a second list entry.
    /// Returns the e-mail record as written (what the results counter counts), or null when nothing was written here.
    /// </summary>
    public async Task<LeadEmailEntity?> MarkSentAsync(OutboxEntity record, DateTimeOffset sentAt, SentEmailInfo? email,
        IReadOnlyList<DateTimeOffset>? marketingSends, CancellationToken cancellationToken)
    {
        record.Status = OutboxStatus.Sent;
        record.SentAt = sentAt;
        try
        {
            return await WriteSentAsync(record, sentAt, email, marketingSends, cancellationToken);
        }
        catch (Exception ex) when (ex is RequestFailedException { Status: 412 } or TableTransactionFailedException { Status: 412 })
        {
            var current = await FindOutboxAsync(record.PartitionKey, record.RowKey, cancellationToken);
            if (current is null || current.Status == OutboxStatus.Sent)
                return null;
            current.Status = OutboxStatus.Sent;
            current.SentAt = sentAt;
            return await WriteSentAsync(current, sentAt, email, marketingSends, cancellationToken);
        }
    }

    private async Task<LeadEmailEntity?> WriteSentAsync(OutboxEntity record, DateTimeOffset sentAt, SentEmailInfo? email,
        IReadOnlyList<DateTimeOffset>? marketingSends, CancellationToken cancellationToken)
    {
        if (email is null)
        {
            await tables.State.UpdateEntityAsync(record, record.ETag, TableUpdateMode.Replace, cancellationToken);
            return null;
        }
        var row = LeadEmailEntity.RowFor(sentAt, record.MessageId);
        var written = new LeadEmailEntity
        {
            PartitionKey = record.PartitionKey,
            RowKey = row,
            MessageId = record.MessageId,
            Kind = record.Kind,
            Programme = email.Programme,
            Step = email.Step,
            Subject = LeadEmailEntity.Bound(email.Subject),
            SentAt = sentAt,
            OutboxRow = record.RowKey,
        };
        List<TableTransactionAction> actions =
        [
            new(TableTransactionActionType.UpdateReplace, record, record.ETag),
            new(TableTransactionActionType.UpsertReplace, written),
            new(TableTransactionActionType.UpsertReplace, new LeadEmailIndexEntity { PartitionKey = record.PartitionKey, RowKey = LeadEmailIndexEntity.RowFor(record.MessageId), EmailRow = row }),
        ];
        if (record.Marketing && marketingSends is not null)
            actions.Add(new(TableTransactionActionType.UpsertReplace, MarketingSendsEntity.After(record.PartitionKey, marketingSends, sentAt)));
        await tables.State.SubmitTransactionAsync(actions, cancellationToken);
        return written;
    }

    /// <summary>
    /// Gives a claim back at once, so the next run may claim it rather than waiting out the lease. With a failure, records its
    /// reason and whether the send may have gone anyway; without one (the quota had no room), nothing was tried and no attempt is counted.
    /// </summary>
    public async Task ReleaseAsync(OutboxEntity record, DateTimeOffset now, EmailFailure? failure, CancellationToken cancellationToken)
    {
        record.Status = OutboxStatus.Released;
        record.ClaimedUntil = now;
        if (failure is null)
        {
            record.Attempts = Math.Max(0, record.Attempts - 1);
        }
        else
        {
            record.LastError = Bounded(failure.Reason);
            record.OutcomeUnknown |= failure.MayHaveBeenSent;
            if (failure.StartNewAttempt)
                record.RequestFirstSent = null;
        }
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
    /// Records the first sales decision of an SQL episode, and only the first: concurrent or later decisions (the other link of the
    /// alert, an old link clicked again) lose on the ETag or find it taken. Returns the event id of the decision that holds, and who
    /// acted: the recipient of the e-mail the link's marker names (the rep for the alert, the manager for an escalation), or the
    /// actor as given.
    /// </summary>
    public async Task<(string? HoldingEventId, string? Actor)> RecordDecisionAsync(string leadId, long sqlTicks, string decision, string eventId, string? actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var resolved = await ResolveActorAsync(leadId, sqlTicks, actor, cancellationToken);
        var decided = new SlaEntity
        {
            PartitionKey = leadId,
            RowKey = SlaEntity.RowFor(sqlTicks),
            Decision = decision,
            DecidedAt = at,
            DecidedBy = resolved,
            DecisionEventId = eventId,
        };
        for (var attempt = 0; ; attempt++)
        {
            var existing = await FindSlaAsync(leadId, sqlTicks, cancellationToken);
            if (existing?.Decision is not null)
                return (existing.DecisionEventId, resolved);
            try
            {
                if (existing is null)
                    await tables.State.AddEntityAsync(decided, cancellationToken);
                else
                    await tables.State.UpdateEntityAsync(decided, existing.ETag, TableUpdateMode.Merge, cancellationToken);
                return (eventId, resolved);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 10)
            {
                // The SLA record changed meanwhile (another decision, or the timer): read it again.
            }
        }
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

/// <summary>What waits in the outbox: due now per priority partition, parked, and the longest wait; <c>AtLeast</c> when a count was capped.</summary>
internal sealed record OutboxBacklog(IReadOnlyDictionary<string, int> Due, int Parked, TimeSpan OldestDueAge, bool AtLeast)
{
    public int DueTotal => Due.Values.Sum();
}
