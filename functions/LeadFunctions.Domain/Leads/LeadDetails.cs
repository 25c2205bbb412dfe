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

    /// <summary>
    /// Named scores (scoring model <c>scores</c>) with decay applied as of <see cref="ScoredAt"/>; empty when the model has none or the
    /// lead earned none. A named score missing here is 0.
    /// </summary>
    public IReadOnlyDictionary<string, double> Scores { get; init; } = new Dictionary<string, double>();
    public int FitScore { get; init; }
    public string FitGrade { get; init; } = "D";

    /// <summary>The fit rules the profile meets, with their points: the explanation of <see cref="FitScore"/>.</summary>
    public IReadOnlyList<Scoring.FitFactor> FitFactors { get; init; } = [];
    public string ModelVersion { get; init; } = "";
    public IReadOnlyList<ConsentRecord> Consents { get; init; } = [];
    public bool Unsubscribed { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The sales rep who owns the lead, once routing or a sales decision assigned one.</summary>
    public string? Owner { get; init; }

    /// <summary>The form id of the lead's first form submission (what brought it in); null for leads from before it was kept.</summary>
    public string? OriginForm { get; init; }

    /// <summary>The intent of that first form (<see cref="FormIntent"/> name), if it had one.</summary>
    public string? OriginIntent { get; init; }

    /// <summary>
    /// The latest decided word on marketing e-mail decides: a later withdrawal beats an earlier grant. A pending double opt-in
    /// request is not consent, and does not take back consent already confirmed either.
    /// </summary>
    public bool HasMarketingEmailConsent =>
        !Unsubscribed && ConsentRules.Current(Consents, ConsentPurposes.MarketingEmail)?.Granted == true;

    /// <summary>The double opt-in request for marketing e-mail still waiting for its confirmation link, if any.</summary>
    public ConsentRecord? PendingMarketingEmailRequest => ConsentRules.PendingRequest(Consents, ConsentPurposes.MarketingEmail);
}

public static class ConsentPurposes
{
    public const string MarketingEmail = "marketing-email";
}

/// <summary>
/// How a lead's consent records are read and kept. Per purpose the state is the latest decided record (granted or withdrawn,
/// by <see cref="ConsentRecord.EffectiveAt"/>) and, after it, at most one pending request that matters (the latest).
/// </summary>
public static class ConsentRules
{
    /// <summary>Purposes whose current state and pending request are always kept (the most recently touched ones).</summary>
    public const int MaxPurposes = 8;

    /// <summary>Older records kept as recent history, besides each purpose's current state and pending request.</summary>
    public const int MaxRecentRecords = 10;

    /// <summary>The record that decides the purpose: the latest granted or withdrawn one; pending requests never decide.</summary>
    public static ConsentRecord? Current(IEnumerable<ConsentRecord> records, string purpose)
    {
        ConsentRecord? current = null;
        foreach (var record in records)
        {
            if (record.Purpose == purpose && !record.Pending && (current is null || record.EffectiveAt >= current.EffectiveAt))
                current = record;
        }
        return current;
    }

    /// <summary>The latest pending request of the purpose made after its current state was decided; null when there is none.</summary>
    public static ConsentRecord? PendingRequest(IEnumerable<ConsentRecord> records, string purpose)
    {
        var list = records as IReadOnlyCollection<ConsentRecord> ?? [.. records];
        var current = Current(list, purpose);
        ConsentRecord? pending = null;
        foreach (var record in list)
        {
            if (record.Purpose == purpose && record.Pending && (current is null || record.At > current.EffectiveAt)
                && (pending is null || record.At >= pending.At))
                pending = record;
        }
        return pending;
    }

    /// <summary>
    /// Keeps the list bounded, whatever number of submissions arrive: each purpose's current state and pending request (for the
    /// <see cref="MaxPurposes"/> most recently touched purposes) and the <see cref="MaxRecentRecords"/> latest of the rest, in their order.
    /// </summary>
    public static void Bound(List<ConsentRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count <= 2 * MaxPurposes + MaxRecentRecords)
            return;
        var keep = new HashSet<int>();
        var purposes = records.Select((r, i) => (r.Purpose, i)).GroupBy(p => p.Purpose, StringComparer.Ordinal)
            .OrderByDescending(g => g.Max(p => records[p.i].EffectiveAt)).Take(MaxPurposes).Select(g => g.Key);
        foreach (var purpose in purposes)
        {
            if (Current(records, purpose) is { } current)
                keep.Add(records.LastIndexOf(current));
            if (PendingRequest(records, purpose) is { } pending)
                keep.Add(records.LastIndexOf(pending));
        }
        foreach (var index in Enumerable.Range(0, records.Count).Where(i => !keep.Contains(i))
                     .OrderByDescending(i => records[i].EffectiveAt).ThenByDescending(i => i).Take(MaxRecentRecords).ToList())
            keep.Add(index);
        var kept = records.Where((_, i) => keep.Contains(i)).ToList();
        records.Clear();
        records.AddRange(kept);
    }
}

/// <summary>What an event did to a lead's consent that needs follow-up work outside the lead's transaction.</summary>
public enum ConsentChangeKind
{
    /// <summary>A double opt-in request was recorded and the lead has no confirmed consent: a confirmation e-mail is owed.</summary>
    Requested,
    /// <summary>The confirmation link was used: consent is granted, and marketing e-mail that waited for it may start.</summary>
    Confirmed,
}

public sealed record ConsentChange(ConsentChangeKind Kind, ConsentRecord Record, string EventId);

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
    string? Note,
    LedgerFold? Folded = null);

/// <summary>
/// What a carried-forward ledger row stands for: retention folded <see cref="Rows"/> older rows of one rule into it.
/// Its points are their decayed sum at the row's time, so its points now are exactly what those rows would show now.
/// </summary>
public sealed record LedgerFold(int Rows, DateTimeOffset From, DateTimeOffset Until, double PointsAwarded);

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
    /// <summary>The lead with its whole ledger and history: for the few readers that explain a lead in full (sales alerts, retention tests).</summary>
    Task<LeadDetails?> FindAsync(string leadId, CancellationToken cancellationToken);

    /// <summary>
    /// The lead alone, as <see cref="FindAsync"/> reads it (decay applied: an MQL decayed below the bar reads as a Lead), without its
    /// ledger or history. What every timer item, link and page that only needs the lead reads; the table-backed directory does it
    /// with one point read.
    /// </summary>
    async Task<LeadSummary?> FindSummaryAsync(string leadId, CancellationToken cancellationToken) =>
        (await FindAsync(leadId, cancellationToken))?.Lead;
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

    /// <summary>Told, under the same rules, of a consent request or confirmation that needs follow-up work (the double opt-in).</summary>
    Task OnConsentChangingAsync(LeadSummary lead, ConsentChange change, CancellationToken cancellationToken) => Task.CompletedTask;
}
