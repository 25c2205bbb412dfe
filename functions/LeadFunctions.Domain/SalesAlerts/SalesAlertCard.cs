using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.SalesAlerts;

public sealed record CardLine(string EventType, string RuleId, double Points, DateTimeOffset At);

/// <summary>A fit rule the lead's profile meets: which field, which value, how many points.</summary>
public sealed record FitLine(string RuleId, string Field, string Value, double Points);

/// <summary>
/// Why this lead is an SQL, in one glance: the ledger events that contribute most today (after decay), the fit factors,
/// the scores, and the deadline of the SLA clock (became SQL + SLA hours).
/// </summary>
public sealed record SalesAlertCard(
    string LeadId,
    DateTimeOffset SqlAt,
    DateTimeOffset Deadline,
    TimeSpan TimeLeft,
    double EngagementScore,
    int FitScore,
    string FitGrade,
    string ModelVersion,
    IReadOnlyList<CardLine> TopEvents,
    IReadOnlyList<FitLine> FitFactors,
    string? Reason)
{
    public const int TopEventCount = 5;

    /// <param name="fitRules">The scoring model's fit rules, to show which of them the profile meets; without them the card shows fit from the ledger only.</param>
    public static SalesAlertCard Build(LeadDetails details, DateTimeOffset sqlAt, TimeSpan sla, DateTimeOffset now, IReadOnlyList<FitRule>? fitRules = null)
    {
        var lead = details.Lead;
        var engagement = details.Ledger.Where(e => !IsFit(e));

        var top = engagement
            .GroupBy(e => (e.EventId, e.EventType, e.RuleId))
            .Select(g => new CardLine(g.Key.EventType, g.Key.RuleId, Math.Round(g.Sum(e => e.PointsNow), 1), g.Max(e => e.At)))
            .Where(l => l.Points > 0)
            .OrderByDescending(l => l.Points).ThenByDescending(l => l.At)
            .Take(TopEventCount)
            .ToList();

        var fitFactors = fitRules is not null
            ? fitRules.Where(r => r.Matches(lead.Profile))
                .Select(r => new FitLine(r.Id, r.Field, ProfileValue(lead.Profile, r.Field), r.Points))
                .OrderByDescending(f => Math.Abs(f.Points))
                .ToList()
            : details.Ledger.Where(IsFit)
                .GroupBy(e => e.RuleId)
                .Select(g => g.OrderByDescending(e => e.At).First())
                .Where(e => e.Points != 0)
                .OrderByDescending(e => Math.Abs(e.Points))
                .Select(e => new FitLine(e.RuleId, e.EventType, "", e.Points))
                .ToList();

        var reason = details.History.Where(h => h.To == LifecycleStage.Sql && h.At <= sqlAt).OrderBy(h => h.At).LastOrDefault()?.Reason;
        var deadline = sqlAt + sla;
        var left = deadline - now;
        return new SalesAlertCard(
            lead.LeadId, sqlAt, deadline, left < TimeSpan.Zero ? TimeSpan.Zero : left,
            Math.Round(lead.EngagementScore, 1), lead.FitScore, lead.FitGrade, lead.ModelVersion, top, fitFactors, reason);
    }

    private static string ProfileValue(IReadOnlyDictionary<string, string> profile, string field) =>
        profile.TryGetValue(field, out var value) ? value : "";

    private static bool IsFit(ScoreLedgerEntry entry) => string.Equals(entry.Score, "fit", StringComparison.OrdinalIgnoreCase);
}
