using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Tests.Leads;

/// <summary>The harness model plus two named scores, product-a (half-life 5 days, MQL at 20) and product-b.</summary>
internal static class NamedScoreStorageModel
{
    public static string Json { get; } = ScoringHarness.ModelJson
        .Replace("\"fitRules\":", """
            "scores": [
              { "name": "product-a", "decay": { "halfLifeDays": 5 },
                "rules": [ { "id": "a-docs", "points": 25, "match": { "eventType": "page-view", "url": "*/a/docs*" }, "cap": { "count": 1, "per": "day" } } ] },
              { "name": "product-b",
                "rules": [ { "id": "b-pages", "points": 7, "match": { "eventType": "page-view", "url": "*/b/*" } } ] }
            ],
            "fitRules":
            """, StringComparison.Ordinal)
        .Replace("\"mql\": { \"minEngagement\": 50, \"minGrade\": \"C\" }", "\"mql\": { \"minEngagement\": 50, \"minGrade\": \"C\", \"orScores\": { \"product-a\": 20 } }", StringComparison.Ordinal);
}

/// <summary>A lead scored into two named scores by the real processor in Azurite, read back by the lead detail.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class NamedScoresStorageTests(AzuriteFixture azurite)
{
    private const string Email = "nora.named@example.com";

    [Fact]
    public async Task A_lead_scored_into_two_named_scores_shows_both_in_its_detail_with_each_ledger_row_attributed_to_its_score()
    {
        // Arrange: a grade-B lead (CTO) who reads product A's docs twice in a day (capped once a day) and three pages of product B.
        var harness = new ScoringHarness(azurite, NamedScoreStorageModel.Json);
        var start = harness.Time.GetUtcNow();
        await harness.ProcessAsync([Events.Form(Email, start, FormIntent.ContentDownload, profile: new() { ["role"] = "CTO" })]);
        await harness.ProcessAsync([
            Events.PageView(start.AddMinutes(1), "https://example.com/a/docs/start", Email),
            Events.PageView(start.AddMinutes(2), "https://example.com/a/docs/next", Email),
            Events.PageView(start.AddMinutes(3), "https://example.com/b/one", Email),
            Events.PageView(start.AddMinutes(4), "https://example.com/b/two", Email),
            Events.PageView(start.AddMinutes(5), "https://example.com/b/three", Email),
        ]);
        harness.Time.Advance(TimeSpan.FromDays(5));
        var leadId = ScoringHarness.LeadIdOf(Email);

        // Act: the detail, as the workspace asks for it.
        var result = SignedIn.Unwrap(await new GetLead(harness.Directory, new NoSuppressions(), new NoEmails(), SignedIn.Access, SignedIn.NoAccessLog)
            .Run(Query(), leadId, CancellationToken.None));

        // Assert: each score decayed with its own half-life (product-a 5 days, product-b the model's 10), and equal to its ledger rows' sum.
        var body = Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Equal(["product-a", "product-b"], body.Scores.Select(s => s.Name));
        var productA = body.Scores[0].Score;
        var productB = body.Scores[1].Score;
        // The clock stood still while the events were applied, so every point is dated at the start (never in the future).
        Assert.Equal(25 / 2.0, productA, 6);
        Assert.Equal(21 * Math.Pow(2, -0.5), productB, 6);
        Assert.All(body.Scores, s => Assert.Equal(body.Engagement.AsOf, s.AsOf));

        var rows = body.Ledger.Items;
        Assert.Equal(productA, rows.Where(r => r.Score == "product-a").Sum(r => r.PointsNow), 6);
        Assert.Equal(productB, rows.Where(r => r.Score == "product-b").Sum(r => r.PointsNow), 6);
        Assert.Equal(body.Engagement.Score, rows.Where(r => r.Score == LedgerRules.EngagementScore).Sum(r => r.PointsNow), 6);
        Assert.Equal(["a-docs", "a-docs"], rows.Where(r => r.Score == "product-a").Select(r => r.Rule));
        Assert.Single(rows, r => r.Score == "product-a" && r.Points == 0 && r.Note is { } note && note.StartsWith("capped", StringComparison.Ordinal));
        Assert.Equal(3, rows.Count(r => r.Score == "product-b" && r.Rule == "b-pages"));
        Assert.Equal(5, rows.Count(r => r.Score == LedgerRules.EngagementScore && r.Rule == "page-view")); // the default score's own rule

        // The named score qualified the lead (its engagement, 15 + 5 · 3, is below the default bar of 50), and has decayed since.
        var mql = Assert.Single(body.History.Items, h => h.To == "MQL");
        Assert.Equal("MQL: score product-a 25 >= 20 and fit grade B >= C", mql.Reason);
    }

    [Fact]
    public async Task A_lead_of_a_model_without_named_scores_writes_no_scores_property_and_reads_no_scores()
    {
        var harness = new ScoringHarness(azurite);
        var start = harness.Time.GetUtcNow();
        await harness.ProcessAsync([Events.Form(Email, start, FormIntent.ContentDownload), Events.PageView(start.AddMinutes(1), "https://example.com/a/docs", Email)]);

        var row = (await harness.Table.Client.GetEntityAsync<Azure.Data.Tables.TableEntity>(ScoringHarness.LeadIdOf(Email), LeadRows.Lead)).Value;
        var lead = await harness.LeadAsync(Email);

        Assert.False(row.ContainsKey(nameof(LeadEntity.ScoresJson)));
        Assert.Empty(lead.Lead.Scores);
        Assert.All(lead.Ledger, l => Assert.Equal(LedgerRules.EngagementScore, l.Score));
    }

    private static HttpRequest Query()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        return SignedIn.As(context.Request, "sales");
    }
}

