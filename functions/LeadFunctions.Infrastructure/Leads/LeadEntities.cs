using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Row keys inside a lead's partition (PartitionKey = lead id). Prefixes keep each kind contiguous so one kind can be
/// range-queried, and the lead row sorts before everything else.
/// </summary>
internal static partial class LeadRows
{
    public const string Lead = "!lead";
    public const string Visitor = "!visitor";
    public const string AppliedPrefix = "e|";
    public const string LedgerPrefix = "s|";
    public const string HistoryPrefix = "h|";

    /// <summary>Retention's carried-forward ledger rows, one per rule; "!" sorts them before every event's ledger rows.</summary>
    public const string LedgerFoldPrefix = "s|!fold|";
    /// <summary>Pending anonymous events under a visitor, ordered by time, so a stitch and the per-visitor bound read ranges.</summary>
    public const string PendingPrefix = "p|";

    /// <summary>Where earlier versions kept pending visitor events (unordered); still read, at most a page at a time, by a stitch.</summary>
    public const string LegacyPendingPrefix = AppliedPrefix;

    public static string Applied(string eventId) => AppliedPrefix + EventKey(eventId);

    /// <summary>
    /// Time first, then the event: the same message always maps to the same key (so a redelivery is a 409), and a range
    /// read returns the oldest first.
    /// </summary>
    public static string Pending(DateTimeOffset occurredAt, string eventId) =>
        $"{PendingPrefix}{Math.Max(0, occurredAt.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture)}|{EventKey(eventId)}";

    /// <summary>
    /// Ledger and history rows written since the lead detail is paged: "~" and the inverted ticks of when the row happened, so
    /// the newest N of a lead are the first N of one ascending range read. "~" sorts after every character an event key or
    /// the old layouts can start with, so each layout stays a contiguous range of its own.
    /// </summary>
    public const string NewestFirstMark = "~";

    /// <summary>Ledger rows newest first: <c>s|~{inverted ticks}|{event}|{index}</c>, from here up to <see cref="LedgerEnd"/>.</summary>
    public const string LedgerNewestFirstPrefix = LedgerPrefix + NewestFirstMark;

    /// <summary>Ledger rows of the first layout (<c>s|{event}|{index}</c>, in event-id order): from here up to <see cref="LedgerNewestFirstPrefix"/>.</summary>
    public const string LegacyLedgerFrom = LedgerPrefix + "#";

    /// <summary>Just past every ledger row ("|" + 1 is "}").</summary>
    public const string LedgerEnd = "s}";

    /// <summary>Just past retention's carried-forward rows.</summary>
    public const string LedgerFoldEnd = "s|!fold}";

    /// <summary>History rows newest first: <c>h|~{inverted ticks}|{event}|{index}</c>, up to <see cref="HistoryEnd"/>.</summary>
    public const string HistoryNewestFirstPrefix = HistoryPrefix + NewestFirstMark;

    /// <summary>History rows of the first layout (<c>h|{ticks}|…</c>, oldest first): from <see cref="HistoryPrefix"/> up to <see cref="HistoryNewestFirstPrefix"/>.</summary>
    public const string HistoryEnd = "h}";

    /// <summary>The same event's rows keep their index order; a later time gives a smaller key, so an ascending read is newest first.</summary>
    public static string Ledger(DateTimeOffset at, string eventId, int index) =>
        $"{LedgerNewestFirstPrefix}{InvertedTicks(at)}|{EventKey(eventId)}|{index.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The first layout's ledger key: still read (and folded by retention), no longer written.</summary>
    public static string LegacyLedger(string eventId, int index) =>
        $"{LedgerPrefix}{EventKey(eventId)}|{index.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)}";

    public static string History(DateTimeOffset at, string eventId, int index) =>
        $"{HistoryNewestFirstPrefix}{InvertedTicks(at)}|{EventKey(eventId)}|{index.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The key ranges holding a lead's history rows of one instant, in the current layout and the first one: a reader that asks
    /// "did this change commit?" finds it whichever layout wrote it.
    /// </summary>
    public static IReadOnlyList<(string From, string To)> HistoryRangesAt(DateTimeOffset at)
    {
        var inverted = $"{HistoryNewestFirstPrefix}{InvertedTicks(at)}|";
        var legacy = $"{HistoryPrefix}{at.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)}|";
        // "|" + 1 is "}": just past every key with that prefix.
        return [(inverted, inverted[..^1] + "}"), (legacy, legacy[..^1] + "}")];
    }

    /// <summary>The first layout's history key (oldest first): still read, no longer written.</summary>
    public static string LegacyHistory(DateTimeOffset at, string eventId, int index) =>
        $"{HistoryPrefix}{at.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)}|{EventKey(eventId)}|{index.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)}";

