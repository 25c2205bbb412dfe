using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Scoring;

/// <summary>
/// Everything the engine needs to know about a lead to apply the next event, and everything it changes.
/// Engagement is kept as its value at an anchor time; its value at any instant is exactly
/// <c>EngagementValue · 2^(−(t − EngagementAnchor) / halfLife)</c>, so decay needs no batch job.
/// Mutable on purpose: the processor reads it, the engine updates it in place, the processor writes it back.
/// </summary>
public sealed class LeadScoreState
{
    public required string LeadId { get; init; }
    public string? Email { get; set; }

    /// <summary>Null until the first event gives the lead a stage.</summary>
    public LifecycleStage? Stage { get; set; }
    public DateTimeOffset StageChangedAt { get; set; }

    public Dictionary<string, string> Profile { get; init; } = new(StringComparer.Ordinal);
    public List<ConsentRecord> Consents { get; init; } = [];

    public double EngagementValue { get; set; }
    public DateTimeOffset EngagementAnchor { get; set; }

    /// <summary>
    /// The named scores (<see cref="ScoringModel.Scores"/>) the lead has earned points in, each anchored like engagement; a score
    /// the lead never earned is absent (reads as 0). Kept to the model's named scores on every write, so it stays small.
    /// </summary>
    public Dictionary<string, NamedScoreState> Scores { get; init; } = new(StringComparer.Ordinal);

    public double FitScore { get; set; }
    public string FitGrade { get; set; } = "D";
    public List<FitFactor> FitFactors { get; init; } = [];

    /// <summary>The model version that last scored this lead.</summary>
    public string ModelVersion { get; set; } = "";

    public bool Unsubscribed { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Awards per capped rule in the current period.</summary>
    public Dictionary<string, CapCounter> Caps { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Engagement at the last sales rejection (value and time). Only engagement earned since counts toward qualifying
    /// again, so a rejected lead is not re-promoted by the very points sales just looked at.
    /// </summary>
    public double RequalifyFloorValue { get; set; }
    public DateTimeOffset RequalifyFloorAt { get; set; }

    /// <summary>
    /// Visitor keys whose anonymous activity has been attached to this lead, least recently used first. Bounded by the
    /// processor (the most recent are kept); it only saves a visitor read, the visitor row is what says who owns a visitor.
    /// </summary>
    public List<string> LinkedVisitors { get; init; } = [];

    /// <summary>Marks <paramref name="visitorKey"/> as the most recently used linked visitor.</summary>
    public void TouchLinkedVisitor(string visitorKey)
    {
        LinkedVisitors.Remove(visitorKey);
        LinkedVisitors.Add(visitorKey);
    }

    public int EventCount { get; set; }

    /// <summary>
    /// The sales rep who owns the lead (an address from the routing file or the signed-in user who accepted it); null until
    /// sales routing or a sales decision assigns one. Set only by events, so the history says who assigned it and when.
    /// </summary>
    public string? Owner { get; set; }

    /// <summary>The form id and intent of the lead's first form submission: what brought it in (nurture entry filters read it).</summary>
    public string? OriginForm { get; set; }
    public string? OriginIntent { get; set; }

    public bool IsNew => Stage is null;

    public double EngagementAt(DateTimeOffset instant, TimeSpan halfLife) =>
        EngagementValue * Decay.Factor(instant - EngagementAnchor, halfLife);

    public LeadSummary ToSummary(DateTimeOffset now, TimeSpan halfLife) => new()
    {
        LeadId = LeadId,
        Email = Email ?? "",
        Stage = Stage ?? LifecycleStage.Lead,
        StageChangedAt = StageChangedAt,
        Profile = new Dictionary<string, string>(Profile, StringComparer.Ordinal),
        EngagementScore = EngagementAt(now, halfLife),
        ScoredAt = now,
        FitScore = (int)Math.Round(FitScore, MidpointRounding.AwayFromZero),
        FitGrade = FitGrade,
        FitFactors = [.. FitFactors],
        ModelVersion = ModelVersion,
        Consents = [.. Consents],
        Unsubscribed = Unsubscribed,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        Owner = Owner,
        Scores = Scores.Count == 0
            ? EmptyScores
            : Scores.ToDictionary(s => s.Key, s => s.Value.ValueAt(now), StringComparer.Ordinal),
        OriginForm = OriginForm,
        OriginIntent = OriginIntent,
    };

    private static readonly IReadOnlyDictionary<string, double> EmptyScores = new Dictionary<string, double>(StringComparer.Ordinal);
}

/// <summary>
/// One named score of a lead: its value at <see cref="Anchor"/> (exact decay, as engagement), the half-life it decays with (so a
/// reader without the model can decay it, like the lead row's own half-life), and the requalify floor set by a sales rejection.
/// </summary>
public sealed class NamedScoreState
{
    public double Value { get; set; }
    public DateTimeOffset Anchor { get; set; }
    public double HalfLifeSeconds { get; set; }
    public double FloorValue { get; set; }
    public DateTimeOffset FloorAt { get; set; }

    public double ValueAt(DateTimeOffset instant) =>
        HalfLifeSeconds > 0 ? Value * Decay.Factor(instant - Anchor, TimeSpan.FromSeconds(HalfLifeSeconds)) : Value;

    /// <summary>What was earned since the last sales rejection: the value less the decayed floor.</summary>
    public double EarnedAt(DateTimeOffset instant) =>
        FloorValue == 0 || HalfLifeSeconds <= 0
            ? ValueAt(instant)
            : ValueAt(instant) - FloorValue * Decay.Factor(instant - FloorAt, TimeSpan.FromSeconds(HalfLifeSeconds));
}

/// <summary>How many times a capped rule has awarded points in the period identified by <see cref="Period"/>.</summary>
public readonly record struct CapCounter(long Period, int Count);

/// <summary>Exact exponential decay by half-life.</summary>
public static class Decay
{
    public static double Factor(TimeSpan elapsed, TimeSpan halfLife) =>
        Math.Pow(2, -elapsed.TotalSeconds / halfLife.TotalSeconds);

    /// <summary>
    /// When a positive <paramref name="value"/> held at <paramref name="anchor"/> decays down to <paramref name="bar"/>;
    /// <paramref name="anchor"/> itself if it is already at or below.
    /// </summary>
    public static DateTimeOffset CrossingTime(double value, DateTimeOffset anchor, double bar, TimeSpan halfLife)
    {
        if (value <= bar || bar <= 0)
            return anchor;
        var seconds = halfLife.TotalSeconds * Math.Log2(value / bar);
        return anchor + TimeSpan.FromSeconds(seconds);
    }
}
