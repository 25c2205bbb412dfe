using System.Runtime.CompilerServices;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring.DryRun;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Leads and their applied-event rows (<c>e|…</c>, EventJson) from the leads table, read lead by lead: one query streams the
/// lead rows (pages of <see cref="LeadPageSize"/>, in partition order, i.e. by lead id), and each lead's applied events are one
/// range read of its partition. Only one lead's events are held at a time. Reads only; it never writes.
/// <para>
/// Finding the lead rows is a scan of the table (every partition's <c>!lead</c> row): this is an operator's tool, run from the
/// CLI for the whole table, or bounded by a lead limit from the admin endpoint. A stage filter is pushed into the query.
/// </para>
/// </summary>
public sealed class TableReplaySource(TableClient table) : IReplaySource
{
    public const int LeadPageSize = 1_000;

    /// <summary>Leads whose applied events are read concurrently ahead of the replay.</summary>
    public const int ReadAhead = 8;

    private static readonly string[] LeadColumns = [nameof(ITableEntity.PartitionKey), nameof(LeadEntity.Stage)];
    private static readonly string[] EventColumns = [nameof(AppliedEventEntity.EventId), nameof(AppliedEventEntity.AppliedAt), nameof(AppliedEventEntity.OccurredAt), nameof(AppliedEventEntity.EventJson)];

    public async IAsyncEnumerable<ReplayLead> ReadAsync(ReplayFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = filter.Stage is { } stage
            ? TableClient.CreateQueryFilter($"RowKey eq {LeadRows.Lead} and Stage eq {stage.ToString()}")
            : TableClient.CreateQueryFilter($"RowKey eq {LeadRows.Lead}");
        // A few leads' partitions are read ahead while the caller replays, in order: storage latency, not scoring, is what a
        // table dry-run waits on. At most ReadAhead leads' events are in memory.
        var ahead = new Queue<Task<ReplayLead>>(ReadAhead);
        await foreach (var lead in table.QueryAsync<LeadEntity>(query, maxPerPage: LeadPageSize, select: LeadColumns, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            ahead.Enqueue(ReadLeadAsync(lead.PartitionKey, lead.Stage, cancellationToken));
            if (ahead.Count >= ReadAhead)
                yield return await ahead.Dequeue().ConfigureAwait(false);
        }
        while (ahead.Count > 0)
            yield return await ahead.Dequeue().ConfigureAwait(false);
    }

    private async Task<ReplayLead> ReadLeadAsync(string leadId, string stage, CancellationToken cancellationToken)
    {
        var (events, withoutJson) = await EventsAsync(leadId, cancellationToken).ConfigureAwait(false);
        var storedStage = Enum.TryParse<LifecycleStage>(stage, ignoreCase: true, out var s) ? s : (LifecycleStage?)null;
        return new ReplayLead(leadId, storedStage, events, withoutJson);
    }

    private async Task<(List<ReplayEvent> Events, int WithoutJson)> EventsAsync(string leadId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.AppliedPrefix} and RowKey lt {AppliedEnd}");
        var events = new List<ReplayEvent>();
        var withoutJson = 0;
        await foreach (var row in table.QueryAsync<AppliedEventEntity>(filter, maxPerPage: 1_000, select: EventColumns, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.EventJson is not { Length: > 0 } json)
            {
                withoutJson++;
                continue;
            }
            LeadEvent e;
            try
            {
                e = LeadEventJson.Deserialize(json);
            }
            catch (MalformedLeadEventException)
            {
                withoutJson++;
                continue;
            }
            // A re-score is not something the lead did: replaying it would count it as an event.
            if (e.Type == LeadEventTypes.ModelRescore)
                continue;
            events.Add(new ReplayEvent(e, row.AppliedAt));
        }
        // Row keys order applied events by event id; the processor applied them in time order.
        return (ReplayOrder.Sort(events), withoutJson);
    }

    /// <summary>Just past every applied-event row ("|" + 1 is "}").</summary>
    private const string AppliedEnd = "e}";
}
