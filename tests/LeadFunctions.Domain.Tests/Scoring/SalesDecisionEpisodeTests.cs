using System.Globalization;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Scoring;

/// <summary>A sales decision applies only to the SQL episode it was made for; anything else is recorded as ignored.</summary>
public sealed class SalesDecisionEpisodeTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly ScoringEngine _engine = new(TestModels.Model);
    private readonly LeadScoreState _lead = States.NewLead();
    private readonly ScoringOutcome _outcome = new();

    private DateTimeOffset Now => _time.GetUtcNow();

    private List<StageChange> Apply(LeadEvent e)
    {
        _engine.Apply(_lead, e, Now, _outcome);
        return [.. _outcome.Transitions];
    }

    private static LeadEvent Decision(DateTimeOffset at, string decision, DateTimeOffset episode, string? toStage = null) =>
        EventBuilder.Activity(LeadEventTypes.SalesDecision, at,
            (LeadEventProperties.Decision, decision), (LeadEventProperties.ToStage, toStage ?? ""), (LeadEventProperties.Reason, "from the alert"),
            (LeadEventProperties.Actor, "rep@example.com"), (LeadEventProperties.SqlEpisode, episode.ToString("O", CultureInfo.InvariantCulture)));

    [Fact]
    public void A_rejection_for_the_current_sql_episode_applies()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var sqlAt = Now;
        _time.Advance(TimeSpan.FromHours(1));

        var change = Assert.Single(Apply(Decision(Now, "reject", sqlAt, "mql")));

        Assert.Equal((LifecycleStage.Sql, LifecycleStage.Mql), (change.From, change.To));
    }

    [Fact]
    public void A_rejection_for_an_earlier_sql_episode_changes_nothing_and_is_recorded_as_ignored()
    {
        // Arrange: SQL, sent back to MQL, then an SQL again with a new episode.
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var firstEpisode = Now;
        _time.Advance(TimeSpan.FromHours(1));
        Apply(Decision(Now, "reject", firstEpisode, "mql"));
        _time.Advance(TimeSpan.FromDays(1));
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        Assert.Equal(LifecycleStage.Sql, _lead.Stage);
        _time.Advance(TimeSpan.FromHours(1));

        // Act: the first alert's reject link again, this time to Lead.
        var changes = Apply(Decision(Now, "reject", firstEpisode, "lead"));

        // Assert
        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Sql, _lead.Stage);
        var ignored = Assert.Single(_outcome.Awards, a => a.RuleId == LifecycleMachine.IgnoredSalesDecisionRule);
        Assert.Equal(0, ignored.Points);
        Assert.Contains("ignored", ignored.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void An_old_rejection_does_not_demote_a_customer()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var sqlAt = Now;
        Apply(EventBuilder.SalesDecision(Now, "advance", "customer"));
        _time.Advance(TimeSpan.FromDays(2));

        var changes = Apply(Decision(Now, "reject", sqlAt, "lead"));

        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Customer, _lead.Stage);
    }

    [Fact]
    public void A_rejection_after_the_same_sql_was_accepted_changes_nothing()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var sqlAt = Now;
        _time.Advance(TimeSpan.FromHours(1));
        Apply(Decision(Now, "accept", sqlAt));
        _time.Advance(TimeSpan.FromHours(1));

        var changes = Apply(Decision(Now, "reject", sqlAt, "lead"));

        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Sql, _lead.Stage);
    }

    [Fact]
    public void A_rejection_without_an_episode_does_not_demote_a_lead_that_is_no_longer_an_sql()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        Apply(EventBuilder.SalesDecision(Now, "advance", "opportunity"));

        var changes = Apply(EventBuilder.SalesDecision(Now, "reject", "lead", "old event"));

        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Opportunity, _lead.Stage);
    }

    [Fact]
    public void A_decision_with_an_unreadable_episode_is_malformed()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var e = EventBuilder.Activity(LeadEventTypes.SalesDecision, Now, (LeadEventProperties.Decision, "accept"), (LeadEventProperties.SqlEpisode, "yesterday"));

        Assert.Throws<MalformedLeadEventException>(() => Apply(e));
    }
}
