using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LeadFunctions.Infrastructure.Nurture.Results;

/// <summary>The results counters table, typed so it cannot be confused with another table.</summary>
public sealed record NurtureResultsTable(Azure.Data.Tables.TableClient Client);

/// <summary>
/// The layout of the results table: one partition per shard (<c>s00</c>…), a message always in the shard of its id's hash.
/// <list type="bullet">
/// <item><c>c|{programme}|{step}</c>: the step's counters in this shard (<see cref="CounterColumns"/>), with the ids as columns.</item>
/// <item><c>m|{yyyyMMdd of the send}|{hash of the message id}</c>: what of that message has been counted (the exactly-once marker),
/// keyed by the send day so retention deletes old ones with one range query per shard. A one-way hash, because a message id
/// contains the lead id: the table names no lead, so erasure has nothing to do here.</item>
/// </list>
/// Ids of programmes and steps are <c>[a-z0-9-]</c> (the catalogue checks it), so <c>|</c> separates them safely.
/// </summary>
internal static class NurtureResultRows
{
    public const string CounterPrefix = "c|";
    public const string CounterEnd = "c}";
    public const string MarkerPrefix = "m|";

    public static string Partition(int shard) => "s" + shard.ToString("D2", CultureInfo.InvariantCulture);

    public static int ShardOf(string messageId, int shards)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(messageId));
        return (int)(BitConverter.ToUInt32(hash, 0) % (uint)shards);
    }

    public static string Counter(string programme, string step) => CounterPrefix + programme + "|" + step;

    public static string Marker(DateTimeOffset sentAt, string messageId) =>
        MarkerPrefix + DayKey(sentAt) + "|" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("nurture-result|" + messageId)))[..32];

    public static string DayKey(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}

/// <summary>The counters of one step (Int64 columns of a <c>c|</c> row).</summary>
internal static class CounterColumns
{
    public const string Programme = "Programme";
    public const string Step = "Step";
    public const string Sent = "Sent";
    public const string Delivered = "Delivered";
    public const string Bounced = "Bounced";
    public const string Opened = "Opened";
    public const string HumanOpens = "HumanOpens";
    public const string Clicked = "Clicked";
    public const string HumanClicks = "HumanClicks";
    public const string Unsubscribed = "Unsubscribed";
    public const string Goals = "Goals";

    public static readonly string[] All = [Sent, Delivered, Bounced, Opened, HumanOpens, Clicked, HumanClicks, Unsubscribed, Goals];
}

/// <summary>
/// What is known (from the e-mail record and its delivery reports) or has been counted (the marker) of one message. Every field
/// only grows, so counting is the difference between what is known and what was counted, and counting twice adds nothing.
/// </summary>
internal sealed record MessageFacts(bool Sent, bool Delivered, bool Bounced, int HumanOpens, int HumanClicks, bool Unsubscribed, bool Goal)
{
    public static readonly MessageFacts None = new(false, false, false, 0, 0, false, false);

    public MessageFacts Union(MessageFacts other) => new(
        Sent || other.Sent, Delivered || other.Delivered, Bounced || other.Bounced,
        Math.Max(HumanOpens, other.HumanOpens), Math.Max(HumanClicks, other.HumanClicks),
        Unsubscribed || other.Unsubscribed, Goal || other.Goal);

    /// <summary>What the counters gain going from <paramref name="counted"/> to this.</summary>
    public Dictionary<string, long> DeltasFrom(MessageFacts counted)
    {
        var deltas = new Dictionary<string, long>(StringComparer.Ordinal);
        void Add(string column, long delta)
        {
            if (delta != 0)
                deltas[column] = delta;
        }
        Add(CounterColumns.Sent, Flag(Sent) - Flag(counted.Sent));
        Add(CounterColumns.Delivered, Flag(Delivered) - Flag(counted.Delivered));
        Add(CounterColumns.Bounced, Flag(Bounced) - Flag(counted.Bounced));
        Add(CounterColumns.Opened, Flag(HumanOpens > 0) - Flag(counted.HumanOpens > 0));
        Add(CounterColumns.HumanOpens, HumanOpens - counted.HumanOpens);
        Add(CounterColumns.Clicked, Flag(HumanClicks > 0) - Flag(counted.HumanClicks > 0));
        Add(CounterColumns.HumanClicks, HumanClicks - counted.HumanClicks);
        Add(CounterColumns.Unsubscribed, Flag(Unsubscribed) - Flag(counted.Unsubscribed));
        Add(CounterColumns.Goals, Flag(Goal) - Flag(counted.Goal));
        return deltas;
    }

    private static long Flag(bool value) => value ? 1 : 0;
}
