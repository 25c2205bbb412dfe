using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Scoring;

/// <summary><see cref="TestModels"/> with two named scores: product-a (half-life 5 days, MQL bar 40, SQL bar 80) and product-b (the model's 10 days, no bar).</summary>
internal static class NamedScoreModels
{
    public const string ScoresJson = """
        "scores": [
          {
            "name": "product-a",
            "decay": { "halfLifeDays": 5 },
            "rules": [
              { "id": "a-pricing", "points": 20, "match": { "eventType": "page-view", "url": "https://example.com/a/pricing*" }, "cap": { "count": 1, "per": "day" } },
              { "id": "a-docs", "points": 15, "match": { "eventType": "page-view", "url": "https://example.com/a/docs*" } }
            ]
          },
          {
            "name": "product-b",
            "rules": [ { "id": "b-pages", "points": 15, "match": { "eventType": "page-view", "url": "https://example.com/b/*" } } ]
          }
        ],
        "fitRules": [
        """;

    public static string Json { get; } = TestModels.Json
        .Replace("\"fitRules\": [", ScoresJson, StringComparison.Ordinal)
        .Replace("\"mql\": { \"minEngagement\": 50, \"minGrade\": \"C\" }", "\"mql\": { \"minEngagement\": 50, \"minGrade\": \"C\", \"orScores\": { \"product-a\": 40 } }", StringComparison.Ordinal)
        .Replace("\"sql\": { \"minEngagement\": 100, \"minGrade\": \"B\" }", "\"sql\": { \"minEngagement\": 100, \"minGrade\": \"B\", \"orScores\": { \"product-a\": 80 } }", StringComparison.Ordinal);

    public static ScoringModel Model { get; } = ScoringModelLoader.Load(Json);

    /// <summary>The test model with <paramref name="scores"/> as its named scores (and no orScores).</summary>
    public static string WithScores(string scores) => TestModels.Json.Replace("\"fitRules\": [", $"\"scores\": {scores},\n  \"fitRules\": [", StringComparison.Ordinal);
}

public sealed class NamedScoresLoaderTests
{
    private static IReadOnlyList<string> Errors(string json) => Assert.Throws<InvalidScoringModelException>(() => ScoringModelLoader.Load(json)).Errors;

    [Fact]
    public void A_model_lists_its_named_scores_with_their_half_lives_and_the_bars_that_name_them()
    {
        var scores = NamedScoreModels.Model.Scores;

        Assert.Equal(["product-a", "product-b"], scores.Select(s => s.Name));
        Assert.Equal((TimeSpan.FromDays(5), (double?)40, (double?)80), (scores[0].HalfLife, scores[0].MqlBar, scores[0].SqlBar));
        Assert.Equal((TimeSpan.FromDays(10), (double?)null, (double?)null), (scores[1].HalfLife, scores[1].MqlBar, scores[1].SqlBar));
        Assert.Equal(["a-pricing", "a-docs"], scores[0].Rules.Select(r => r.Id));
        Assert.Equal([new ScoreBar("product-a", 40)], NamedScoreModels.Model.Qualification.Mql.OrScores);
        Assert.DoesNotContain(NamedScoreModels.Model.EngagementRules, r => r.Id.StartsWith("a-", StringComparison.Ordinal));
    }

    [Fact]
    public void A_model_without_named_scores_has_none()
    {
        Assert.Empty(TestModels.Model.Scores);
        Assert.Empty(TestModels.Model.Qualification.Mql.OrScores);
    }

    [Theory]
    [InlineData("Product A")]
    [InlineData("1st-product")]
    [InlineData("a-name-that-is-far-longer-than-thirty-two")]
    public void A_score_name_outside_the_format_is_refused_naming_the_score(string name)
    {
        var errors = Errors(NamedScoreModels.WithScores($$"""[ { "name": "{{name}}", "rules": [ { "id": "x", "points": 1, "match": { "eventType": "page-view" } } ] } ]"""));

        Assert.Equal([$"scores[0] ({name}): name must be lower-case letters, digits and dashes, start with a letter, at most 32 characters"], errors);
    }

    [Fact]
    public void The_default_score_name_cannot_be_taken_by_a_named_score()
    {
        var errors = Errors(NamedScoreModels.WithScores("""[ { "name": "engagement", "rules": [ { "id": "x", "points": 1, "match": { "eventType": "page-view" } } ] } ]"""));

        Assert.Equal(["scores[0] (engagement): name 'engagement' is the default score; give a named score another name"], errors);
    }