/// <summary>The named scores' state on the lead row, without storage: it round-trips, and its worst case stays far inside a property's limit.</summary>
public sealed class NamedScoresRowTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Named_score_state_round_trips_through_the_lead_row()
    {
        var model = ScoringModelLoader.Load(NamedScoreStorageModel.Json);
        var state = new LeadScoreState { LeadId = TestLeadIds.LeadIdFor("trip@example.com"), Email = "trip@example.com", Stage = LifecycleStage.Mql };
        state.Scores["product-a"] = new NamedScoreState { Value = 42.5, Anchor = Now, HalfLifeSeconds = 1, FloorValue = 10.25, FloorAt = Now.AddDays(-1) };
        state.Scores["product-b"] = new NamedScoreState { Value = -3, Anchor = Now.AddHours(-2) };
        state.Caps["a-docs"] = new CapCounter(20000, 1);

        var back = LeadMapping.ToState(LeadRowBounds.ToEntity(state, model, maxLinkedVisitors: 50, default));

        Assert.Equal(["product-a", "product-b"], back.Scores.Keys.Order(StringComparer.Ordinal));
        var a = back.Scores["product-a"];
        Assert.Equal((42.5, Now, TimeSpan.FromDays(5).TotalSeconds, 10.25, Now.AddDays(-1)), (a.Value, a.Anchor, a.HalfLifeSeconds, a.FloorValue, a.FloorAt));
        Assert.Equal((-3.0, Now.AddHours(-2), TimeSpan.FromDays(10).TotalSeconds), (back.Scores["product-b"].Value, back.Scores["product-b"].Anchor, back.Scores["product-b"].HalfLifeSeconds));
        Assert.Equal(new CapCounter(20000, 1), back.Caps["a-docs"]);
    }

    [Fact]
    public void A_row_written_before_named_scores_reads_with_none()
    {
        var entity = new LeadEntity { PartitionKey = TestLeadIds.LeadIdFor("old@example.com"), Stage = "Lead" };

        Assert.Empty(LeadMapping.ToState(entity).Scores);
    }

    [Fact]
    public void The_worst_case_named_score_state_is_a_few_kib_and_scores_the_model_dropped_are_not_kept()
    {
        // Arrange: the most named scores a model may have, with the longest names, and a lead holding every one of them at values
        // whose JSON is longest, plus scores of an earlier model that no longer exist.
        var names = Enumerable.Range(0, ScoringModelLoader.MaxNamedScores).Select(i => ("s" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)).PadRight(32, 'x')).ToList();
        var scores = string.Join(",", names.Select((n, i) => $$"""{ "name": "{{n}}", "decay": { "halfLifeDays": 3649.123456789 }, "rules": [ { "id": "rule-{{i}}", "points": 1, "match": { "eventType": "page-view" } } ] }"""));
        var model = ScoringModelLoader.Load(ScoringHarness.ModelJson.Replace("\"fitRules\":", $"\"scores\": [{scores}], \"fitRules\":", StringComparison.Ordinal));
        var state = new LeadScoreState { LeadId = TestLeadIds.LeadIdFor("worst@example.com"), Stage = LifecycleStage.Lead };
        var longest = new NamedScoreState
        {
            Value = -1.2345678901234567E-300, Anchor = new DateTimeOffset(2999, 12, 31, 23, 59, 59, 999, TimeSpan.FromHours(-13)).AddTicks(9999),
            HalfLifeSeconds = 1, FloorValue = -1.7976931348623157E+308, FloorAt = new DateTimeOffset(2999, 12, 31, 23, 59, 59, 999, TimeSpan.FromHours(14)).AddTicks(9999),
        };
        foreach (var name in names)
            state.Scores[name] = longest;
        for (var i = 0; i < 1000; i++)
            state.Scores[$"retired-{i}"] = new NamedScoreState { Value = 1 };

        // Act
        var entity = LeadRowBounds.ToEntity(state, model, maxLinkedVisitors: 50, default);

        // Assert: ten scores, well under 4 KiB of the 32,768 characters a property holds.
        Assert.Equal(names.Order(StringComparer.Ordinal), LeadMapping.ToState(entity).Scores.Keys.Order(StringComparer.Ordinal));
        Assert.NotNull(entity.ScoresJson);
        Assert.True(entity.ScoresJson.Length < 4 * 1024, $"{entity.ScoresJson.Length} characters");
        Assert.True(entity.ScoresJson.Length < LeadRowBounds.MaxStringLength / 8);
    }
}
