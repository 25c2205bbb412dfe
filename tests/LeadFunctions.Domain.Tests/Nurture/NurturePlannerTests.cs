using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Nurture;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class NurturePlannerTests
{
    private static readonly DateTimeOffset EnrolledAt = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);

    private readonly FakeTimeProvider _time = new(EnrolledAt);
    private NurturePlanner Planner => new(_time);

    [Fact]
    public void A_step_after_enrolment_is_due_its_delay_after_enrolment_whatever_was_sent_before()
    {
        var step = new NurtureStep("s", TimeSpan.FromDays(2), StepAnchor.Enrolment, "x", "t");

        var due = NurturePlanner.DueAt(step, EnrolledAt, previousSentAt: EnrolledAt.AddDays(1));

        Assert.Equal(EnrolledAt.AddDays(2), due);
    }

    [Fact]
    public void A_step_after_the_previous_one_counts_from_when_that_one_was_actually_sent()
    {
        var step = new NurtureStep("s", TimeSpan.FromDays(3), StepAnchor.PreviousStep, "x", "t");
        var sentLate = EnrolledAt.AddHours(5);

        var due = NurturePlanner.DueAt(step, EnrolledAt, sentLate);

        Assert.Equal(sentLate.AddDays(3), due);
    }

    [Fact]
    public void A_step_is_due_only_once_its_time_has_come()
    {
        var dueAt = EnrolledAt.AddHours(1);

        Assert.False(Planner.IsDue(dueAt));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.True(Planner.IsDue(dueAt));
    }

    [Fact]
    public void An_mql_with_consent_and_room_under_the_cap_gets_the_email()
    {
        var decision = Planner.CheckNurture(TestLead.Mql().Since(EnrolledAt).Build(), EnrolledAt, suppressed: false, [], 3, Grace);

        Assert.Equal(FollowUpVerdict.Proceed, decision.Verdict);
    }

    [Theory]
    [InlineData(LifecycleStage.Sql)]
    [InlineData(LifecycleStage.Lead)]
    [InlineData(LifecycleStage.Customer)]
    public void A_lead_that_left_mql_leaves_the_programme(LifecycleStage stage)
    {
        var lead = TestLead.Mql().InStage(stage, EnrolledAt.AddDays(1)).Build();
        _time.Advance(TimeSpan.FromDays(2));

        var decision = Planner.CheckNurture(lead, EnrolledAt, suppressed: false, [], 3, Grace);

        Assert.Equal(FollowUpVerdict.Drop, decision.Verdict);
        Assert.Contains(stage.ToString(), decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void No_consent_means_no_nurture()
    {
        var decision = Planner.CheckNurture(TestLead.Mql().Since(EnrolledAt).WithoutConsent().Build(), EnrolledAt, false, [], 3, Grace);

        Assert.Equal(FollowUpVerdict.Drop, decision.Verdict);
        Assert.Contains("consent", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_mql_whose_consent_waits_for_its_confirmation_link_waits_and_is_moved_to_when_the_request_expires()
    {
        // Arrange: the reminder has been due for longer than the commit grace.
        var lead = TestLead.Mql().Since(EnrolledAt).PendingConsentSince(EnrolledAt.AddMinutes(-5)).Build();
        _time.Advance(TimeSpan.FromHours(1));

        // Act
        var decision = Planner.CheckNurture(lead, EnrolledAt, false, [], 3, Grace, TimeSpan.FromDays(7), scheduledFor: EnrolledAt);

        // Assert
        Assert.Equal(FollowUpVerdict.Wait, decision.Verdict);
        Assert.True(decision.Reschedule);
        Assert.Equal(EnrolledAt.AddMinutes(-5).AddDays(7), decision.RetryAt);
    }

    [Fact]
    public void A_fresh_reminder_of_an_mql_with_pending_consent_looks_again_next_run_as_its_confirmation_may_be_committing()
    {
        var lead = TestLead.Mql().Since(EnrolledAt).PendingConsentSince(EnrolledAt.AddDays(-2)).Build();
        _time.Advance(TimeSpan.FromMinutes(1));

        var decision = Planner.CheckNurture(lead, EnrolledAt, false, [], 3, Grace, TimeSpan.FromDays(7), scheduledFor: EnrolledAt);

        Assert.Equal(FollowUpVerdict.Wait, decision.Verdict);
        Assert.False(decision.Reschedule);
    }

    [Fact]
    public void An_mql_whose_consent_request_expired_unconfirmed_leaves_nurture()
    {
        var lead = TestLead.Mql().Since(EnrolledAt).PendingConsentSince(EnrolledAt).Build();
        _time.Advance(TimeSpan.FromDays(7));

        var decision = Planner.CheckNurture(lead, EnrolledAt, false, [], 3, Grace, TimeSpan.FromDays(7), scheduledFor: EnrolledAt.AddDays(7));

        Assert.Equal(FollowUpVerdict.Drop, decision.Verdict);
    }

    [Fact]
    public void A_confirmation_email_goes_for_a_pending_request_and_not_once_consent_is_confirmed_or_withdrawn()
    {
        // Arrange
        var requestedAt = EnrolledAt;
        var valid = TimeSpan.FromDays(7);
        var pending = TestLead.Mql().PendingConsentSince(requestedAt).Build();
        var confirmed = TestLead.Mql().Build() with
        {
            Consents = [new(ConsentPurposes.MarketingEmail, "v1", true, requestedAt, "form:x") { ConfirmedAt = requestedAt.AddMinutes(5), ConfirmedSource = "confirmation-link" }],
        };
        var withdrawn = TestLead.Mql().PendingConsentSince(requestedAt).WithdrawnConsentAt(requestedAt.AddMinutes(1)).Build();
        _time.Advance(TimeSpan.FromMinutes(2));

        // Act + Assert
        Assert.Equal(FollowUpVerdict.Proceed, Planner.CheckConfirmation(pending, requestedAt, false, valid, Grace).Verdict);
        Assert.Equal(FollowUpVerdict.Drop, Planner.CheckConfirmation(pending, requestedAt, suppressed: true, valid, Grace).Verdict);
        Assert.Equal(FollowUpVerdict.Drop, Planner.CheckConfirmation(confirmed, requestedAt, false, valid, Grace).Verdict);
        Assert.Equal(FollowUpVerdict.Drop, Planner.CheckConfirmation(withdrawn, requestedAt, false, valid, Grace).Verdict);
    }

    [Fact]
    public void A_confirmation_email_waits_for_the_request_to_be_committed_and_is_dropped_if_it_never_is()
    {
        var requestedAt = EnrolledAt;
        var older = TestLead.Mql().PendingConsentSince(requestedAt.AddDays(-1)).Build();

        var waiting = Planner.CheckConfirmation(older, requestedAt, false, TimeSpan.FromDays(7), Grace);
        _time.Advance(Grace);
        var dropped = Planner.CheckConfirmation(older, requestedAt, false, TimeSpan.FromDays(7), Grace);

        Assert.Equal(FollowUpVerdict.Wait, waiting.Verdict);
        Assert.Equal(FollowUpVerdict.Drop, dropped.Verdict);
    }

    [Fact]
    public void A_consent_withdrawn_after_it_was_given_stops_nurture()
    {
        var lead = TestLead.Mql().Since(EnrolledAt).WithdrawnConsentAt(EnrolledAt.AddHours(1)).Build();

        var decision = Planner.CheckNurture(lead, EnrolledAt, false, [], 3, Grace);

        Assert.Equal(FollowUpVerdict.Drop, decision.Verdict);
    }

    [Fact]
    public void An_unsubscribe_stops_nurture_whether_from_the_suppression_record_or_the_lead()
    {
        var fromRecord = Planner.CheckNurture(TestLead.Mql().Since(EnrolledAt).Build(), EnrolledAt, suppressed: true, [], 3, Grace);
        var fromLead = Planner.CheckNurture(TestLead.Mql().Since(EnrolledAt).Unsubscribed().Build(), EnrolledAt, suppressed: false, [], 3, Grace);

        Assert.Equal(FollowUpVerdict.Drop, fromRecord.Verdict);
        Assert.Equal(FollowUpVerdict.Drop, fromLead.Verdict);
    }

    [Fact]
    public void The_weekly_cap_holds_the_email_until_the_oldest_counted_send_is_a_week_old()
    {
        // Arrange: three sends in the last week with a cap of three.
        _time.Advance(TimeSpan.FromDays(6));
        var now = _time.GetUtcNow();
        DateTimeOffset[] sends = [now.AddDays(-8), now.AddDays(-5), now.AddDays(-3), now.AddDays(-1)];

        // Act
        var decision = Planner.CheckNurture(TestLead.Mql().Since(EnrolledAt).Build(), EnrolledAt, false, sends, 3, Grace);

        // Assert: the send 5 days ago leaves the window in 2 days.
        Assert.Equal(FollowUpVerdict.Wait, decision.Verdict);
        Assert.Equal(now.AddDays(2), decision.RetryAt);
    }

    [Fact]
    public void Sends_older_than_a_week_do_not_count_against_the_cap()
    {
        var now = _time.GetUtcNow();

        var freesAt = Planner.FrequencyCapFreesAt([now.AddDays(-7), now.AddDays(-9), now.AddDays(-1)], 2);

        Assert.Null(freesAt);
    }

    [Fact]
    public void Work_scheduled_before_the_lead_was_committed_waits_and_is_dropped_if_the_commit_never_happens()
    {
        // Arrange: the lead as stored still shows the stage before the change.
        var stale = TestLead.Mql().InStage(LifecycleStage.Lead, EnrolledAt.AddDays(-3)).Build();

        // Act
        var early = Planner.CheckNurture(stale, EnrolledAt, false, [], 3, Grace);
        _time.Advance(Grace + TimeSpan.FromSeconds(1));
        var late = Planner.CheckNurture(stale, EnrolledAt, false, [], 3, Grace);

        // Assert
        Assert.Equal(FollowUpVerdict.Wait, early.Verdict);
        Assert.Equal(FollowUpVerdict.Drop, late.Verdict);
    }

    [Fact]
    public void A_lead_that_does_not_exist_yet_is_waited_for_like_an_uncommitted_change()
    {
        var decision = Planner.CheckTransitionCommitted(null, EnrolledAt, Grace);

        Assert.Equal(FollowUpVerdict.Wait, decision.Verdict);
    }
}
