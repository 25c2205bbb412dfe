using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Tests.Scoring;

public sealed class LifecycleTests
{
    private static readonly Dictionary<string, string> GradeB = new() { ["role"] = "CTO", ["industry"] = "software" };
    private static readonly Dictionary<string, string> GradeC = new() { ["role"] = "CTO" };

    private readonly ScoringRun _run = new();

    private DateTimeOffset Now => _run.Now;

    private List<StageChange> Apply(LeadEvent e) => _run.Apply(e);

    private void Bottom(int times)
    {
        for (var i = 0; i < times; i++)
            Apply(EventBuilder.Activity(LeadEventTypes.ContentDownload, Now, (LeadEventProperties.FunnelStage, "bottom")));
    }

    [Fact]
    public void A_newsletter_sign_up_makes_a_subscriber_and_a_content_download_form_makes_it_a_lead()
    {
        var first = Assert.Single(Apply(EventBuilder.Form(Now, FormIntent.NewsletterSignup)));
        var second = Assert.Single(Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, "whitepaper")));

        Assert.Equal((null, LifecycleStage.Subscriber), (first.From, first.To));
        Assert.Equal((LifecycleStage.Subscriber, LifecycleStage.Lead), (second.From, second.To));
        Assert.Equal(LifecycleStage.Lead, _run.Lead.Stage);
    }

    [Fact]
    public void A_newsletter_sign_up_never_moves_a_lead_back_to_subscriber()
    {
        Apply(EventBuilder.Form(Now, FormIntent.EventRegistration));

        Assert.Empty(Apply(EventBuilder.Form(Now, FormIntent.NewsletterSignup)));
        Assert.Equal(LifecycleStage.Lead, _run.Lead.Stage);
    }

    [Fact]
    public void Engagement_over_the_bar_with_a_good_enough_grade_makes_an_mql_and_more_makes_an_sql()
    {
        Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, profile: GradeB));
        Bottom(1);
        Assert.Equal(LifecycleStage.Lead, _run.Lead.Stage); // 30 < 50

        var mql = Assert.Single(Apply(EventBuilder.Activity(LeadEventTypes.ContentDownload, Now, (LeadEventProperties.FunnelStage, "bottom"))));
        Bottom(1);
        var sql = Assert.Single(Apply(EventBuilder.Activity(LeadEventTypes.ContentDownload, Now, (LeadEventProperties.FunnelStage, "bottom"))));

        Assert.Equal((LifecycleStage.Lead, LifecycleStage.Mql), (mql.From, mql.To));
        Assert.Equal((LifecycleStage.Mql, LifecycleStage.Sql), (sql.From, sql.To));
        Assert.Contains("engagement 120 >= 100 and fit grade B >= B", sql.Reason, StringComparison.Ordinal);
        Assert.Equal(("test-1", sql.EventId, Now), (sql.ModelVersion, sql.CausedBy, sql.At));
    }

    [Fact]
    public void A_poor_fit_stays_a_lead_however_engaged()
    {
        Apply(EventBuilder.Form(Now, FormIntent.ContentDownload));
        Bottom(5);

        Assert.Equal(LifecycleStage.Lead, _run.Lead.Stage);
        Assert.Equal("D", _run.Lead.FitGrade);
    }

    [Fact]
    public void A_demo_request_goes_straight_to_sql_from_any_earlier_stage()
    {
        Apply(EventBuilder.Form(Now, FormIntent.NewsletterSignup));

        var change = Assert.Single(Apply(EventBuilder.Form(Now, FormIntent.DemoRequest, "demo")));

        Assert.Equal((LifecycleStage.Subscriber, LifecycleStage.Sql), (change.From, change.To));
        Assert.Contains("sales-intent form (demo-request, form demo)", change.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_first_ever_quote_request_creates_an_sql()
    {
        var change = Assert.Single(Apply(EventBuilder.Form(Now, FormIntent.QuoteRequest)));

        Assert.Equal((null, LifecycleStage.Sql), (change.From, change.To));
    }

    [Fact]
    public void Decay_below_the_mql_bar_returns_an_mql_to_lead_dated_when_the_score_crossed_the_bar()
    {
        Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, profile: GradeC));
        Bottom(2); // 60 points: MQL
        Assert.Equal(LifecycleStage.Mql, _run.Lead.Stage);
        var scoredAt = Now;

        _run.Time.Advance(TimeSpan.FromDays(30));
        var changes = Apply(EventBuilder.PageView(Now, "https://example.com/about"));

        var change = Assert.Single(changes);
        Assert.Equal((LifecycleStage.Mql, LifecycleStage.Lead, LifecycleMachine.DecayCause), (change.From, change.To, change.CausedBy));
        Assert.Null(change.EventId);
        // 60 · 2^(−t/10d) = 50  ⇒  t = 10d · log2(1.2)
        Assert.Equal(scoredAt.AddDays(10 * Math.Log2(1.2)), change.At, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void Negative_points_can_return_an_mql_to_lead()
    {
        Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, profile: GradeC));
        Bottom(2);

        var change = Assert.Single(Apply(EventBuilder.PageView(Now, "https://example.com/jobs")));

        Assert.Equal((LifecycleStage.Mql, LifecycleStage.Lead), (change.From, change.To));
        Assert.Contains("fell below the MQL bar", change.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Sales_rejection_returns_an_sql_to_mql_with_the_reason_and_old_points_do_not_requalify_it()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest, profile: GradeB));
        Bottom(3); // 130 points, grade B

        var rejection = Assert.Single(Apply(EventBuilder.SalesDecision(Now, "reject", "mql", "no budget this year")));
        var afterwards = Apply(EventBuilder.Form(Now, FormIntent.NewsletterSignup));

        Assert.Equal((LifecycleStage.Sql, LifecycleStage.Mql), (rejection.From, rejection.To));
        Assert.Equal("rejected by sales: no budget this year", rejection.Reason);
        Assert.Equal("rep@example.com", rejection.CausedBy);
        Assert.Empty(afterwards);
        Assert.Equal(LifecycleStage.Mql, _run.Lead.Stage);
    }

    [Fact]
    public void A_rejected_lead_requalifies_on_engagement_earned_after_the_rejection()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest, profile: GradeB));
        Apply(EventBuilder.SalesDecision(Now, "reject", "lead", "not now"));

        Bottom(3); // 90 new points: MQL, not SQL

        Assert.Equal(LifecycleStage.Mql, _run.Lead.Stage);
        Bottom(1);
        Assert.Equal(LifecycleStage.Sql, _run.Lead.Stage);
    }

    [Fact]
    public void Sales_can_advance_a_lead_to_opportunity_and_neither_scoring_nor_decay_undoes_it()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var advance = Assert.Single(Apply(EventBuilder.SalesDecision(Now, "advance", "opportunity")));

        _run.Time.Advance(TimeSpan.FromDays(365));
        var later = Apply(EventBuilder.PageView(Now, "https://example.com/careers"));
        var demo = Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        Assert.Equal((LifecycleStage.Sql, LifecycleStage.Opportunity), (advance.From, advance.To));
        Assert.Empty(later);
        Assert.Empty(demo);
        Assert.Equal(LifecycleStage.Opportunity, _run.Lead.Stage);
    }

    [Fact]
    public void Sales_acceptance_of_an_sql_is_recorded_in_the_history()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        var accept = Assert.Single(Apply(EventBuilder.SalesDecision(Now, "accept")));

        Assert.Equal((LifecycleStage.Sql, LifecycleStage.Sql, "accepted by sales"), (accept.From, accept.To, accept.Reason));
    }

    [Fact]
    public void An_sql_does_not_decay_back_by_itself()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        _run.Time.Advance(TimeSpan.FromDays(200));

        Assert.Empty(Apply(EventBuilder.PageView(Now, "https://example.com/")));
        Assert.Equal(LifecycleStage.Sql, _run.Lead.Stage);
    }

    [Fact]
    public void A_sales_decision_without_a_known_decision_is_malformed()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        var error = Assert.Throws<MalformedLeadEventException>(() => Apply(EventBuilder.SalesDecision(Now, "maybe")));

        Assert.Contains("accept, reject, recycle or advance", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsubscribe_sets_the_flag_and_withdraws_marketing_consent()
    {
        var granted = new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, Now, "form");
        Apply(EventBuilder.Form(Now, FormIntent.NewsletterSignup) with { Consents = [granted] });
        _run.Time.Advance(TimeSpan.FromMinutes(1));

        Apply(EventBuilder.Activity(LeadEventTypes.Unsubscribe, Now));
        var summary = _run.Lead.ToSummary(Now, TestModels.Model.HalfLife);

        Assert.True(summary.Unsubscribed);
        Assert.False(summary.HasMarketingEmailConsent);
        Assert.Equal(LifecycleStage.Subscriber, summary.Stage);
    }
}
