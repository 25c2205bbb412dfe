using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Funnel;

/// <summary>
/// The layout of the counters table: one partition per shard, every row key sorted so a report reads it with a few range queries.
/// <list type="bullet">
/// <item><c>now|{stage}</c>: leads in the stage now (<c>Count</c>).</item>
/// <item><c>d|{yyyyMMdd}|c</c>: entries into each stage that day (<c>E{stage}</c>) and, for the leads that entered a stage that day,
/// how many later left it for a later stage (<c>C{stage}</c>).</item>
/// <item><c>d|{yyyyMMdd}|h{stage}</c>: time spent in the stage by the leads that left it that day, a histogram (<c>b{bucket}</c>).</item>
/// <item><c>d|{yyyyMMdd}|fa</c>: time from entering SQL to the first sales action, for the first actions taken that day.</item>
/// <item><c>sla|{yyyyMMddHHmm}</c>: SQLs that entered in that minute and nobody in sales has acted on (<c>Count</c>); deleted at 0.</item>
/// <item><c>f|{hash of lead id}|{ticks}</c>: an SQL episode sales acted on, or that closed (keyed by the time the lead's stage last changed).</item>
/// <item><c>m|{yyyyMMdd}|{event}|{index}</c>: the transition was counted (the exactly-once marker), by the day its event was applied.</item>
/// </list>
/// </summary>
internal static class FunnelRows
{
    public const string NowPrefix = "now|";
    public const string DayPrefix = "d|";
    public const string SlaPrefix = "sla|";
    public const string EpisodePrefix = "f|";
    public const string MarkerPrefix = "m|";

    public const string Count = "Count";

    public static string Partition(int shard) => "s" + shard.ToString("D2", CultureInfo.InvariantCulture);

    /// <summary>A stable shard for a lead: the same on every worker and every run.</summary>
    public static int ShardOf(string leadId, int shards)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(leadId));
        return (int)(BitConverter.ToUInt32(hash, 0) % (uint)shards);
    }

    public static string Now(LifecycleStage stage) => NowPrefix + StageKey(stage);

    public static string Day(DateTimeOffset day) => DayPrefix + DayKey(day);

    public static string DayCounts(DateTimeOffset at) => Day(at) + "|c";

    public static string TimeInStage(DateTimeOffset at, LifecycleStage stage) => Day(at) + "|h" + StageKey(stage);

    public static string FirstAction(DateTimeOffset at) => Day(at) + "|fa";

    public static string Sla(DateTimeOffset enteredAt) => SlaPrefix + MinuteKey(enteredAt);

    /// <summary>By a one-way hash of the lead id, so the counters table names no lead (an erased lead leaves nothing to find).</summary>
    public static string Episode(string leadId, DateTimeOffset stageChangedAt) =>
        EpisodePrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("funnel-episode|" + leadId)))[..32] + "|"
        + stageChangedAt.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    public static string Marker(DateTimeOffset appliedAt, string eventId, int index) =>
        MarkerPrefix + DayKey(appliedAt) + "|" + LeadRows.EventKey(eventId) + "|" + index.ToString("D2", CultureInfo.InvariantCulture);

    public static string Entries(LifecycleStage stage) => "E" + StageKey(stage);

    public static string Conversions(LifecycleStage stage) => "C" + StageKey(stage);

    public static string StageKey(LifecycleStage stage) => ((int)stage).ToString(CultureInfo.InvariantCulture);

    public static string DayKey(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string MinuteKey(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);
}

/// <summary>
/// Log-spaced buckets of a duration in minutes: bucket 0 holds up to one minute, bucket k up to 2^(k/4) minutes (each bound about
/// 19% above the last), the last one everything longer. A percentile is reported as the upper bound of the bucket it falls in, so
/// it is never below the true value and at most 19% above it.
/// </summary>
public static class FunnelBuckets
{
    /// <summary>2^(84/4) minutes is about four years; longer durations share the last bucket.</summary>
    public const int Last = 84;

    public static int Of(TimeSpan duration)
    {
        var minutes = duration.TotalMinutes;
        if (minutes <= 1)
            return 0;
        // The small tolerance keeps a duration exactly on a bound (64 min = 2^(24/4)) in its own bucket.
        var bucket = (int)Math.Ceiling(4 * Math.Log2(minutes) - 1e-9);
        return Math.Clamp(bucket, 1, Last);
    }

    public static double UpperBoundMinutes(int bucket) => Math.Pow(2, bucket / 4.0);

    public static string Property(int bucket) => "b" + bucket.ToString("D2", CultureInfo.InvariantCulture);

    public static bool TryParseProperty(string name, out int bucket)
    {
        bucket = -1;
        return name.Length == 3 && name[0] == 'b' && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out bucket) && bucket <= Last;
    }

    /// <summary>The nearest-rank percentile (the value at rank ⌈p·n⌉) as the upper bound of its bucket, in minutes; null when empty.</summary>
    public static double? Percentile(IReadOnlyDictionary<int, long> histogram, double p)
    {
        var total = histogram.Values.Where(v => v > 0).Sum();
        if (total <= 0)
            return null;
        var rank = Math.Max(1, (long)Math.Ceiling(p * total));
        long seen = 0;
        foreach (var (bucket, count) in histogram.Where(h => h.Value > 0).OrderBy(h => h.Key))
        {
            seen += count;
            if (seen >= rank)
                return UpperBoundMinutes(bucket);
        }
        return UpperBoundMinutes(histogram.Keys.Max());
    }
}
