using System.Runtime.CompilerServices;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>What one <see cref="StoredEventStream"/> read cost: the evidence that its memory stays bounded.</summary>
public sealed class StoredEventStreamStats
{
    /// <summary>Queries over the lead's applied-event rows: one for a lead within the window, then one per slice.</summary>
    public int Passes { get; internal set; }

    /// <summary>Rows the queries returned over all passes: the cost that must grow with n, not n² / window.</summary>
    public long RowsRead { get; internal set; }

    /// <summary>Query pages (storage requests) read over all passes.</summary>
    public int Pages { get; internal set; }

    /// <summary>The most applied-event rows (with their JSON) the window held at once; never above it (the query page being read, at most <see cref="StoredEventStream.PageSize"/> rows, comes on top).</summary>
    public int MaxHeld { get; internal set; }

    /// <summary>Events handed to the caller.</summary>
    public int Streamed { get; internal set; }

    /// <summary>Rows without JSON (too large when applied) or whose JSON no longer parses: they cannot be replayed (counted once each).</summary>
    public int Unreplayable { get; internal set; }
}

/// <summary>
/// One lead's applied events (<c>e|…</c> rows with EventJson), streamed in the order the processor applied them
/// (<see cref="ReplayOrder"/>: AppliedAt, then OccurredAt, then event id) while holding at most <see cref="Window"/> rows.
/// <para>
/// Row keys order the rows by event id, not by time, so the order has to be made. The first pass reads the partition's rows
/// once, keeps the <see cref="Window"/> earliest in a bounded heap and counts the rest in a histogram of AppliedAt (a fixed
/// number of buckets whose width doubles as the times spread, so it is a few KiB whatever the lead). A lead with up to
/// <see cref="Window"/> events (nearly all) is that one pass, exactly the pages a whole read costs. For a larger lead the
/// earliest window is streamed and the rest of the time range is cut, by the histogram, into slices of at most a window
/// each; each slice is then one query filtered on AppliedAt (server side) that returns only its own rows. So a row is
/// returned at most twice (the first pass and its slice), plus rows within <see cref="FilterMargin"/> of a slice's edge: the
/// rows read grow with n, not with n² / window as when every pass re-read all that was left. A slice denser than the
/// window (a burst) is handled the same way with a finer histogram of its own; rows sharing one AppliedAt beyond a window
/// fall back to passes that each stream a window. Memory is the window and the histogram, never the history: a re-score
/// of a lead with any number of stored events cannot exhaust the worker.
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
    /// A slice's AppliedAt filter reaches this far past its edges, so a store that keeps or compares times coarser than the
    /// client cannot hide a row; the exact comparison on the times read back then gives each row to one slice.
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
        // Slices of AppliedAt still to stream, the earliest on top; together with what was streamed they cover all time.
        var pending = new Stack<Slice>();
        pending.Push(new Slice(null, null));
        Row? last = null;
        while (pending.TryPop(out var slice))
        {
            Stats.Passes++;
            var more = false;
            var histogram = new TimeHistogram();
            await foreach (var page in table.QueryAsync<AppliedEventEntity>(Filter(leadId, slice), maxPerPage: PageSize, select: Columns, cancellationToken: cancellationToken)
                .AsPages(pageSizeHint: PageSize).ConfigureAwait(false))
            {
                Stats.Pages++;
                foreach (var entity in page.Values)
                {
                    Stats.RowsRead++;
                    // A re-score is not something the lead did: replaying it would count it as an event.
                    if (entity.EventType == LeadEventTypes.ModelRescore)
                        continue;
                    var row = new Row(entity.AppliedAt, entity.OccurredAt, entity.EventId, entity.EventJson);
                    // Within the margin of a neighbouring slice, or streamed already (a tie with the last row streamed).
                    if (!slice.Contains(row.AppliedAt.UtcTicks) || (last is not null && Order(row, last) <= 0))
                        continue;
                    histogram.Add(row.AppliedAt.UtcTicks);
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
                histogram.Remove(row.AppliedAt.UtcTicks);
                // Rows without JSON take their place in the order like any other, so each is counted once, when reached.
                if (row.Json is not { Length: > 0 })
                {
                    Stats.Unreplayable++;
                    continue;
                }
                LeadEvent e;
                try
                {
                    e = LeadEventJson.Deserialize(row.Json);
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
            if (!more)
                continue;
            last = earliest[^1];
            // The rest of this slice, from the last streamed row's time (ties may remain) to its end, earliest on top.
            var rest = histogram.Split(last.AppliedAt.UtcTicks, slice.ToTicks, Window);
            for (var i = rest.Count - 1; i >= 0; i--)
                pending.Push(rest[i]);
        }
    }

    private static string Filter(string leadId, Slice slice) => (slice.FromTicks, slice.ToTicks) switch
    {
        (null, _) => TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.AppliedPrefix} and RowKey lt {AppliedEnd}"),
        ({ } from, null) => TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.AppliedPrefix} and RowKey lt {AppliedEnd} and AppliedAt ge {Widen(from, -1)}"),
        ({ } from, { } to) => TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.AppliedPrefix} and RowKey lt {AppliedEnd} and AppliedAt ge {Widen(from, -1)} and AppliedAt lt {Widen(to, 1)}"),
    };

    private static DateTimeOffset Widen(long ticks, int direction) =>
        new(Math.Clamp(ticks + direction * FilterMargin.Ticks, DateTimeOffset.MinValue.UtcTicks, DateTimeOffset.MaxValue.UtcTicks), TimeSpan.Zero);

    /// <summary>The processor's order, the one <see cref="ReplayOrder.Sort"/> gives.</summary>
    private static int Order(Row a, Row b)
    {
        var c = a.AppliedAt.CompareTo(b.AppliedAt);
        if (c == 0)
            c = a.OccurredAt.CompareTo(b.OccurredAt);
        return c != 0 ? c : string.CompareOrdinal(a.EventId, b.EventId);
    }

    private sealed record Row(DateTimeOffset AppliedAt, DateTimeOffset OccurredAt, string EventId, string? Json);

    /// <summary>AppliedAt ticks from <see cref="FromTicks"/> (inclusive) to <see cref="ToTicks"/> (exclusive); null is unbounded.</summary>
    internal sealed record Slice(long? FromTicks, long? ToTicks)
    {
        public bool Contains(long ticks) => (FromTicks is not { } from || ticks >= from) && (ToTicks is not { } to || ticks < to);
    }

    /// <summary>
    /// Counts of AppliedAt ticks in <see cref="Buckets"/> buckets of a power-of-two width that doubles (merging neighbours)
    /// whenever a time falls outside, growing towards it: exact counts per bucket in fixed memory, however far the times spread.
    /// </summary>
    internal sealed class TimeHistogram
    {
        public const int Buckets = 1_024;

        private long[] _counts = new long[Buckets];
        private long _origin;
        private int _shift;
        private bool _empty = true;

        public void Add(long ticks)
        {
            if (_empty)
            {
                _origin = ticks;
                _empty = false;
            }
            while (ticks < _origin || ticks - _origin >= (long)Buckets << _shift)
                Grow(leftwards: ticks < _origin);
            _counts[(ticks - _origin) >> _shift]++;
        }

        public void Remove(long ticks) => _counts[(ticks - _origin) >> _shift]--;

        /// <summary>
        /// [<paramref name="from"/>, <paramref name="to"/>) cut at bucket edges into slices of at most <paramref name="window"/>
        /// counted rows each (a single bucket holding more stands alone), the earliest first.
        /// </summary>
        public List<Slice> Split(long from, long? to, int window)
        {
            var slices = new List<Slice>();
            var start = from;
            long held = 0;
            for (var i = _empty ? Buckets : (int)Math.Max(0, (from - _origin) >> _shift); i < Buckets; i++)
            {
                if (_counts[i] == 0)
                    continue;
                var edge = _origin + ((long)i << _shift);
                if (held > 0 && held + _counts[i] > window && edge > start)
                {
                    slices.Add(new Slice(start, edge));
                    start = edge;
                    held = 0;
                }
                held += _counts[i];
            }
            slices.Add(new Slice(start, to));
            return slices;
        }

        /// <summary>
        /// Twice the width over twice the span: the old buckets become the left half (growing right) or the right half
        /// (growing left), each old bucket inside one new one, so the counts stay exact. Each step doubles the span, so a lead's
        /// times (AppliedAt is the processor's clock: years apart at most) are covered in a few dozen steps of 1,024 adds.
        /// </summary>
        private void Grow(bool leftwards)
        {
            var origin = leftwards ? _origin - ((long)Buckets << _shift) : _origin;
            var counts = new long[Buckets];
            for (var i = 0; i < Buckets; i++)
            {
                if (_counts[i] != 0)
                    counts[(_origin + ((long)i << _shift) - origin) >> (_shift + 1)] += _counts[i];
            }
            (_counts, _origin, _shift) = (counts, origin, _shift + 1);
        }
    }

    private sealed class LatestFirst : IComparer<Row>
    {
        public static readonly LatestFirst Instance = new();
        public int Compare(Row? x, Row? y) => Order(y!, x!);
    }

    /// <summary>Just past every applied-event row ("|" + 1 is "}").</summary>
    private const string AppliedEnd = "e}";
}
