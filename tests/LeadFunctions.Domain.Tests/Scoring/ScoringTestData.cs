using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Scoring;

/// <summary>A small model whose numbers are easy to reason about in tests: half-life 10 days, MQL 50 + C, SQL 100 + B.</summary>
internal static class TestModels
{
    public const string Json = """
        {
          "version": "test-1",
          "decay": { "halfLifeDays": 10 },
          "engagementRules": [
            { "id": "demo", "points": 40, "match": { "eventType": "form-submission", "formIntent": "demo-request" } },
            { "id": "newsletter", "points": 5, "match": { "eventType": "form-submission", "formIntent": "newsletter-signup" } },
            { "id": "whitepaper-form", "points": 10, "match": { "formId": "whitepaper" } },
            { "id": "bofu-download", "points": 30, "match": { "eventType": "content-download", "funnelStage": "bottom" } },
            { "id": "tofu-download", "points": 5, "match": { "eventType": "content-download", "funnelStage": "top" } },
            { "id": "pricing", "points": 20, "match": { "eventType": "page-view", "url": "https://example.com/pricing*" }, "cap": { "count": 2, "per": "day" } },
            { "id": "careers", "points": -15, "match": { "eventType": "page-view", "urlRegex": "/(careers|jobs)\\b" } },
            { "id": "spring-click", "points": 25, "match": { "eventType": "email-click", "campaign": "spring" }, "cap": { "count": 1, "per": "ever" } },
            { "id": "open", "points": 2, "match": { "eventType": "email-open" }, "cap": { "count": 3, "per": "week" } },
            { "id": "visit", "points": 10, "match": { "eventType": "page-view", "url": "https://example.com/blog/*" } }
          ],
          "fitRules": [
            { "id": "cto", "field": "role", "equals": "CTO", "points": 30 },
            { "id": "industry", "field": "industry", "oneOf": ["software", "retail"], "points": 20 },
            { "id": "enterprise-word", "field": "company", "contains": "enterprise", "points": 5 },
            { "id": "size", "field": "companySize", "range": { "min": 50, "max": 500 }, "points": 25 }
          ],
          "grades": { "A": 70, "B": 45, "C": 20, "D": 0 },
          "qualification": {
            "mql": { "minEngagement": 50, "minGrade": "C" },
            "sql": { "minEngagement": 100, "minGrade": "B" }
          }
        }
        """;

    public static ScoringModel Model { get; } = ScoringModelLoader.Load(Json);
}

/// <summary>Builds events for one lead with sensible defaults.</summary>
internal sealed class EventBuilder
{
    private static int _sequence;

    public static LeadEvent Form(DateTimeOffset at, FormIntent? intent, string? formId = null, IReadOnlyDictionary<string, string>? profile = null) => new()
    {
        EventId = Next(),
        Type = LeadEventTypes.FormSubmission,
        OccurredAt = at,
        Email = "ada@example.com",
        Intent = intent,
        FormId = formId,
        Profile = profile ?? new Dictionary<string, string>(),
    };

    public static LeadEvent Activity(string type, DateTimeOffset at, params (string Key, string Value)[] properties) => new()
    {
        EventId = Next(),
        Type = type,
        OccurredAt = at,
        Email = "ada@example.com",
        Properties = properties.ToDictionary(p => p.Key, p => p.Value),
    };

    public static LeadEvent PageView(DateTimeOffset at, string url) => Activity(LeadEventTypes.PageView, at, (LeadEventProperties.Url, url));

    /// <param name="sqlEpisode">The SQL episode the decision was made for, as a sales alert's link names it; none by default.</param>
    public static LeadEvent SalesDecision(DateTimeOffset at, string decision, string? toStage = null, string? reason = null, DateTimeOffset? sqlEpisode = null) =>
        Activity(LeadEventTypes.SalesDecision, at,
            [
                (LeadEventProperties.Decision, decision), (LeadEventProperties.ToStage, toStage ?? ""), (LeadEventProperties.Reason, reason ?? ""), (LeadEventProperties.Actor, "rep@example.com"),
                .. sqlEpisode is { } episode ? [(LeadEventProperties.SqlEpisode, episode.ToString("O", System.Globalization.CultureInfo.InvariantCulture))] : Array.Empty<(string, string)>(),
            ]);

    private static string Next() => "evt-" + Interlocked.Increment(ref _sequence).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

internal static class States
{
    public static LeadScoreState NewLead() => new() { LeadId = Leads.TestIdentity.Instance.LeadIdFor("ada@example.com") };
}

/// <summary>
/// One lead scored by <see cref="TestModels.Model"/> on a fake clock that starts on Monday 2025-03-03 09:00 UTC: the set-up the
/// lifecycle and sales-decision tests share. Every event adds to the same outcome, as the events of one batch do.
/// </summary>
internal sealed class ScoringRun
{
    private readonly ScoringEngine _engine = new(TestModels.Model);

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));

    public LeadScoreState Lead { get; } = States.NewLead();

    public ScoringOutcome Outcome { get; } = new();

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Applies the event now; returns every stage change of the run so far.</summary>
    public List<StageChange> Apply(LeadEvent e)
    {
        _engine.Apply(Lead, e, Now, Outcome);
        return [.. Outcome.Transitions];
    }
}
