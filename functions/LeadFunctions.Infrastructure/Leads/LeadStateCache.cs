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
}

/// <summary>
/// The lead rows this instance committed last, with the ETags their transactions returned, so the lead's next event here writes
/// against that ETag instead of reading the row first (one request instead of two). Only a hint: the write is still
/// ETag-checked, so a lead that anyone else changed since (another instance, the timer, an erasure that deleted it) fails the
/// transaction (412, or 404 once the row is gone), the processor forgets it and goes the reading way. What the read supplied
/// besides the row is not skipped: a redelivered event still fails on its applied-event row (409) inside the same transaction,
/// and a missing lead (never cached) is still checked against the erasure tombstone.
/// Bounded by <see cref="LeadCacheOptions.MaxLeads"/>, least recently used first out. Thread-safe; entries are copies.
/// </summary>
public sealed class LeadStateCache(IOptions<LeadCacheOptions> options)
{
    private static readonly PropertyInfo[] Columns = [.. typeof(LeadEntity).GetProperties(BindingFlags.Instance | BindingFlags.Public).Where(p => p.CanRead && p.CanWrite)];

    private readonly int _max = options.Value.MaxLeads;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<LeadEntity>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<LeadEntity> _order = new();

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

    /// <summary>A copy of the lead row as this instance last committed it, with its ETag; null when not remembered.</summary>
    internal LeadEntity? TryGet(string leadId)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(leadId, out var node))
                return null;
            _order.Remove(node);
            _order.AddFirst(node);
            return Copy(node.Value);
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
        var entry = Copy(committed);
        entry.ETag = written;
        entry.Timestamp = null;
        lock (_lock)
        {
            if (_entries.TryGetValue(entry.PartitionKey, out var node))
            {
                node.Value = entry;
                _order.Remove(node);
                _order.AddFirst(node);
                return;
            }
            while (_entries.Count >= _max && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _entries.Remove(oldest.Value.PartitionKey);
            }
            _entries[entry.PartitionKey] = _order.AddFirst(entry);
        }
    }

    /// <summary>Drops the lead (a conflict, or its erasure).</summary>
    internal void Forget(string leadId)
    {
        lock (_lock)
        {
            if (_entries.Remove(leadId, out var node))
                _order.Remove(node);
        }
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
