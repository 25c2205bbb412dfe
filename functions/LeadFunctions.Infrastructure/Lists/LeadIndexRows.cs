using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>The table the lead index lives in (Lists:IndexTable), typed so it cannot be confused with another table.</summary>
public sealed record LeadIndexTable(TableClient Client);

/// <summary>
/// Keys of the lead index. A partition per stage (<c>stage|SQL</c>) and per owner and stage (<c>owner|{hash}|SQL</c>; the
/// owner is hashed, so no name is ever a key or in a continuation token). In each partition a lead the stage holds has two
/// rows, one per sort order, and every lead the partition ever held has an anchor row naming its current rows:
/// <list type="bullet">
/// <item><c>n|{inverted stage-entry ticks}|{leadId}</c>: <c>sort=newest</c>, newest entry into the stage first.</item>
/// <item><c>s|{inverted score key}|{leadId}</c>: <c>sort=score</c>, highest engagement now first.</item>
/// <item><c>l|{leadId}</c>: the anchor: the version (event count) the partition reflects and the keys of the lead's rows.</item>
/// </list>
/// </summary>
internal static class LeadIndexRows
{
    public const string NewestPrefix = "n|";
    public const string ScorePrefix = "s|";
    public const string AnchorPrefix = "l|";

    /// <summary>The score key is kept within ±this; decayed to nothing (value 0) sits at the floor and sorts last.</summary>
    private const double KeyLimit = 1e7;
    /// <summary>Steps of the score key per unit (a unit is a doubling of engagement): ties finer than this go by lead id.</summary>
    private const double KeyResolution = 1e6;

    public static string StagePartition(LifecycleStage stage) => "stage|" + LeadListService.Name(stage);

    public static string OwnerPartition(string owner, LifecycleStage stage) => OwnerHashPartition(OwnerHash(owner), stage);

    /// <summary>The owner partition of an owner already hashed (as an owner partition's key names it).</summary>
    public static string OwnerHashPartition(string ownerHash, LifecycleStage stage) => $"owner|{ownerHash}|{LeadListService.Name(stage)}";

    /// <summary>The owner hash an owner partition's key names; null for a stage partition or anything else.</summary>
    public static string? OwnerHashOf(string partition)
    {
        var parts = partition.Split('|');
        return parts.Length == 3 && parts[0] == "owner" && parts[1].Length > 0 ? parts[1] : null;
    }

    /// <summary>The owner as the index keys it: trimmed, case-insensitive, hashed.</summary>
    public static string OwnerHash(string owner) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(owner.Trim().ToUpperInvariant())))[..32];

    public static string Anchor(string leadId) => AnchorPrefix + leadId;

    public static string Newest(DateTimeOffset stageChangedAt, string leadId) =>
        $"{NewestPrefix}{(DateTimeOffset.MaxValue.UtcTicks - stageChangedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture)}|{leadId}";

    public static string Score(double scoreKey, string leadId) => $"{ScoreKeyBound(scoreKey)}|{leadId}";

    /// <summary>Every score row whose key is at least <paramref name="scoreKey"/> sorts at or before this.</summary>
    public static string ScoreKeyBound(double scoreKey)
    {
        var clamped = Math.Clamp(scoreKey, -KeyLimit, KeyLimit);
        var inverted = (long)Math.Floor((KeyLimit - clamped) * KeyResolution);
        return ScorePrefix + inverted.ToString("D19", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The time-invariant order of engagement that decays with one half-life: log2(value) + anchor/halfLife. The score at any
    /// instant t is 2^(key − t/halfLife), so ordering by the key is ordering by the score now, whenever now is.
    /// </summary>
    public static double ScoreKey(double value, DateTimeOffset anchor, double halfLifeSeconds) =>
        value <= 0 || halfLifeSeconds <= 0 ? -KeyLimit : Math.Log2(value) + anchor.ToUnixTimeMilliseconds() / 1000d / halfLifeSeconds;

    /// <summary>The score key a lead needs to score at least <paramref name="minScore"/> at <paramref name="now"/>.</summary>
    public static double ScoreKeyAtLeast(double minScore, DateTimeOffset now, double halfLifeSeconds) =>
        Math.Log2(minScore) + now.ToUnixTimeMilliseconds() / 1000d / halfLifeSeconds;

    public static IReadOnlyList<string> Partitions(LeadSnapshot lead) =>
        string.IsNullOrWhiteSpace(lead.Owner)
            ? [StagePartition(lead.Stage)]
            : [StagePartition(lead.Stage), OwnerPartition(lead.Owner, lead.Stage)];

    public static LeadIndexEntity Row(string partition, string rowKey, string leadId, LeadSnapshot lead) => new()
    {
        PartitionKey = partition,
        RowKey = rowKey,
        LeadId = leadId,
        Name = lead.Name,
        Company = lead.Company,
        Stage = lead.Stage.ToString(),
        StageChangedAt = lead.StageChangedAt,
        Owner = lead.Owner,
        EngagementValue = lead.EngagementValue,
        EngagementAnchor = lead.EngagementAnchor,
        HalfLifeSeconds = lead.HalfLifeSeconds,
        ScoreKey = ScoreKey(lead.EngagementValue, lead.EngagementAnchor, lead.HalfLifeSeconds),
        FitGrade = lead.FitGrade,
        UpdatedAt = lead.UpdatedAt,
    };
}

/// <summary>
/// One list row: what a list item shows, so a page is served without reading a lead. Holds the lead's name and company
/// (personal data): export and erasure find it by <see cref="LeadId"/>.
/// </summary>
internal sealed class LeadIndexEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string LeadId { get; set; } = "";
    public string? Name { get; set; }
    public string? Company { get; set; }
    public string Stage { get; set; } = "";
    public DateTimeOffset StageChangedAt { get; set; }
    public string? Owner { get; set; }
    public double EngagementValue { get; set; }
    public DateTimeOffset EngagementAnchor { get; set; }
    public double HalfLifeSeconds { get; set; }
    public double ScoreKey { get; set; }
    public string FitGrade { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// What one partition holds of a lead, written in the same transaction as its rows, so the two never disagree. A lead that
/// left the partition keeps its anchor (no rows, the version it left at), so a late, older work cannot put it back.
/// </summary>
internal sealed class LeadIndexAnchorEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string LeadId { get; set; } = "";
    /// <summary>The lead's event count this partition reflects.</summary>
    public int Version { get; set; }
    public string? NewestKey { get; set; }
    public string? ScoreRowKey { get; set; }

    /// <summary>
    /// When the lead id was last erased, if ever: work of a lead created at or before this is the erased person's and writes
    /// nothing here. An erasure marker (<see cref="IsErasureMarker"/>) has only this, the lead id and version 0; a lead
    /// created again after the erasure replaces the marker with a real anchor that carries the time on.
    /// </summary>
    public DateTimeOffset? ErasedAt { get; set; }

    public bool IsErasureMarker => ErasedAt is not null && Version == 0;
}
