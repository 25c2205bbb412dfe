using System.Globalization;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Tests.Scoring;

/// <summary>How the processor applies recycle, advance, accept's owner, CRM decisions and routing assignments.</summary>
public sealed class StageDecisionTests
{
    private readonly ScoringRun _run = new();

    private DateTimeOffset Now => _run.Now;

    private List<StageChange> Apply(LeadEvent e) => _run.Apply(e);

    private static LeadEvent Crm(DateTimeOffset at, string decision, string toStage, string? reason = null) =>
        EventBuilder.Activity(LeadEventTypes.SalesDecision, at,
            (LeadEventProperties.Decision, decision), (LeadEventProperties.ToStage, toStage), (LeadEventProperties.Reason, reason ?? ""),
            (LeadEventProperties.Actor, "crm:hubspot"), (LeadEventProperties.Source, LifecycleMachine.CrmSource));

    private static LeadEvent Assignment(DateTimeOffset at, string owner, DateTimeOffset sqlAt) =>
        EventBuilder.Activity(LeadEventTypes.SalesAssignment, at,
            (LeadEventProperties.Owner, owner), (LeadEventProperties.RoutedBy, "round-robin"),
            (LeadEventProperties.SqlEpisode, sqlAt.ToString("O", CultureInfo.InvariantCulture)));

    private LeadScoreState Ignored(out LedgerAward award)
    {
        award = Assert.Single(_run.Outcome.Awards, a => a.RuleId == LifecycleMachine.IgnoredSalesDecisionRule);
        return _run.Lead;
    }

    [Fact]
    public void Recycling_an_opportunity_sends_it_back_to_mql_with_the_reason_and_old_points_do_not_requalify_it()
    {
        // Arrange
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        Apply(EventBuilder.SalesDecision(Now, "advance", "opportunity", "budget approved"));
        _run.Time.Advance(TimeSpan.FromHours(1));

        // Act
        var recycle = Assert.Single(Apply(EventBuilder.SalesDecision(Now, "recycle", "mql", "went quiet")));

        // Assert
        Assert.Equal((LifecycleStage.Opportunity, LifecycleStage.Mql, "recycled by sales: went quiet", "rep@example.com"),
            (recycle.From, recycle.To, recycle.Reason, recycle.CausedBy));
        Assert.Equal(Now, _run.Lead.RequalifyFloorAt);
        Assert.True(_run.Lead.RequalifyFloorValue > 0);
    }

    [Fact]
    public void Sales_advance_a_lead_through_opportunity_customer_and_evangelist_each_recorded_with_the_actor()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        var steps = new[] { "opportunity", "customer", "evangelist" }
            .Select(to => Assert.Single(Apply(EventBuilder.SalesDecision(Now, "advance", to, "step to " + to))))
            .ToList();

        Assert.Equal([LifecycleStage.Opportunity, LifecycleStage.Customer, LifecycleStage.Evangelist], steps.Select(s => s.To));
        Assert.All(steps, s => Assert.Equal("rep@example.com", s.CausedBy));
        Assert.Equal("advanced by sales: step to customer", steps[1].Reason);
    }

    [Fact]
    public void An_illegal_decision_that_reaches_the_processor_is_recorded_as_ignored_with_the_reason_and_changes_nothing()
    {
        // Arrange: a Lead (a person may not advance it past SQL).
        Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, "whitepaper"));
        var before = _run.Lead.Stage;

        // Act
        var changes = Apply(EventBuilder.SalesDecision(Now, "advance", "customer", "raced"));

        // Assert
        Assert.Empty(changes);
        Ignored(out var ignored);
        Assert.Equal(before, _run.Lead.Stage);
        Assert.Contains("only an SQL or an Opportunity can be advanced to Customer", ignored.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejection_to_a_stage_that_is_not_mql_or_lead_is_ignored_not_poisoned()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        var changes = Apply(EventBuilder.SalesDecision(Now, "reject", "customer", "typo"));

        Assert.Empty(changes);
        Ignored(out var ignored);
        Assert.Contains("reject returns the lead to MQL or Lead", ignored.Note, StringComparison.Ordinal);
        Assert.Equal(LifecycleStage.Sql, _run.Lead.Stage);
    }

    [Fact]
    public void A_decision_naming_no_known_stage_is_malformed()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        Assert.Throws<MalformedLeadEventException>(() => Apply(EventBuilder.SalesDecision(Now, "advance", "moon")));
    }

    [Fact]
    public void An_acceptance_makes_the_one_who_accepted_the_owner()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        Apply(EventBuilder.SalesDecision(Now, "accept"));

        Assert.Equal("rep@example.com", _run.Lead.Owner);
    }

    [Fact]
    public void The_crm_may_make_an_mql_a_customer_on_a_won_deal_but_a_person_may_not()
    {
        Apply(EventBuilder.Form(Now, FormIntent.ContentDownload, "whitepaper"));

        var won = Assert.Single(Apply(Crm(Now, "advance", "customer", "deal won in HubSpot")));

        Assert.Equal((LifecycleStage.Customer, "advanced by the CRM: deal won in HubSpot", "crm:hubspot"), (won.To, won.Reason, won.CausedBy));
    }

    [Fact]
    public void A_lost_deal_from_the_crm_does_not_unmake_a_customer()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        Apply(Crm(Now, "advance", "customer"));

        var changes = Apply(Crm(Now, "recycle", "mql", "upsell lost"));

        Assert.Empty(changes);
        Ignored(out _);
        Assert.Equal(LifecycleStage.Customer, _run.Lead.Stage);
    }

    [Fact]
    public void Routing_assigns_the_owner_of_the_sql_it_was_for_with_a_ledger_note()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var sqlAt = Now;
        _run.Time.Advance(TimeSpan.FromMinutes(5));

        var changes = Apply(Assignment(Now, " Rep1@Sales.Example.com ", sqlAt));

        Assert.Empty(changes);
        Assert.Equal("rep1@sales.example.com", _run.Lead.Owner);
        var note = Assert.Single(_run.Outcome.Awards, a => a.RuleId == LifecycleMachine.SalesAssignmentRule);
        Assert.Equal("assigned to rep1@sales.example.com by round-robin", note.Note);
    }

    [Fact]
    public void A_late_routing_assignment_does_not_take_the_lead_from_the_rep_who_accepted_it()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var sqlAt = Now;
        _run.Time.Advance(TimeSpan.FromMinutes(5));
        Apply(EventBuilder.SalesDecision(Now, "accept"));
        _run.Time.Advance(TimeSpan.FromMinutes(5));

        Apply(Assignment(Now, "rep2@sales.example.com", sqlAt));

        Assert.Equal("rep@example.com", _run.Lead.Owner);
        Assert.Single(_run.Outcome.Awards, a => a.RuleId == LifecycleMachine.IgnoredSalesAssignmentRule);
    }

    [Fact]
    public void An_assignment_without_a_valid_owner_address_is_malformed()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));

        Assert.Throws<MalformedLeadEventException>(() => Apply(Assignment(Now, "not an address", Now)));
    }
}
