using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Nurture;

namespace LeadFunctions.Leads;

/// <summary>
/// The explanation of a lead in full, with its whole ledger and history. No endpoint answers with it now (the API pages the detail,
/// <see cref="LeadDetailResponse"/>); it reuses the detail's mapping, so the fields they share read the same.
/// <c>engagement.score</c> equals the sum of <c>ledger[].pointsNow</c>:
/// every point is one ledger row (event, rule, points when awarded, what is left after decay, model version), or, once retention has
/// folded old rows, one carried-forward row per rule that says what it folded.
/// <c>unsubscribed</c> and <c>marketingEmailConsent</c> honour the suppression record: while one exists the lead reads as
/// unsubscribed, whatever a later form post put on the lead row, because the suppression is what stops every send.
/// </summary>
public sealed record LeadResponse(
    string LeadId,
    string Email,
    string Stage,
    DateTimeOffset StageChangedAt,
    IReadOnlyDictionary<string, string> Profile,
    EngagementView Engagement,
    FitView Fit,
    string ModelVersion,
    bool Unsubscribed,
    bool MarketingEmailConsent,
    SuppressionView? Suppression,
    IReadOnlyList<ConsentRecord> Consents,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<LedgerView> Ledger,
    IReadOnlyList<StageChangeView> History,
    IReadOnlyList<NamedScoreView> Scores)
{
    public static LeadResponse From(LeadDetails details, Suppression? suppression)
    {
        ArgumentNullException.ThrowIfNull(details);
        // The detail's mapping, with the whole ledger and history as one page each: one place maps a lead, so the two cannot drift.
        var d = LeadDetailResponse.From(
            new LeadDetailPage(details.Lead, new Page<ScoreLedgerEntry>(details.Ledger, null), new Page<StageChange>(details.History, null), 0),
            suppression, []);
        return new LeadResponse(d.LeadId, d.Email, d.Stage, d.StageChangedAt, d.Profile, d.Engagement, d.Fit, d.ModelVersion, d.Unsubscribed,
            d.MarketingEmailConsent, d.Suppression, d.Consents, d.CreatedAt, d.UpdatedAt, d.Ledger.Items, d.History.Items, d.Scores);
    }

    /// <summary>The lead's named scores, by name; decayed to the same instant as <c>engagement</c>.</summary>
    public static IReadOnlyList<NamedScoreView> ScoreViews(LeadSummary lead)
    {
        ArgumentNullException.ThrowIfNull(lead);
        return [.. lead.Scores.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new NamedScoreView(s.Key, s.Value, lead.ScoredAt))];
    }

    public static LedgerView ToView(ScoreLedgerEntry l)
    {
        ArgumentNullException.ThrowIfNull(l);
        return new LedgerView(l.EventId, l.EventType, l.RuleId, l.Points, l.PointsNow, l.At, l.ModelVersion, l.Note,
            l.Folded is { } f ? new FoldedView(f.Rows, f.From, f.Until, f.PointsAwarded) : null,
            l.Score is { Length: > 0 } score ? score : LedgerRules.EngagementScore);
    }

    public static StageChangeView ToView(StageChange h)
    {
        ArgumentNullException.ThrowIfNull(h);
        return new StageChangeView(h.At, h.From is { } f ? StageName(f) : null, StageName(h.To), h.Reason, h.CausedBy, h.ModelVersion, h.EventId);
    }

    public static string StageName(LifecycleStage stage) => stage switch
    {
        LifecycleStage.Mql => "MQL",
        LifecycleStage.Sql => "SQL",
        _ => stage.ToString(),
    };
}

/// <summary>Engagement with decay applied as of <see cref="AsOf"/>.</summary>
public sealed record EngagementView(double Score, DateTimeOffset AsOf);

/// <summary>Since when marketing e-mail is stopped, and by what (<c>one-click</c> for the RFC 8058 unsubscribe).</summary>
public sealed record SuppressionView(DateTimeOffset At, string Source);

public sealed record FitView(int Score, string Grade, IReadOnlyList<FitFactor> Factors);

/// <summary>
/// One ledger row; <see cref="Folded"/> is set on a carried-forward row, whose <see cref="Points"/> are the folded rows' decayed sum at
/// <see cref="At"/>. <see cref="Score"/> is the score the points went to: <c>engagement</c> (the default) or a named score.
/// </summary>
public sealed record LedgerView(string EventId, string EventType, string Rule, double Points, double PointsNow, DateTimeOffset At, string ModelVersion, string? Note, FoldedView? Folded = null, string Score = LedgerRules.EngagementScore);

/// <summary>
/// A named score with decay applied as of <see cref="AsOf"/>; it equals the sum of <c>pointsNow</c> over the ledger rows whose
/// <c>score</c> is <see cref="Name"/>, as <c>engagement.score</c> does for the rows of <c>engagement</c>.
/// </summary>
public sealed record NamedScoreView(string Name, double Score, DateTimeOffset AsOf);

/// <summary>What retention folded into a carried-forward row: how many rows, awarded between when and when, worth how many points then.</summary>
public sealed record FoldedView(int Rows, DateTimeOffset From, DateTimeOffset Until, double PointsAwarded);

public sealed record StageChangeView(DateTimeOffset At, string? From, string To, string Reason, string CausedBy, string ModelVersion, string? EventId);