    private static string InvertedTicks(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - Math.Clamp(at.UtcTicks, 0, DateTimeOffset.MaxValue.UtcTicks)).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The event id itself when it is a safe key; otherwise a stable hash (keys forbid / \ # ? and control characters).</summary>
    public static string EventKey(string eventId) =>
        SafeKey().IsMatch(eventId) ? eventId : "#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)))[..40];

    [GeneratedRegex("^[A-Za-z0-9_.:\\-]{1,200}$")]
    private static partial Regex SafeKey();
}

/// <summary>The lead itself: profile, stage, anchored engagement and fit. Updated with its ETag so no update is lost.</summary>
internal sealed class LeadEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = LeadRows.Lead;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string? Email { get; set; }
    public string Stage { get; set; } = "";
    public DateTimeOffset StageChangedAt { get; set; }
    public string ProfileJson { get; set; } = "{}";
    public string ConsentsJson { get; set; } = "[]";
    public double EngagementValue { get; set; }
    public DateTimeOffset EngagementAnchor { get; set; }
    public double HalfLifeSeconds { get; set; }
    public double FitScore { get; set; }
    public string FitGrade { get; set; } = "D";
    public string FitFactorsJson { get; set; } = "[]";
    public string ModelVersion { get; set; } = "";
    public bool Unsubscribed { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string CapsJson { get; set; } = "{}";
    public double RequalifyFloorValue { get; set; }
    public DateTimeOffset RequalifyFloorAt { get; set; }
    public string LinkedVisitorsJson { get; set; } = "[]";
    public int EventCount { get; set; }
    public string? Owner { get; set; }

    /// <summary>
    /// The named scores' state (<c>{ "name": { value, anchor, halfLifeSeconds, floorValue, floorAt } }</c>); absent (null) for a lead
    /// with none, so a model without named scores writes the row it always wrote. At most the model's named scores (bounded by
    /// the loader), so it stays a few KiB at worst.
    /// </summary>
    public string? ScoresJson { get; set; }

    /// <summary>
    /// The model version every engagement point of the lead was scored by: set at creation and by a re-score, and
    /// <see cref="Scoring.Publishing.PointsVersion.Mixed"/> once an event is scored by another version. Absent on rows written
    /// before publishing existed (read as <see cref="ModelVersion"/>).
    /// </summary>
    public string? PointsModelVersion { get; set; }

    /// <summary>Form id (validated by the forms file's id pattern, cut to 100) and intent of the first form submission.</summary>
    public string? OriginForm { get; set; }
    public string? OriginIntent { get; set; }
}

/// <summary>Proof an event was applied; adding it in the same transaction is what makes a redelivery a no-op.</summary>
internal sealed class AppliedEventEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public DateTimeOffset OccurredAt { get; set; }
    public DateTimeOffset AppliedAt { get; set; }
    public string ModelVersion { get; set; } = "";

    /// <summary>The event as received, so a proposed model can be replayed over stored events; omitted if too large for a property.</summary>
    public string? EventJson { get; set; }
}

/// <summary>One ledger row: an event met a rule (or was recorded without points).</summary>
internal sealed class LedgerEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public string RuleId { get; set; } = "";
    public string Score { get; set; } = "";
    public double Points { get; set; }
    public DateTimeOffset At { get; set; }
    public string ModelVersion { get; set; } = "";
    public bool Capped { get; set; }
    public string? Note { get; set; }

    /// <summary>Read from a carried-forward row's own columns (see the retention runner's fold row); never written from here.</summary>
    [System.Runtime.Serialization.IgnoreDataMember]
    public Domain.Leads.LedgerFold? Fold { get; set; }
}

/// <summary>One stage transition.</summary>
internal sealed class HistoryEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset At { get; set; }
    public string? From { get; set; }
    public string To { get; set; } = "";
    public string Reason { get; set; } = "";
    public string CausedBy { get; set; } = "";
    public string ModelVersion { get; set; } = "";
    public string? EventId { get; set; }
}

/// <summary>
/// An anonymous visitor (PartitionKey = visitor key). Every pending event bumps its ETag, and claiming the visitor for a
/// lead updates it with the ETag read, so an event that arrives during the claim goes round again and finds the owner.
/// A visitor is claimed once: its <see cref="LeadId"/> never changes after.
/// </summary>
internal sealed class VisitorEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = LeadRows.Visitor;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Set once, when the visitor converts; later anonymous events go straight to this lead.</summary>
    public string? LeadId { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Pending event rows under this visitor; kept at most <see cref="Scoring.ScoringOptions.MaxPendingVisitorEvents"/>.</summary>
    public int PendingCount { get; set; }
}

/// <summary>An anonymous event waiting for its visitor to convert.</summary>
internal sealed class VisitorEventEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EventJson { get; set; } = "";
    public DateTimeOffset OccurredAt { get; set; }
}