    [Fact]
    public void Two_scores_of_one_name_are_refused()
    {
        var errors = Errors(NamedScoreModels.WithScores("""
            [ { "name": "product-a", "rules": [ { "id": "x", "points": 1, "match": { "eventType": "page-view" } } ] },
              { "name": "product-a", "rules": [ { "id": "y", "points": 1, "match": { "eventType": "page-view" } } ] } ]
            """));

        Assert.Equal(["scores[1] (product-a): name is used by another score"], errors);
    }

    [Fact]
    public void More_named_scores_than_the_bound_are_refused()
    {
        var scores = string.Join(",", Enumerable.Range(0, ScoringModelLoader.MaxNamedScores + 1)
            .Select(i => $$"""{ "name": "p{{i}}", "rules": [ { "id": "r{{i}}", "points": 1, "match": { "eventType": "page-view" } } ] }"""));

        var errors = Errors(NamedScoreModels.WithScores($"[{scores}]"));

        Assert.Equal(["scores has 11 named scores; at most 10 are allowed"], errors);
    }

    [Fact]
    public void A_qualification_bar_naming_an_unknown_score_is_refused_naming_the_bar_and_the_score()
    {
        var json = NamedScoreModels.Json.Replace("\"orScores\": { \"product-a\": 40 }", "\"orScores\": { \"product-z\": 40 }", StringComparison.Ordinal);

        Assert.Equal(["qualification.mql.orScores.product-z: there is no score named 'product-z' under scores"], Errors(json));
    }

    [Fact]
    public void An_sql_bar_of_a_named_score_below_its_mql_bar_is_refused()
    {
        var json = NamedScoreModels.Json.Replace("\"orScores\": { \"product-a\": 80 }", "\"orScores\": { \"product-a\": 30 }", StringComparison.Ordinal);

        Assert.Equal(["qualification.sql.orScores.product-a must not be below qualification.mql.orScores.product-a"], Errors(json));
    }

    [Fact]
    public void A_named_score_rule_reusing_a_rule_id_of_the_model_is_refused_naming_score_and_rule()
    {
        var json = NamedScoreModels.Json.Replace("\"id\": \"b-pages\"", "\"id\": \"pricing\"", StringComparison.Ordinal);

        Assert.Equal(["scores[1] (product-b).rules[0] (pricing): id is used by another rule"], Errors(json));
    }

    [Fact]
    public void A_bad_field_in_a_named_score_is_reported_naming_score_rule_and_field()
    {
        var json = NamedScoreModels.Json
            .Replace("\"points\": 15, \"match\": { \"eventType\": \"page-view\", \"url\": \"https://example.com/a/docs*\" }",
                "\"points\": \"lots\", \"match\": { \"eventType\": \"page-view\", \"url\": \"https://example.com/a/docs*\" }", StringComparison.Ordinal)
            .Replace("\"halfLifeDays\": 5", "\"halfLifeDays\": -1", StringComparison.Ordinal);

        var errors = Errors(json);

        Assert.Contains("scores[0] (product-a): decay.halfLifeDays must be greater than 0 and at most 3650", errors);
        Assert.Contains("scores[0] (product-a).rules[1] (a-docs): points must be a number", errors);
    }

    [Fact]
    public void A_named_score_without_rules_is_refused()
    {
        Assert.Equal(["scores[0] (empty): rules must be a non-empty array of engagement rules"],
            Errors(NamedScoreModels.WithScores("""[ { "name": "empty", "rules": [] } ]""")));
    }
}

