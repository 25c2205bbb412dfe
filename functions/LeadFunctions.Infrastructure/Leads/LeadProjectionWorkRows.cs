using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Pending projection work in the lead's partition, written in the lead's transaction. A work with stage changes, a new lead's,
/// or one that moves the lead between index partitions gets a row of its own (RowKey <c>x|{eventKey}</c>), deleted once every
/// projection has run it, so a row that is still there after a crash is work a redelivery finishes. A snapshot-only work
/// (<see cref="LeadProjectionWorkRows.IsSnapshotOnly"/>) replaces the lead's one <see cref="LeadProjectionWorkRows.LatestSnapshot"/>
/// row instead and is never deleted: only the latest such work matters, and a redelivery re-runs it harmlessly.
/// </summary>
internal sealed class ProjectionWorkEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>The serialized <see cref="LeadProjectionWork"/>, below <see cref="LeadRowBounds.MaxStringLength"/>.</summary>
    public string WorkJson { get; set; } = "";
    public int EventCount { get; set; }
}

internal static class LeadProjectionWorkRows
{
    public const string Prefix = "x|";

    /// <summary>
    /// The one row holding the lead's latest snapshot-only work, upserted by each and kept after it ran, so a scoring event costs
    /// no delete. <c>!</c> sorts before every event key (letters, digits, <c>_.:-</c>, or <c>#</c> and a hash), so the row is
    /// always in a redelivery's first page of pending work. One per lead, and its text cut to <see cref="MaxTextLength"/>.
    /// </summary>
    public const string LatestSnapshot = Prefix + "!latest";

    /// <summary>Just past every work key (<c>|</c> + 1 is <c>}</c>).</summary>
    public const string End = "x}";

    /// <summary>Pending rows one redelivery reads and runs; more than this many pending is finished by later deliveries.</summary>
    public const int MaxReadPerDelivery = 50;

    /// <summary>Text a work carries (names, owner, causes) is cut to this, so a work row stays far below the property limit.</summary>
    public const int MaxTextLength = 200;

    private static readonly JsonSerializerOptions Json = CreateOptions();

    public static string RowKey(string eventId) => Prefix + LeadRows.EventKey(eventId);

    public static string Serialize(LeadProjectionWork work) => JsonSerializer.Serialize(work, Json);

    public static LeadProjectionWork Deserialize(string json) =>
        JsonSerializer.Deserialize<LeadProjectionWork>(json, Json) ?? throw new InvalidOperationException("An empty projection work row.");

    public static LeadSnapshot Snapshot(LeadScoreState state, TimeSpan halfLife) => new(
        state.Stage ?? LifecycleStage.Lead,
        state.StageChangedAt,
        Bound(state.Owner),
        state.EngagementValue,
        state.EngagementAnchor,
        halfLife.TotalSeconds,
        state.FitGrade,
        state.CreatedAt,
        state.UpdatedAt,
        NameOf(state.Profile),
        Bound(state.Profile.GetValueOrDefault(ProfileFields.Company) is { Length: > 0 } company ? company.Trim() : null),
        state.EventCount);

    /// <summary>Whether anything a projection indexes changed; what only moves UpdatedAt and the event count is not work.</summary>
    public static bool Matters(LeadSnapshot? before, LeadSnapshot after) =>
        before is null
        || before.Stage != after.Stage
        || before.StageChangedAt != after.StageChangedAt
        || !string.Equals(before.Owner, after.Owner, StringComparison.Ordinal)
        || before.EngagementValue != after.EngagementValue
        || before.EngagementAnchor != after.EngagementAnchor
        || before.HalfLifeSeconds != after.HalfLifeSeconds
        || !string.Equals(before.FitGrade, after.FitGrade, StringComparison.Ordinal)
        || !string.Equals(before.Name, after.Name, StringComparison.Ordinal)
        || !string.Equals(before.Company, after.Company, StringComparison.Ordinal);

    /// <summary>
    /// A work every projection acting on it reconciles to <see cref="LeadProjectionWork.After"/> and nothing else: no stage change
    /// (the funnel and the nurture goals act on transitions only), an existing lead, and the same index partitions before and
    /// after (the index uses <see cref="LeadProjectionWork.Before"/> only for the partitions the lead left: none here). Of two such
    /// works a later one therefore covers an earlier one that never ran, and every partition the earlier one touched is one the
    /// later one reconciles; a work in between that moved the lead has its own row and reconciles what it left.
    /// </summary>
    public static bool IsSnapshotOnly(LeadProjectionWork work) =>
        work.Transitions.Count == 0
        && work.Before is not null
        && Lists.LeadIndexRows.Partitions(work.Before).ToHashSet(StringComparer.Ordinal).SetEquals(Lists.LeadIndexRows.Partitions(work.After));

    /// <summary>The event's stage changes with when each left stage was entered (the previous change, or the lead's stage entry before the event).</summary>
    public static List<ProjectedTransition> Transitions(LeadSnapshot? before, IReadOnlyList<(StageChange Change, string EventType)> changes)
    {
        var projected = new List<ProjectedTransition>(changes.Count);
        DateTimeOffset? enteredAt = before?.StageChangedAt;
        for (var i = 0; i < changes.Count; i++)
        {
            var (change, eventType) = changes[i];
            projected.Add(new ProjectedTransition(i, change.At, change.From, change.From is null ? null : enteredAt, change.To,
                Bound(change.CausedBy) ?? "", eventType == LeadEventTypes.SalesDecision));
            enteredAt = change.At;
        }
        return projected;
    }

    private static string? NameOf(Dictionary<string, string> profile)
    {
        var first = profile.GetValueOrDefault(ProfileFields.FirstName)?.Trim();
        var last = profile.GetValueOrDefault(ProfileFields.LastName)?.Trim();
        var name = string.Join(' ', new[] { first, last }.Where(p => !string.IsNullOrEmpty(p)));
        return name.Length == 0 ? null : Bound(name);
    }

    private static string? Bound(string? text) => text is null || text.Length <= MaxTextLength ? text : text[..MaxTextLength];

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
