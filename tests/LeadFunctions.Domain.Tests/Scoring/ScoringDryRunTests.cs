using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;

namespace LeadFunctions.Domain.Tests.Scoring;

public sealed class ScoringDryRunTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 18, 10, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<string, string> Cto = new() { ["role"] = "CTO" };

    /// <summary>A CTO (grade C) with a whitepaper form (10) and two pricing views (2 × 20): exactly the MQL bar of 50.</summary>
    private static ReplayLead Engaged(string leadId) => Lead(leadId, LifecycleStage.Mql,
        EventBuilder.Form(T, FormIntent.ContentDownload, "whitepaper", Cto),
        EventBuilder.PageView(T, "https://example.com/pricing"),
        EventBuilder.PageView(T, "https://example.com/pricing/enterprise"));

    /// <summary>The same CTO with the form only: 10 points, a Lead under either model.</summary>
    private static ReplayLead Quiet(string leadId) => Lead(leadId, LifecycleStage.Lead,
        EventBuilder.Form(T, FormIntent.ContentDownload, "whitepaper", Cto));

    private static ReplayLead Lead(string leadId, LifecycleStage stored, params LeadEvent[] events) =>
        new(leadId, stored, [.. events.Select(e => new ReplayEvent(e, e.OccurredAt))]);

    private static ScoringModel Proposal(Func<string, string> edit) => ScoringModelLoader.Load(edit(TestModels.Json).Replace("test-1", "test-2", StringComparison.Ordinal));

    private static Task<DryRunReport> RunAsync(ScoringModel proposed, IReadOnlyList<UnreachableRule>? unreachable = null, params ReplayLead[] leads) =>
        new ScoringDryRun(TestModels.Model, proposed, unreachable).RunAsync(new InMemoryReplaySource(leads), new ReplayFilter(), T, CancellationToken.None);

    [Fact]
    public async Task Raising_the_MQL_bar_moves_the_leads_just_above_it_out_of_MQL()
    {
        // Arrange
        var proposed = Proposal(json => json.Replace("\"minEngagement\": 50", "\"minEngagement\": 60", StringComparison.Ordinal));

        // Act
        var report = await RunAsync(proposed, null, Engaged("lead-b"), Quiet("lead-c"), Engaged("lead-a"));

        // Assert
        Assert.Equal(3, report.Leads);
        Assert.Equal(2, report.LeadsChangingStage);
        Assert.Equal(2, report.Mql.LeavingCount);
        Assert.Equal(["lead-a", "lead-b"], report.Mql.Leaving.Select(l => l.LeadId));
        var moved = report.Mql.Leaving[0];
        Assert.Equal(("Mql", "Lead", 50d, 50d), (moved.BeforeStage, moved.AfterStage, moved.BeforeScore, moved.AfterScore));
        Assert.Empty(moved.Rules); // the bar moved, no rule's points did
        Assert.Contains(report.StageMoves, m => m is { Name: "Mql to Lead", Count: 2 });
    }

    [Fact]
    public async Task A_rule_whose_points_change_is_named_as_the_rule_that_made_the_difference()
    {
        // Arrange: pricing views are worth 5 instead of 20.
        var proposed = Proposal(json => json.Replace("\"id\": \"pricing\", \"points\": 20", "\"id\": \"pricing\", \"points\": 5", StringComparison.Ordinal));

        // Act
        var report = await RunAsync(proposed, null, Engaged("lead-a"));

        // Assert
        var lead = Assert.Single(report.Mql.Leaving);
        Assert.Equal((50d, 20d), (lead.BeforeScore, lead.AfterScore));
        var rule = Assert.Single(lead.Rules);
        Assert.Equal(new RuleDifference("pricing", 40, 10), rule);
        Assert.Contains("pricing 40->10", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_events_and_models_give_byte_identical_JSON()
    {
        // Arrange
        var proposed = Proposal(json => json.Replace("\"minEngagement\": 50", "\"minEngagement\": 60", StringComparison.Ordinal));
        ReplayLead[] leads = [Quiet("lead-c"), Engaged("lead-a"), Engaged("lead-b")];

        // Act
        var first = (await RunAsync(proposed, null, leads)).ToJson();
        var second = (await RunAsync(proposed, null, [.. leads.Reverse()])).ToJson();

        // Assert
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task A_proposed_rule_no_replayed_event_meets_is_warned_about()
    {
        // Arrange
        var proposed = Proposal(json => json);

        // Act
        var report = await RunAsync(proposed, null, Engaged("lead-a"));

        // Assert
        Assert.Contains(report.Warnings, w => w is { Kind: "never-matched", RuleId: "spring-click" });
        Assert.DoesNotContain(report.Warnings, w => w.RuleId == "pricing");
    }

    [Fact]
    public void A_rule_waiting_for_a_form_intent_no_shipped_form_has_is_unreachable()
    {
        // Arrange: the shipped forms and catalogue, and a proposal whose rule expects the demo form to be a newsletter sign-up.
        var forms = FormCatalog.Load(Path.Combine(AppContext.BaseDirectory, "config", "forms.json"));
        var content = ContentCatalogue.Load(Path.Combine(AppContext.BaseDirectory, "config", "content.json"));
        var shipped = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "scoring-model.json"));
        var proposed = ScoringModelLoader.Load(shipped.Replace(
            "\"engagementRules\": [",
            "\"engagementRules\": [ { \"id\": \"demo-as-newsletter\", \"points\": 5, \"match\": { \"formId\": \"demo-request\", \"formIntent\": \"newsletter-signup\" } },",
            StringComparison.Ordinal));

        // Act
        var unreachable = ScoringModelReachability.Check(proposed, forms, content);

        // Assert
        var rule = Assert.Single(unreachable);
        Assert.Equal(("demo-as-newsletter", "match.formIntent"), (rule.RuleId, rule.Field));
    }

    [Fact]
    public async Task An_unreachable_rule_is_a_warning_of_the_report()
    {
        // Arrange
        var proposed = Proposal(json => json);
        UnreachableRule[] unreachable = [new("whitepaper-form", "match.formId", "no form has the id 'whitepaper'")];

        // Act
        var report = await RunAsync(proposed, unreachable, Engaged("lead-a"));

        // Assert
        Assert.Contains(report.Warnings, w => w is { Kind: "unreachable", RuleId: "whitepaper-form", Field: "match.formId" });
    }

    [Fact]
    public async Task A_stage_filter_replays_only_leads_stored_in_that_stage()
    {
        // Arrange
        var proposed = Proposal(json => json);
        var source = new InMemoryReplaySource([Engaged("lead-a"), Quiet("lead-c")]);

        // Act
        var report = await new ScoringDryRun(TestModels.Model, proposed).RunAsync(source, new ReplayFilter { Stage = LifecycleStage.Lead }, T, CancellationToken.None);

        // Assert
        Assert.Equal(1, report.Leads);
        Assert.Equal(1, report.Events);
    }
}

public sealed class ScoringDryRunNamedScoresTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 18, 10, 0, 0, TimeSpan.Zero);

    /// <summary>product-a docs visits are worth 25 instead of 15.</summary>
    private static readonly ScoringModel RicherDocs = ScoringModelLoader.Load(NamedScoreModels.Json
        .Replace("\"id\": \"a-docs\", \"points\": 15", "\"id\": \"a-docs\", \"points\": 25", StringComparison.Ordinal)
        .Replace("test-1", "test-2", StringComparison.Ordinal));

    /// <summary>A lead with <paramref name="docsVisits"/> product-a docs visits: 15 each now, 25 each under <see cref="RicherDocs"/>.</summary>
    private static ReplayLead Reader(string leadId, int docsVisits) => new(leadId, LifecycleStage.Lead,
        [.. Enumerable.Range(0, docsVisits).Select(i => EventBuilder.PageView(T, $"https://example.com/a/docs/page-{i}")).Select(e => new ReplayEvent(e, e.OccurredAt))]);

    private static ReplayLead Stranger(string leadId) => new(leadId, LifecycleStage.Lead,
        [new ReplayEvent(EventBuilder.PageView(T, "https://example.com/blog/x"), T)]);

    private static Task<DryRunReport> RunAsync(ScoringModel current, ScoringModel proposed, params ReplayLead[] leads) =>
        new ScoringDryRun(current, proposed).RunAsync(new InMemoryReplaySource(leads), new ReplayFilter(), T, CancellationToken.None);

    [Fact]
    public async Task A_named_score_whose_rule_points_change_reports_its_bands_before_and_after_and_who_crosses_its_MQL_bar()
    {
        // Arrange: lead-a 45 -> 75 (above the MQL bar of 40 either way), lead-b 30 -> 50 (rises across it), lead-c 0.
        ReplayLead[] leads = [Reader("lead-a", 3), Reader("lead-b", 2), Stranger("lead-c")];

        // Act
        var report = await RunAsync(NamedScoreModels.Model, RicherDocs, leads);

        // Assert
        Assert.Equal(["product-a", "product-b"], report.NamedScores.Select(n => n.Name));
        var a = report.NamedScores[0];
        Assert.True(a.InCurrent && a.InProposed);
        Assert.Equal([("0-9", 1L), ("25-49", 2L)], a.Before.Where(b => b.Count > 0).Select(b => (b.Name, b.Count)));
        Assert.Equal([("0-9", 1L), ("50-74", 1L), ("75-99", 1L)], a.After.Where(b => b.Count > 0).Select(b => (b.Name, b.Count)));
        Assert.Equal(ScoringDryRun.ScoreBands.Count, a.Before.Count);
        Assert.Equal(new ScoreBarCrossing(40, 40, 1, 2, 1, 0), a.Mql);
        Assert.Equal(new ScoreBarCrossing(80, 80, 0, 0, 0, 0), a.Sql);
        // product-b is named by no bar, and nobody earned it.
        var b = report.NamedScores[1];
        Assert.Equal((null, null), (b.Mql, b.Sql));
        Assert.Equal(3, b.After.Single(x => x.Name == "0-9").Count);
    }

    [Fact]
    public async Task A_named_score_the_proposal_adds_starts_every_lead_at_zero_and_counts_who_it_lifts_over_its_new_bar()
    {
        // Arrange: the current model has no named scores; the proposal adds product-a with an MQL bar of 40.
        var proposed = ScoringModelLoader.Load(NamedScoreModels.Json.Replace("test-1", "test-2", StringComparison.Ordinal));

        // Act
        var report = await RunAsync(TestModels.Model, proposed, Reader("lead-a", 3), Reader("lead-b", 2), Stranger("lead-c"));

        // Assert
        var a = report.NamedScores.Single(n => n.Name == "product-a");
        Assert.Equal((false, true), (a.InCurrent, a.InProposed));
        Assert.Equal(3, a.Before.Single(x => x.Name == "0-9").Count);
        Assert.Equal(new ScoreBarCrossing(null, 40, 0, 1, 1, 0), a.Mql);
        var text = report.ToText();
        Assert.Contains("Score product-a bands (before -> after) (new in the proposal):", text, StringComparison.Ordinal);
        Assert.Contains("MQL bar none -> 40: 0 -> 1 leads at or above (1 rise across it, 0 fall below it)", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_without_named_scores_report_an_empty_list_of_them()
    {
        var report = await RunAsync(TestModels.Model, TestModels.Model, Stranger("lead-c"));

        Assert.Empty(report.NamedScores);
        Assert.Contains("\"namedScores\": []", report.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain("Score ", report.ToText(), StringComparison.Ordinal);
    }
}

public sealed class ShippedModelReachabilityTests
{
    [Fact]
    public void The_shipped_model_has_no_rule_the_shipped_forms_and_catalogue_cannot_reach()
    {
        // Arrange: the check a proposal goes through, on what ships today, so it agrees with ShippedConfigurationTests.
        var config = Path.Combine(AppContext.BaseDirectory, "config");
        var model = ScoringModelLoader.LoadFile(Path.Combine(config, "scoring-model.json"));

        // Act
        var unreachable = ScoringModelReachability.Check(model, FormCatalog.Load(Path.Combine(config, "forms.json")), ContentCatalogue.Load(Path.Combine(config, "content.json")));

        // Assert
        Assert.Empty(unreachable);
    }
}