public sealed class NamedScoresEngineTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly ScoringEngine _engine = new(NamedScoreModels.Model);
    private readonly LeadScoreState _lead = States.NewLead();
    private readonly ScoringOutcome _outcome = new();

    private DateTimeOffset Now => _time.GetUtcNow();

    private ScoringOutcome Apply(LeadEvent e)
    {
        _engine.Apply(_lead, e, Now, _outcome);
        return _outcome;
    }

    private double ScoreNow(string name) => _lead.ToSummary(Now, NamedScoreModels.Model.HalfLife).Scores.GetValueOrDefault(name);

    /// <summary>A Lead with no engagement yet: fit grade C (software: 20), or B with a CTO (50).</summary>
    private void ALead(bool gradeB = false) =>
        Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, "other", gradeB
            ? new Dictionary<string, string> { ["industry"] = "software", ["role"] = "CTO" }
            : new Dictionary<string, string> { ["industry"] = "software" }));

    private void View(string url, int times = 1)
    {
        for (var i = 0; i < times; i++)
            Apply(EventBuilder.PageView(Now, url));
    }

    [Fact]
    public void A_named_score_rule_puts_its_points_in_that_score_and_the_ledger_row_names_it()
    {
        var award = Assert.Single(Apply(EventBuilder.PageView(Now, "https://example.com/a/docs/intro")).Awards);

        Assert.Equal(("a-docs", 15.0, "product-a"), (award.RuleId, award.Points, award.Score));
        Assert.Equal(0, _lead.EngagementAt(Now, NamedScoreModels.Model.HalfLife), 9);
        Assert.Equal(0, _outcome.PointsAwarded, 9);
        Assert.Equal(15, ScoreNow("product-a"), 9);
        Assert.False(_lead.ToSummary(Now, NamedScoreModels.Model.HalfLife).Scores.ContainsKey("product-b"));
    }

    [Fact]
    public void One_event_can_score_the_default_and_a_named_score_each_by_its_own_rules()
    {
        var model = ScoringModelLoader.Load(NamedScoreModels.Json.Replace("https://example.com/b/*", "https://example.com/blog/*", StringComparison.Ordinal));

        new ScoringEngine(model).Apply(_lead, EventBuilder.PageView(Now, "https://example.com/blog/post"), Now, _outcome);

        Assert.Equal([("visit", 10.0, (string?)null), ("b-pages", 15.0, "product-b")], _outcome.Awards.Select(a => (a.RuleId, a.Points, a.Score)));
        Assert.Equal(10, _lead.EngagementAt(Now, model.HalfLife), 9);
        Assert.Equal(15, _lead.ToSummary(Now, model.HalfLife).Scores["product-b"], 9);
    }

    [Fact]
    public void Each_named_score_decays_with_its_own_half_life()
    {
        View("https://example.com/a/docs");
        View("https://example.com/b/overview");

        _time.Advance(TimeSpan.FromDays(10));

        Assert.Equal(15 / 4.0, ScoreNow("product-a"), 9); // two half-lives of 5 days
        Assert.Equal(15 / 2.0, ScoreNow("product-b"), 9); // one half-life of the model's 10 days
    }

    [Fact]
    public void A_named_score_rule_is_capped_by_its_own_cap()
    {
        View("https://example.com/a/pricing");
        _time.Advance(TimeSpan.FromHours(1));
        var capped = Assert.Single(Apply(EventBuilder.PageView(Now, "https://example.com/a/pricing")).Awards);

        Assert.Equal(("a-pricing", 0.0, true, "product-a"), (capped.RuleId, capped.Points, capped.Capped, capped.Score));
        Assert.Equal(20 * Decay.Factor(TimeSpan.FromHours(1), TimeSpan.FromDays(5)), ScoreNow("product-a"), 9);

        _time.Advance(TimeSpan.FromDays(1));
        var nextDay = Assert.Single(Apply(EventBuilder.PageView(Now, "https://example.com/a/pricing")).Awards);
        Assert.Equal((20.0, false), (nextDay.Points, nextDay.Capped));
    }

    [Fact]
    public void A_named_score_at_its_mql_bar_makes_an_mql_while_the_default_score_is_below_its_own()
    {
        ALead();
        View("https://example.com/a/pricing");
        View("https://example.com/a/docs");
        var promotion = Assert.Single(Apply(EventBuilder.PageView(Now, "https://example.com/a/docs")).Transitions);

        Assert.Equal((LifecycleStage.Lead, LifecycleStage.Mql), (promotion.From, promotion.To));
        Assert.Equal("MQL: score product-a 50 >= 40 and fit grade C >= C", promotion.Reason);
        Assert.Equal(0, _lead.EngagementAt(Now, NamedScoreModels.Model.HalfLife), 9);
    }

    [Fact]
    public void An_mql_held_by_a_named_score_returns_to_lead_when_that_score_decays_below_its_bar_dated_at_the_crossing()
    {
        ALead();
        View("https://example.com/a/pricing");
        View("https://example.com/a/docs", times: 2);
        var mqlAt = Now;

        _time.Advance(TimeSpan.FromDays(1));
        Assert.Empty(Apply(EventBuilder.PageView(Now, "https://example.com/contact")).Transitions); // 50 · 2^(-1/5) ≈ 43.5, still at the bar
        _time.Advance(TimeSpan.FromDays(2));
        var demotion = Assert.Single(Apply(EventBuilder.PageView(Now, "https://example.com/contact")).Transitions);

        Assert.Equal((LifecycleStage.Mql, LifecycleStage.Lead, LifecycleMachine.DecayCause), (demotion.From, demotion.To, demotion.CausedBy));
        Assert.Equal(mqlAt + TimeSpan.FromDays(5 * Math.Log2(50 / 40.0)), demotion.At, TimeSpan.FromMilliseconds(1));
        Assert.Equal("engagement decayed below the MQL bar (50), and every named score below its bar (product-a 40)", demotion.Reason);
    }

    [Fact]
    public void A_named_score_no_bar_names_never_qualifies_a_lead()
    {
        ALead();
        View("https://example.com/b/page", times: 10);

        Assert.Equal(LifecycleStage.Lead, _lead.Stage);
        Assert.Equal(150, ScoreNow("product-b"), 9);
    }

    [Fact]
    public void A_named_score_at_its_sql_bar_with_the_sql_grade_makes_an_sql()
    {
        ALead(gradeB: true);
        View("https://example.com/a/docs", times: 5);
        var sql = Apply(EventBuilder.PageView(Now, "https://example.com/a/docs")).Transitions.Single(t => t.To == LifecycleStage.Sql);

        Assert.Equal("SQL: score product-a 90 >= 80 and fit grade B >= B", sql.Reason);
    }

    [Fact]
    public void Named_points_from_before_a_sales_rejection_do_not_requalify_the_lead()
    {
        ALead(gradeB: true);
        View("https://example.com/a/docs", times: 6);
        Assert.Equal(LifecycleStage.Sql, _lead.Stage);

        Apply(EventBuilder.SalesDecision(Now, "reject", "lead", "not now"));
        View("https://example.com/contact");
        Assert.Equal(LifecycleStage.Lead, _lead.Stage);

        View("https://example.com/a/docs", times: 2);
        Assert.Equal(LifecycleStage.Lead, _lead.Stage); // 30 earned since the rejection, below 40
        var requalified = Assert.Single(Apply(EventBuilder.PageView(Now, "https://example.com/a/docs")).Transitions);
        Assert.Equal("MQL: score product-a 45 >= 40 and fit grade B >= C", requalified.Reason);
    }

    [Fact]
    public void A_model_without_named_scores_keeps_no_named_state_and_attributes_every_point_to_the_default_score()
    {
        new ScoringEngine(TestModels.Model).Apply(_lead, EventBuilder.PageView(Now, "https://example.com/blog/post"), Now, _outcome);

        Assert.Null(Assert.Single(_outcome.Awards).Score);
        Assert.Empty(_lead.Scores);
        Assert.Empty(_lead.ToSummary(Now, TestModels.Model.HalfLife).Scores);
    }
}

public sealed class NamedScoresSampleTests
{
    [Fact]
    public void The_documented_sample_model_with_named_scores_loads_and_keeps_the_shipped_default_score()
    {
        var shipped = ScoringModelLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "config", "scoring-model.json"));
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LeadFunctions.sln")))
            directory = directory.Parent;
        Assert.NotNull(directory);

        var sample = ScoringModelLoader.LoadFile(Path.Combine(directory.FullName, "docs", "examples", "scoring-model-named-scores.json"));

        Assert.Equal(["product-a", "product-b"], sample.Scores.Select(s => s.Name));
        Assert.Empty(shipped.Scores);
        Assert.Equal(shipped.EngagementRules.Select(r => (r.Id, r.Points)), sample.EngagementRules.Select(r => (r.Id, r.Points)));
        Assert.Equal((shipped.Qualification.Mql.MinEngagement, shipped.Qualification.Sql.MinEngagement),
            (sample.Qualification.Mql.MinEngagement, sample.Qualification.Sql.MinEngagement));
    }
}
