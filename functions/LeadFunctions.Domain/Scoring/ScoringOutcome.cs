using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Scoring;

/// <summary>
/// What applying one event produced: the ledger rows to store and the stage transitions to record.
/// Reused between events (see <see cref="Reset"/>) so scoring a stream allocates little.
/// </summary>
public sealed class ScoringOutcome
{
    public List<LedgerAward> Awards { get; } = new(8);
    public List<StageChange> Transitions { get; } = new(2);

    /// <summary>Consent requests and confirmations that need follow-up (the double opt-in e-mail, nurture that waited for it).</summary>
    public List<ConsentChange> ConsentChanges { get; } = new(1);

    /// <summary>Default engagement points this event added, before decay (named scores' points are not in it).</summary>
    public double PointsAwarded { get; internal set; }

    public bool FitChanged { get; internal set; }

    public void Reset()
    {
        Awards.Clear();
        Transitions.Clear();
        ConsentChanges.Clear();
        PointsAwarded = 0;
        FitChanged = false;
    }
}

/// <summary>
/// One ledger row: an event met a rule (or was recorded without points). <see cref="Points"/> is the award at
/// <see cref="At"/>; its weight now is <c>Points · 2^(−(now − At) / halfLife)</c>, with the half-life of its score.
/// <see cref="Score"/> names the named score the points went to; null for the default engagement score.
/// </summary>
public readonly record struct LedgerAward(
    string EventId,
    string EventType,
    string RuleId,
    double Points,
    DateTimeOffset At,
    bool Capped,
    string? Note,
    string? Score = null);

public static class LedgerRules
{
    /// <summary>The ledger rule id of an e-mail open or click that looked like a scanner: recorded, never scored.</summary>
    public const string ProbableBot = "probable-bot";

    /// <summary>The ledger score name of the default engagement score's rows; a named score's rows carry its name.</summary>
    public const string EngagementScore = "engagement";
}
