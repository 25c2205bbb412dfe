using System.Runtime.CompilerServices;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>What one <see cref="StoredEventStream"/> read cost: the evidence that its memory stays bounded.</summary>
public sealed class StoredEventStreamStats
{
    /// <summary>Passes over the lead's applied-event rows (one per window).</summary>
    public int Passes { get; internal set; }

    /// <summary>Query pages (storage requests) read over all passes.</summary>
    public int Pages { get; internal set; }

    /// <summary>The most applied-event rows (with their JSON) the window held at once; never above it (the query page being read, at most <see cref="StoredEventStream.PageSize"/> rows, comes on top).</summary>
    public int MaxHeld { get; internal set; }

    /// <summary>Events handed to the caller.</summary>
    public int Streamed { get; internal set; }

    /// <summary>Rows without JSON (too large when applied) or whose JSON no longer parses: they cannot be replayed.</summary>
    public int Unreplayable { get; internal set; }
}

/// <summary>
/// One lead's applied events (<c>e|…</c> rows with EventJson), streamed in the order the processor applied them
/// (<see cref="ReplayOrder"/>: AppliedAt, then OccurredAt, then event id) while holding at most <see cref="Window"/> rows.
/// <para>
/// Row keys order the rows by event id, not by time, so the order has to be made: each pass reads the partition's rows from the
/// last streamed one on (a server-side filter on AppliedAt skips most of those already streamed) and keeps only the
/// <see cref="Window"/> earliest not yet streamed in a bounded heap; they are streamed, and the next pass starts after the last.
/// A lead with up to <see cref="Window"/> events is one pass, exactly the pages a whole read costs; a lead with n events is
/// ⌈n / Window⌉ passes, each reading only what is left. Memory is the window, never the history: a re-score of a lead with any
/// number of stored events cannot exhaust the worker.
/// </para>
/// </summary>
public sealed class StoredEventStream(TableClient table, int window = StoredEventStream.DefaultWindow)
{
    /// <summary>
    /// Rows held per pass. Event JSON is usually well under 2 KiB, so a full window is a few MiB; a lead with fewer events
    /// (nearly all) is read in one pass.
    /// </summary>
    public const int DefaultWindow = 2_000;

    /// <summary>Rows per query page: the service's maximum.</summary>
    public const int PageSize = 1_000;

    /// <summary>
    /// The AppliedAt filter of a later pass starts this far before the last streamed row, so a store that keeps times coarser
    /// than the client cannot hide a row; rows at or before the last streamed one are dropped by the exact comparison.
    /// </summary>
    private static readonly TimeSpan FilterMargin = TimeSpan.FromSeconds(1);

    private static readonly string[] Columns =
        [nameof(AppliedEventEntity.EventId), nameof(AppliedEventEntity.EventType), nameof(AppliedEventEntity.AppliedAt), nameof(AppliedEventEntity.OccurredAt), nameof(AppliedEventEntity.EventJson)];

    public int Window { get; } = window >= 1 ? window : throw new ArgumentOutOfRangeException(nameof(window), window, "The window holds at least one row.");

    /// <summary>Called with the event id and the problem of a stored event whose JSON no longer parses (it is left out).</summary>
    public Action<string, string>? OnUnreadable { get; init; }

    public StoredEventStreamStats Stats { get; } = new();

    public async IAsyncEnumerable<ReplayEvent> ReadAsync(string leadId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leadId);
        // Later in the order = larger; the heap's root is the latest row kept, the first to give way to an earlier one.
        var heap = new PriorityQueue<Row, Row>(Window + 1, LatestFirst.Instance);
        Row? last = null;
        while (true)
        {
            Stats.Passes++;
            var more = false;
            var filter = last is null
                ? TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.AppliedPrefix} and RowKey lt {AppliedEnd}")
                : TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.AppliedPrefix} and RowKey lt {AppliedEnd} and AppliedAt ge {last.AppliedAt - FilterMargin}");
            await foreach (var page in table.QueryAsync<AppliedEventEntity>(filter, maxPerPage: PageSize, select: Columns, cancellationToken: cancellationToken)
                .AsPages(pageSizeHint: PageSize).ConfigureAwait(false))
            {
                Stats.Pages++;
                foreach (var entity in page.Values)
                {
                    // A re-score is not something the lead did: replaying it would count it as an event.
                    if (entity.EventType == LeadEventTypes.ModelRescore)
                        continue;
                    var row = new Row(entity.AppliedAt, entity.OccurredAt, entity.EventId, entity.EventJson);
                    if (last is not null && Order(row, last) <= 0)
                        continue;
                    if (row.Json is not { Length: > 0 })
                    {
                        // Counted once, in the pass that reaches it first.
                        if (last is null)
                            Stats.Unreplayable++;
                        continue;
                    }
                    if (heap.Count < Window)
                    {
                        heap.Enqueue(row, row);
                        Stats.MaxHeld = Math.Max(Stats.MaxHeld, heap.Count);
                    }
                    else
                    {
                        more = true;
                        if (Order(row, heap.Peek()) < 0)
                            heap.EnqueueDequeue(row, row);
                    }
                }
            }

            var earliest = new Row[heap.Count];
            for (var i = earliest.Length - 1; i >= 0; i--)
                earliest[i] = heap.Dequeue();
            foreach (var row in earliest)
            {
                LeadEvent e;
                try
                {
                    e = LeadEventJson.Deserialize(row.Json!);
                }
                catch (MalformedLeadEventException ex)
                {
                    Stats.Unreplayable++;
                    OnUnreadable?.Invoke(row.EventId, ex.Message);
                    continue;
                }
                Stats.Streamed++;
                yield return new ReplayEvent(e, row.AppliedAt);
            }
            if (!more || earliest.Length == 0)
                yield break;
            last = earliest[^1];
        }
    }

    /// <summary>The processor's order, the one <see cref="ReplayOrder.Sort"/> gives.</summary>
    private static int Order(Row a, Row b)
    {
        var c = a.AppliedAt.CompareTo(b.AppliedAt);
        if (c == 0)
            c = a.OccurredAt.CompareTo(b.OccurredAt);
        return c != 0 ? c : string.CompareOrdinal(a.EventId, b.EventId);
    }

    private sealed record Row(DateTimeOffset AppliedAt, DateTimeOffset OccurredAt, string EventId, string? Json);

    private sealed class LatestFirst : IComparer<Row>
    {
        public static readonly LatestFirst Instance = new();
        public int Compare(Row? x, Row? y) => Order(y!, x!);
    }

    /// <summary>Just past every applied-event row ("|" + 1 is "}").</summary>
    private const string AppliedEnd = "e}";
}
