using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Leads;

/// <summary>A lead as the rest of the pipeline reads it: what nurture, alerts and the explanation endpoint need.</summary>
public sealed record LeadSummary
{
    public required string LeadId { get; init; }
    public required string Email { get; init; }
    public required LifecycleStage Stage { get; init; }
    public required DateTimeOffset StageChangedAt { get; init; }
    public IReadOnlyDictionary<string, string> Profile { get; init; } = new Dictionary<string, string>();

    /// <summary>Engagement with decay applied as of <see cref="ScoredAt"/>.</summary>
    public double EngagementScore { get; init; }
    public DateTimeOffset ScoredAt { get; init; }
    public int FitScore { get; init; }
    public string FitGrade { get; init; } = "D";

    /// <summary>The fit rules the profile meets, with their points: the explanation of <see cref="FitScore"/>.</summary>
    public IReadOnlyList<Scoring.FitFactor> FitFactors { get; init; } = [];
    public string ModelVersion { get; init; } = "";
    public IReadOnlyList<ConsentRecord> Consents { get; init; } = [];
    public bool Unsubscribed { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The latest word on marketing e-mail decides: a later withdrawal beats an earlier grant.</summary>
    public bool HasMarketingEmailConsent =>
        !Unsubscribed &&
        Consents.Where(c => c.Purpose == ConsentPurposes.MarketingEmail).OrderBy(c => c.At).LastOrDefault()?.Granted == true;
}

public static class ConsentPurposes
{
    public const string MarketingEmail = "marketing-email";
}

/// <summary>One row of the score ledger: every point a lead has is one of these.</summary>
public sealed record ScoreLedgerEntry(
    string EventId,
    string EventType,
    string RuleId,
    string Score,
    double Points,
    DateTimeOffset At,
    string ModelVersion,
    double PointsNow,
    string? Note);

/// <summary>One lifecycle transition, forward or back, with what caused it.</summary>
public sealed record StageChange(
    DateTimeOffset At,
    LifecycleStage? From,
    LifecycleStage To,
    string Reason,
    string CausedBy,
    string ModelVersion,
    string? EventId);

public sealed record LeadDetails(LeadSummary Lead, IReadOnlyList<ScoreLedgerEntry> Ledger, IReadOnlyList<StageChange> History);

/// <summary>Reads leads for everything downstream of the rescoring processor.</summary>
public interface ILeadDirectory
{
    Task<LeadDetails?> FindAsync(string leadId, CancellationToken cancellationToken);
}

/// <summary>
/// Told of every lifecycle transition just before the lead's transaction is committed, so follow-up work
/// (nurture enrolment, sales alert, SLA clock) is scheduled even if the process dies right after the commit.
/// Implementations must be idempotent, and whatever they schedule must re-check the lead when it runs,
/// because the commit may still fail and be retried.
/// </summary>
public interface IStageChangeObserver
{
    Task OnStageChangingAsync(LeadSummary lead, StageChange change, CancellationToken cancellationToken);
}
