using System.Globalization;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Nurture.Results;

namespace LeadFunctions.Benchmarks.Nurture;

/// <summary>
/// The storage work of one nurture timer run with no nurture code: per due item, one at a time as the runner goes, the same requests
/// to the same tables and keys (two rounds of point reads, the claim's insert, a small file for the folder send, the mark-sent
/// entity-group transaction of the same four rows, the results' three reads and transaction, the next step's upsert and the
/// reminder's delete), plus the run's due-index queries and backlog counts. Nothing is decided: every item is taken as due and
/// sent. The rows' keys and columns come from the storage layout's entity classes and key functions, so the rows are the timer's;
/// the runner, store, planner, composer, directory and results counter never run. What a run costs here is what storage and the
/// SDK cost for that work; the timer's time over this is ours (see docs/performance.md). <c>NurtureTimerCostTests</c> checks that
/// both send the same requests per item, by table and kind, so this cannot drift from the timer unnoticed.
/// </summary>
internal sealed class RawTimerBaseline(
    TableClient leads, TableClient state, TableClient due, TableClient results, int resultShards, string folder, TimeProvider time,
    IReadOnlyDictionary<string, (string Step, TimeSpan Delay)> nextSteps)
{
    /// <summary>About the size of the .eml the folder sender writes for one of the shipped nurture templates.</summary>
    private static readonly byte[] Message = System.Text.Encoding.ASCII.GetBytes(new string('x', 6 * 1024));

    /// <summary>One run: the due items, each item's requests, the backlog counts; returns how many items it went through.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var items = new List<DueItemEntity>();
        foreach (var partition in DuePartitions.ReadOrder)
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {DueItemEntity.UpperBound(time.GetUtcNow())}");
            await foreach (var item in due.QueryAsync<DueItemEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
                items.Add(item);
        }
        foreach (var item in items)
            await ItemAsync(item, cancellationToken);
        foreach (var partition in DuePartitions.ReadOrder)
            await CountAsync(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {DueItemEntity.UpperBound(time.GetUtcNow())}"), cancellationToken);
        await CountAsync(TableClient.CreateQueryFilter($"PartitionKey eq {ParkedEntity.Partition}"), cancellationToken);
        return items.Count;
    }

    private async Task CountAsync(string filter, CancellationToken cancellationToken)
    {
        await foreach (var _ in due.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["RowKey"], cancellationToken: cancellationToken))
        {
        }
    }

    private async Task ItemAsync(DueItemEntity item, CancellationToken cancellationToken)
    {
        var leadId = item.LeadId;
        var outboxKey = $"{OutboxEntity.NurturePrefix}{item.Programme}-{item.Step}";
        var messageId = $"{leadId}-{DueKinds.Nurture}-{item.Programme}-{item.Step}";

        // Round 1: the enrolment with the outbox row. Round 2: the lead, suppression and the marketing-sends row.
        var outboxRead = state.GetEntityIfExistsAsync<TableEntity>(leadId, outboxKey, cancellationToken: cancellationToken);
        var enrolmentRead = state.GetEntityIfExistsAsync<TableEntity>(leadId, NurtureEnrolmentEntity.Row, cancellationToken: cancellationToken);
        await Task.WhenAll(outboxRead, enrolmentRead);
        var leadRead = leads.GetEntityIfExistsAsync<TableEntity>(leadId, LeadRows.Lead, cancellationToken: cancellationToken);
        var suppressionRead = state.GetEntityIfExistsAsync<TableEntity>(leadId, SuppressionEntity.Row, cancellationToken: cancellationToken);
        var sendsRead = state.GetEntityIfExistsAsync<TableEntity>(leadId, MarketingSendsEntity.Row, cancellationToken: cancellationToken);
        await Task.WhenAll(leadRead, suppressionRead, sendsRead);

        // The claim: an insert of the new outbox row.
        var now = time.GetUtcNow();
        var record = new OutboxEntity
        {
            PartitionKey = leadId, RowKey = outboxKey, Kind = DueKinds.Nurture, MessageId = messageId, Marketing = true,
            Status = OutboxStatus.Claimed, FirstAttemptAt = now, ClaimedUntil = now.AddMinutes(5), Attempts = 1, RequestAttempt = 1, RequestFirstSent = now,
        };
        var added = await state.AddEntityAsync(record, cancellationToken);
        record.ETag = added.Headers.ETag ?? default;

        await File.WriteAllBytesAsync(Path.Combine(folder, messageId + ".eml"), Message, cancellationToken);

        // Mark sent: the outbox row (with the claim's ETag), the e-mail record, its index row and the marketing-sends row, one transaction.
        var sentAt = time.GetUtcNow();
        record.Status = OutboxStatus.Sent;
        record.SentAt = sentAt;
        var emailRow = LeadEmailEntity.RowFor(sentAt, messageId);
        var sends = sendsRead.Result.HasValue ? sendsRead.Result.Value!.GetString("SentAtTicks") ?? "" : "";
        await state.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.UpdateReplace, record, record.ETag),
            new(TableTransactionActionType.UpsertReplace, new LeadEmailEntity
            {
                PartitionKey = leadId, RowKey = emailRow, MessageId = messageId, Kind = DueKinds.Nurture, Programme = item.Programme, Step = item.Step,
                Subject = "First for Ada", SentAt = sentAt, OutboxRow = outboxKey,
            }),
            new(TableTransactionActionType.UpsertReplace, new LeadEmailIndexEntity { PartitionKey = leadId, RowKey = LeadEmailIndexEntity.RowFor(messageId), EmailRow = emailRow }),
            new(TableTransactionActionType.UpsertReplace, new TableEntity(leadId, MarketingSendsEntity.Row)
            {
                ["SentAtTicks"] = (sends.Length == 0 ? "" : sends + ",") + sentAt.UtcTicks.ToString(CultureInfo.InvariantCulture),
            }),
        ], cancellationToken);

        // The results: delivery counts, marker and counter read together, then the marker and counter in one transaction.
        var partition = NurtureResultRows.Partition(NurtureResultRows.ShardOf(messageId, resultShards));
        var markerKey = NurtureResultRows.Marker(sentAt, messageId);
        var counterKey = NurtureResultRows.Counter(item.Programme ?? "", item.Step ?? "");
        var deliveryRead = state.GetEntityIfExistsAsync<TableEntity>(leadId, DeliveryCountsEntity.RowFor(MessageIdentity.RequestId(messageId)), cancellationToken: cancellationToken);
        var markerRead = results.GetEntityIfExistsAsync<TableEntity>(partition, markerKey, cancellationToken: cancellationToken);
        var counterRead = results.GetEntityIfExistsAsync<TableEntity>(partition, counterKey, cancellationToken: cancellationToken);
        await Task.WhenAll(deliveryRead, markerRead, counterRead);
        var counter = counterRead.Result;
        var counterRow = new TableEntity(partition, counterKey)
        {
            [CounterColumns.Programme] = item.Programme,
            [CounterColumns.Step] = item.Step,
            [CounterColumns.Sent] = (counter.HasValue ? counter.Value!.GetInt64(CounterColumns.Sent) ?? 0 : 0) + 1,
        };
        var markerRow = new TableEntity(partition, markerKey)
        {
            [CounterColumns.Sent] = true, [CounterColumns.Delivered] = false, [CounterColumns.Bounced] = false, [CounterColumns.HumanOpens] = 0,
            [CounterColumns.HumanClicks] = 0, [CounterColumns.Unsubscribed] = false, [CounterColumns.Goals] = false, ["SentAt"] = sentAt,
        };
        await results.SubmitTransactionAsync(
        [
            markerRead.Result.HasValue
                ? new(TableTransactionActionType.UpdateReplace, markerRow, markerRead.Result.Value!.ETag)
                : new(TableTransactionActionType.Add, markerRow),
            counter.HasValue
                ? new(TableTransactionActionType.UpdateMerge, counterRow, counter.Value!.ETag)
                : new(TableTransactionActionType.Add, counterRow),
        ], cancellationToken);

        // The next step scheduled, the reminder retired.
        if (nextSteps.TryGetValue($"{item.Programme}-{item.Step}", out var next))
        {
            await due.UpsertEntityAsync(
                DueItemEntity.Create(leadId, DueKinds.Nurture, sentAt + next.Delay, item.TransitionAt, $"{item.Programme}-{next.Step}", item.Programme, next.Step),
                TableUpdateMode.Replace, cancellationToken);
        }
        await due.DeleteEntityAsync(item.PartitionKey, item.RowKey, ETag.All, cancellationToken);
    }
}
