using System.Globalization;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Tests.Scoring;

/// <summary>A sales decision applies only to the SQL episode it was made for; anything else is recorded as ignored.</summary>
public sealed class SalesDecisionEpisodeTests
{
    private readonly ScoringRun _run = new();

    private DateTimeOffset Now => _run.Now;

    private List<StageChange> Apply(LeadEvent e) => _run.Apply(e);

    /// <summary>Makes the lead an SQL now (a demo request); returns the start of that SQL episode.</summary>
    private DateTimeOffset AnSql()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        return Now;
    }

    private static LeadEvent Decision(DateTimeOffset at, string decision, DateTimeOffset episode, string? toStage = null) =>
        EventBuilder.SalesDecision(at, decision, toStage, "from the alert", episode);

    [Fact]
    public void A_rejection_for_the_current_sql_episode_applies()
    {
        var sqlAt = AnSql();
        _run.Time.Advance(TimeSpan.FromHours(1));

        var change = Assert.Single(Apply(Decision(Now, "reject", sqlAt, "mql")));

        Assert.Equal((LifecycleStage.Sql, LifecycleStage.Mql), (change.From, change.To));
    }

    [Fact]
    public void A_rejection_for_an_earlier_sql_episode_changes_nothing_and_is_recorded_as_ignored()
    {
        // Arrange: SQL, sent back to MQL, then an SQL again with a new episode.
        var firstEpisode = AnSql();
        _run.Time.Advance(TimeSpan.FromHours(1));
        Apply(Decision(Now, "reject", firstEpisode, "mql"));
        _run.Time.Advance(TimeSpan.FromDays(1));
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        Assert.Equal(LifecycleStage.Sql, _run.Lead.Stage);
        _run.Time.Advance(TimeSpan.FromHours(1));

        // Act: the first alert's reject link again, this time to Lead.
        var changes = Apply(Decision(Now, "reject", firstEpisode, "lead"));

        // Assert
        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Sql, _run.Lead.Stage);
        var ignored = Assert.Single(_run.Outcome.Awards, a => a.RuleId == LifecycleMachine.IgnoredSalesDecisionRule);
        Assert.Equal(0, ignored.Points);
        Assert.Contains("ignored", ignored.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void An_old_rejection_does_not_demote_a_customer()
    {
        var sqlAt = AnSql();
        Apply(EventBuilder.SalesDecision(Now, "advance", "customer"));
        _run.Time.Advance(TimeSpan.FromDays(2));

        var changes = Apply(Decision(Now, "reject", sqlAt, "lead"));

        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Customer, _run.Lead.Stage);
    }

    [Fact]
    public void A_rejection_after_the_same_sql_was_accepted_changes_nothing()
    {
        var sqlAt = AnSql();
        _run.Time.Advance(TimeSpan.FromHours(1));
        Apply(Decision(Now, "accept", sqlAt));
        _run.Time.Advance(TimeSpan.FromHours(1));

        var changes = Apply(Decision(Now, "reject", sqlAt, "lead"));

        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Sql, _run.Lead.Stage);
    }

    [Fact]
    public void A_rejection_without_an_episode_does_not_demote_a_lead_that_is_no_longer_an_sql()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        Apply(EventBuilder.SalesDecision(Now, "advance", "opportunity"));

        var changes = Apply(EventBuilder.SalesDecision(Now, "reject", "lead", "old event"));

        Assert.Empty(changes);
        Assert.Equal(LifecycleStage.Opportunity, _run.Lead.Stage);
    }

    [Fact]
    public void A_decision_with_an_unreadable_episode_is_malformed()
    {
        Apply(EventBuilder.Form(Now, FormIntent.DemoRequest));
        var e = EventBuilder.Activity(LeadEventTypes.SalesDecision, Now, (LeadEventProperties.Decision, "accept"), (LeadEventProperties.SqlEpisode, "yesterday"));

        Assert.Throws<MalformedLeadEventException>(() => Apply(e));
    }
}
