using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>The processor's memory of the leads it wrote last (<see cref="LeadStateCache"/>).</summary>
public sealed class LeadCacheOptions
{
    public const string SectionName = "LeadCache";

    /// <summary>
    /// Leads remembered per instance, least recently used forgotten first; 0 turns the memory off (every event reads its lead).
    /// A lead row is a few KiB at most, so the default costs a few MiB of the instance's memory at worst.
    /// </summary>
    [Range(0, 100_000, ErrorMessage = "LeadCache:MaxLeads must be between 0 and 100000.")]
    public int MaxLeads { get; set; } = 4096;

    /// <summary>
    /// How long a remembered row may be used after this instance committed it; older, it is dropped and the next event reads
    /// the lead. The memory pays off for a visitor's consecutive events, which come within minutes of each other (a page view,
    /// the next, a form); a lead quiet for longer costs one read on its next event, which is rare. The bound is what lets an
    /// erased person's name and address not outlive the erasure in another instance's memory for long (docs/privacy.md).
    /// </summary>
    [Range(1, 3_600, ErrorMessage = "LeadCache:MaxAgeSeconds must be between 1 and 3600.")]
    public int MaxAgeSeconds { get; set; } = 600;
}

/// <summary>
/// The lead rows this instance committed last, with the ETags their transactions returned, so the lead's next event here writes
/// against that ETag instead of reading the row first (one request instead of two). Only a hint: the write is still
/// ETag-checked, so a lead that anyone else changed since (another instance, the timer, an erasure that deleted it) fails the
/// transaction (412, or 404 once the row is gone), the processor forgets it and goes the reading way. What the read supplied
/// besides the row is not skipped: a redelivered event still fails on its applied-event row (409) inside the same transaction,
/// and a missing lead (never cached) is still checked against the erasure tombstone.
/// Bounded by <see cref="LeadCacheOptions.MaxLeads"/>, least recently used first out, and in time by
/// <see cref="LeadCacheOptions.MaxAgeSeconds"/> since the commit: an older row is never used, and is dropped when looked up,
/// by a sweep on each remember, and by a sweep every quarter of the age (so an instance that gets no more events lets go of
/// it too, within 1.25 times the age). Thread-safe; entries are copies.
/// </summary>
public sealed class LeadStateCache : IDisposable
{
    private static readonly PropertyInfo[] Columns = [.. typeof(LeadEntity).GetProperties(BindingFlags.Instance | BindingFlags.Public).Where(p => p.CanRead && p.CanWrite)];

    private readonly int _max;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;
    private readonly ITimer? _sweeper;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    /// <summary>Most recently used first: eviction takes the last.</summary>
    private readonly LinkedList<Entry> _order = new();
    /// <summary>Oldest commit first: the sweep stops at the first entry young enough.</summary>
    private readonly LinkedList<Entry> _byAge = new();

    public LeadStateCache(IOptions<LeadCacheOptions> options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _max = options.Value.MaxLeads;
        _maxAge = TimeSpan.FromSeconds(options.Value.MaxAgeSeconds);
        _time = time ?? TimeProvider.System;
        if (_max > 0)
        {
            var period = _maxAge / 4;
            _sweeper = _time.CreateTimer(static state => ((LeadStateCache)state!).Sweep(), this, period, period);
        }
    }

    /// <summary>Leads remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _entries.Count;
        }
    }

    /// <summary>Whether the lead is remembered (for tests and diagnostics; does not count as a use).</summary>
    public bool Contains(string leadId)
    {
        lock (_lock)
            return _entries.ContainsKey(leadId);
    }

    /// <summary>A copy of the lead row as this instance last committed it, with its ETag; null when not remembered or too old.</summary>
    internal LeadEntity? TryGet(string leadId)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(leadId, out var entry))
                return null;
            if (IsExpired(entry, _time.GetUtcNow()))
            {
                Drop(entry);
                return null;
            }
            _order.Remove(entry.Use);
            _order.AddFirst(entry.Use);
            return Copy(entry.Row);
        }
    }

    /// <summary>Remembers the row just committed; <paramref name="etag"/> is the one its transaction returned (none: forgotten).</summary>
    internal void Remember(LeadEntity committed, Azure.ETag? etag)
    {
        if (_max == 0)
            return;
        if (etag is not { } written || written == default)
        {
            Forget(committed.PartitionKey);
            return;
        }
        var row = Copy(committed);
        row.ETag = written;
        row.Timestamp = null;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            SweepLocked(now);
            if (_entries.TryGetValue(row.PartitionKey, out var known))
                Drop(known);
            while (_entries.Count >= _max && _order.Last is { } leastRecent)
                Drop(leastRecent.Value);
            var entry = new Entry(row, now);
            _order.AddFirst(entry.Use);
            _byAge.AddLast(entry.Age);
            _entries[row.PartitionKey] = entry;
        }
    }

    /// <summary>Drops the lead (a conflict, or its erasure).</summary>
    internal void Forget(string leadId)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(leadId, out var entry))
                Drop(entry);
        }
    }

    /// <summary>Drops every row older than the age (the timer's sweep; also run on each remember).</summary>
    public void Sweep()
    {
        lock (_lock)
            SweepLocked(_time.GetUtcNow());
    }

    public void Dispose() => _sweeper?.Dispose();

    private void SweepLocked(DateTimeOffset now)
    {
        while (_byAge.First is { } oldest && IsExpired(oldest.Value, now))
            Drop(oldest.Value);
    }

    private bool IsExpired(Entry entry, DateTimeOffset now) => now - entry.RememberedAt >= _maxAge;

    private void Drop(Entry entry)
    {
        _entries.Remove(entry.Row.PartitionKey);
        _order.Remove(entry.Use);
        _byAge.Remove(entry.Age);
    }

    /// <summary>A remembered row, when it was committed, and its places in both orders.</summary>
    private sealed class Entry
    {
        public Entry(LeadEntity row, DateTimeOffset rememberedAt)
        {
            Row = row;
            RememberedAt = rememberedAt;
            Use = new LinkedListNode<Entry>(this);
            Age = new LinkedListNode<Entry>(this);
        }

        public LeadEntity Row { get; }
        public DateTimeOffset RememberedAt { get; }
        public LinkedListNode<Entry> Use { get; }
        public LinkedListNode<Entry> Age { get; }
    }

    /// <summary>
    /// A column-by-column copy, times in UTC as a read returns them (storage keeps the instant, not the offset an event came
    /// with), so a remembered lead is what reading it would give.
    /// </summary>
    private static LeadEntity Copy(LeadEntity source)
    {
        var copy = new LeadEntity();
        foreach (var column in Columns)
        {
            var value = column.GetValue(source);
            column.SetValue(copy, value is DateTimeOffset at ? at.ToUniversalTime() : value);
        }
        return copy;
    }
}
