using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Scoring;

public sealed class ScoringEngineTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero)); // a Monday
    private readonly ScoringEngine _engine = new(TestModels.Model);
    private readonly LeadScoreState _lead = States.NewLead();
    private readonly ScoringOutcome _outcome = new();

    private DateTimeOffset Now => _time.GetUtcNow();

    private ScoringOutcome Apply(LeadEvent e)
    {
        _engine.Apply(_lead, e, Now, _outcome);
        return _outcome;
    }

    private double Engagement => _lead.EngagementAt(Now, TestModels.Model.HalfLife);

    [Fact]
    public void A_rule_on_event_type_and_form_intent_awards_its_points()
    {
        var outcome = Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        var award = Assert.Single(outcome.Awards);
        Assert.Equal(("demo", 40.0, false), (award.RuleId, award.Points, award.Capped));
        Assert.Equal(40, Engagement, 9);
    }

    [Fact]
    public void A_rule_on_form_id_matches_that_form_only()
    {
        Assert.Equal("whitepaper-form", Assert.Single(Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, "whitepaper")).Awards).RuleId);
        Assert.Empty(Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, "other-form")).Awards);
    }

    [Fact]
    public void Bottom_of_funnel_content_earns_more_than_top_of_funnel()
    {
        var bottom = Apply(EventBuilder.Activity(LeadEventTypes.ContentDownload, Now, (LeadEventProperties.FunnelStage, "bottom"))).Awards[0].Points;
        var top = Apply(EventBuilder.Activity(LeadEventTypes.ContentDownload, Now, (LeadEventProperties.FunnelStage, "top"))).Awards[0].Points;

        Assert.Equal((30.0, 5.0), (bottom, top));
    }

    [Fact]
    public void A_url_glob_matches_the_whole_url_ignoring_case()
    {
        Assert.Equal("pricing", Assert.Single(Apply(EventBuilder.PageView(Now, "https://EXAMPLE.com/pricing/teams")).Awards).RuleId);
        Assert.Empty(Apply(EventBuilder.PageView(Now, "https://example.com/about/pricing")).Awards);
    }

    [Fact]
    public void A_careers_page_visit_takes_points_away()
    {
        Apply(EventBuilder.PageView(Now, "https://example.com/blog/hello"));

        var outcome = Apply(EventBuilder.PageView(Now, "https://example.com/careers?team=sales"));

        Assert.Equal(("careers", -15.0), (outcome.Awards[0].RuleId, outcome.Awards[0].Points));
        Assert.Equal(-5, Engagement, 9);
    }

    [Fact]
    public void A_campaign_rule_scores_clicks_of_that_campaign_only()
    {
        Assert.Empty(Apply(EventBuilder.Activity(LeadEventTypes.EmailClick, Now, (LeadEventProperties.Campaign, "autumn"))).Awards);
        Assert.Equal(25, Apply(EventBuilder.Activity(LeadEventTypes.EmailClick, Now, (LeadEventProperties.Campaign, "spring"))).Awards[0].Points);
    }

    [Fact]
    public void A_daily_cap_records_further_matches_with_zero_points_until_the_next_utc_day()
    {
        var awards = new List<LedgerAward>();
        for (var i = 0; i < 3; i++)
            awards.AddRange(Apply(EventBuilder.PageView(Now.AddHours(i), "https://example.com/pricing")).Awards);
        _time.Advance(TimeSpan.FromDays(1));
        awards.AddRange(Apply(EventBuilder.PageView(Now, "https://example.com/pricing")).Awards);

        Assert.Equal([20.0, 20.0, 0.0, 20.0], awards.Select(a => a.Points));
        Assert.Equal([false, false, true, false], awards.Select(a => a.Capped));
        Assert.Contains("at most 2 per day", awards[2].Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weekly_cap_counts_across_days_of_one_iso_week()
    {
        var points = new List<double>();
        for (var day = 0; day < 5; day++)
            points.Add(Apply(EventBuilder.Activity(LeadEventTypes.EmailOpen, Now.AddDays(day))).Awards[0].Points);
        _time.Advance(TimeSpan.FromDays(7));
        points.Add(Apply(EventBuilder.Activity(LeadEventTypes.EmailOpen, Now)).Awards[0].Points);

        Assert.Equal([2.0, 2.0, 2.0, 0.0, 0.0, 2.0], points);
    }

    [Fact]
    public void An_ever_cap_awards_once_for_the_life_of_the_lead()
    {
        var first = Apply(EventBuilder.Activity(LeadEventTypes.EmailClick, Now, (LeadEventProperties.Campaign, "spring"))).Awards[0];
        _time.Advance(TimeSpan.FromDays(400));
        var later = Apply(EventBuilder.Activity(LeadEventTypes.EmailClick, Now, (LeadEventProperties.Campaign, "spring"))).Awards[0];

        Assert.Equal((25.0, 0.0, true), (first.Points, later.Points, later.Capped));
    }

    [Fact]
    public void Engagement_halves_every_half_life()
    {
        Apply(EventBuilder.Activity(LeadEventTypes.ContentDownload, Now, (LeadEventProperties.FunnelStage, "bottom")));

        _time.Advance(TimeSpan.FromDays(10));
        Assert.Equal(15, Engagement, 9);
        _time.Advance(TimeSpan.FromDays(10));
        Assert.Equal(7.5, Engagement, 9);
    }

    [Fact]
    public void The_decayed_ledger_sums_to_the_engagement_even_with_late_and_negative_events()
    {
        var awards = new List<LedgerAward>();
        var start = Now;
        awards.AddRange(Apply(EventBuilder.Form(Now, FormIntent.DemoRequest)).Awards);
        _time.Advance(TimeSpan.FromDays(3));
        awards.AddRange(Apply(EventBuilder.PageView(Now, "https://example.com/careers")).Awards);
        awards.AddRange(Apply(EventBuilder.PageView(start.AddDays(1), "https://example.com/blog/late")).Awards); // delivered late
        _time.Advance(TimeSpan.FromHours(5));
        awards.AddRange(Apply(EventBuilder.Activity(LeadEventTypes.ContentDownload, Now, (LeadEventProperties.FunnelStage, "top"))).Awards);

        foreach (var instant in new[] { Now, Now.AddDays(1), Now.AddDays(37.5), Now.AddDays(365) })
        {
            var ledger = awards.Sum(a => a.Points * Decay.Factor(instant - a.At, TestModels.Model.HalfLife));
            Assert.Equal(ledger, _lead.EngagementAt(instant, TestModels.Model.HalfLife), 9);
        }
    }

    [Fact]
    public void Fit_combines_equals_one_of_contains_and_range_conditions_into_a_grade()
    {
        Apply(EventBuilder.Form(Now, null, profile: new Dictionary<string, string> { ["role"] = " cto ", ["industry"] = "Retail" }));
        Assert.Equal((50.0, "B"), (_lead.FitScore, _lead.FitGrade));

        Apply(EventBuilder.Form(Now, null, profile: new Dictionary<string, string> { ["company"] = "Big Enterprise Ltd", ["companySize"] = "120" }));

        Assert.Equal((80.0, "A"), (_lead.FitScore, _lead.FitGrade));
        Assert.Equal(["cto", "industry", "enterprise-word", "size"], _lead.FitFactors.Select(f => f.RuleId));
    }

    [Fact]
    public void A_numeric_range_excludes_values_outside_it_and_non_numbers()
    {
        Apply(EventBuilder.Form(Now, null, profile: new Dictionary<string, string> { ["companySize"] = "5000" }));
        Assert.Equal(0, _lead.FitScore);
        Apply(EventBuilder.Form(Now, null, profile: new Dictionary<string, string> { ["companySize"] = "many" }));
        Assert.Equal(0, _lead.FitScore);
        Assert.Equal("D", _lead.FitGrade);
    }

    [Fact]
    public void A_later_submission_never_blanks_a_known_profile_field_and_consents_accumulate()
    {
        var granted = new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, Now, "form:newsletter");
        Apply(EventBuilder.Form(Now, FormIntent.NewsletterSignup, profile: new Dictionary<string, string> { ["firstName"] = "Ada", ["company"] = "Acme" }) with { Consents = [granted] });
        var terms = new ConsentRecord("terms", "v2", true, Now, "form:demo");
        Apply(EventBuilder.Form(Now, null, profile: new Dictionary<string, string> { ["firstName"] = "", ["company"] = "Acme Ltd", ["role"] = "  " }) with { Consents = [terms] });

        Assert.Equal(new Dictionary<string, string> { ["firstName"] = "Ada", ["company"] = "Acme Ltd" }, _lead.Profile);
        Assert.Equal([granted, terms], _lead.Consents);
    }

    [Fact]
    public void Probable_bot_opens_and_clicks_are_recorded_but_never_scored()
    {
        var outcome = Apply(EventBuilder.Activity(LeadEventTypes.EmailClick, Now,
            (LeadEventProperties.Campaign, "spring"), (LeadEventProperties.ProbableBot, "true"), (LeadEventProperties.BotReason, "clicked within 2s of delivery")));

        var row = Assert.Single(outcome.Awards);
        Assert.Equal((LedgerRules.ProbableBot, 0.0), (row.RuleId, row.Points));
        Assert.Contains("clicked within 2s", row.Note, StringComparison.Ordinal);
        Assert.Equal(0, Engagement);
        // The bot click did not spend the campaign's one-time allowance.
        Assert.Equal(25, Apply(EventBuilder.Activity(LeadEventTypes.EmailClick, Now, (LeadEventProperties.Campaign, "spring"))).Awards[0].Points);
    }
}
