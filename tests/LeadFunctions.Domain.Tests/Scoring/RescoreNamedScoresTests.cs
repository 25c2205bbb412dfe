using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;

namespace LeadFunctions.Domain.Tests.Scoring;

public sealed class RescoreNamedScoresTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_rescore_under_a_model_with_named_scores_fills_them_from_the_replay_with_one_attributed_ledger_row_each()
    {
        // Arrange: a lead scored by a model without named scores, then a published model that adds product-a.
        var before = TestModels.Model;
        var lead = new LeadScoreState { LeadId = "lead-1" };
        var events = new List<ReplayEvent>();
        var engine = new ScoringEngine(before);
        var scratch = new ScoringOutcome();
        foreach (var e in new[]
        {
            EventBuilder.Form(Now, FormIntent.ContentDownload, "other", new Dictionary<string, string> { ["industry"] = "software" }),
            EventBuilder.PageView(Now, "https://example.com/a/docs/intro"),
            EventBuilder.PageView(Now, "https://example.com/a/docs/setup"),
            EventBuilder.PageView(Now, "https://example.com/a/docs/api"),
        })
        {
            engine.Apply(lead, e, Now, scratch);
            events.Add(new ReplayEvent(e, Now));
        }
        Assert.Empty(lead.Scores);
        var outcome = new ScoringOutcome();

        // Act
        LeadRescore.Apply(lead, LeadRescore.Event("job-1", "lead-1", NamedScoreModels.Model.Version, Now), events,
            NamedScoreModels.Model, before.HalfLife, Now, outcome);

        // Assert: product-a holds the three docs visits, and its ledger row (attributed to it) says so.
        Assert.Equal(45, lead.Scores["product-a"].ValueAt(Now), 9);
        var row = Assert.Single(outcome.Awards, a => a.Score == "product-a");
        Assert.Equal((LeadRescore.LedgerRule, 45.0), (row.RuleId, row.Points));
        Assert.False(lead.Scores.ContainsKey("product-b"));
    }

    [Fact]
    public void A_rescore_under_a_model_without_a_named_score_drops_it()
    {
        var lead = new LeadScoreState { LeadId = "lead-2" };
        var e = EventBuilder.PageView(Now, "https://example.com/a/docs/intro");
        new ScoringEngine(NamedScoreModels.Model).Apply(lead, e, Now, new ScoringOutcome());
        Assert.True(lead.Scores.ContainsKey("product-a"));

        LeadRescore.Apply(lead, LeadRescore.Event("job-2", "lead-2", TestModels.Model.Version, Now), [new ReplayEvent(e, Now)],
            TestModels.Model, NamedScoreModels.Model.HalfLife, Now, new ScoringOutcome());

        Assert.Empty(lead.Scores);
    }
}
