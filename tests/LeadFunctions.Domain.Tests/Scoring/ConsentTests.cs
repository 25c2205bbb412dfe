using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Scoring;

/// <summary>The consent model on the lead: pending double opt-in requests, confirmation by the link, withdrawal, and the bound.</summary>
public sealed class ConsentTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly ScoringEngine _engine = new(TestModels.Model);
    private readonly LeadScoreState _lead = States.NewLead();
    private readonly ScoringOutcome _outcome = new();

    private DateTimeOffset Now => _time.GetUtcNow();

    private LeadSummary Summary => _lead.ToSummary(Now, TestModels.Model.HalfLife);

    private ScoringOutcome Apply(LeadEvent e)
    {
        _engine.Apply(_lead, e, Now, _outcome);
        return _outcome;
    }

    private LeadEvent Request(string textVersion = "content-v1", string formId = "whitepaper") =>
        EventBuilder.Form(Now, FormIntent.ContentDownload, formId) with
        {
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, textVersion, false, Now, ConsentSources.Form(formId)) { Pending = true }],
        };

    private LeadEvent Confirmation() =>
        EventBuilder.Activity(LeadEventTypes.ConsentConfirmation, Now, (LeadEventProperties.MessageId, "m-1")) with { Email = null, LeadId = _lead.LeadId };

    [Fact]
    public void A_double_opt_in_request_is_pending_and_owes_a_confirmation_but_is_not_consent()
    {
        // Act
        var outcome = Apply(Request());

        // Assert
        var change = Assert.Single(outcome.ConsentChanges);
        Assert.Equal(ConsentChangeKind.Requested, change.Kind);
        Assert.False(Summary.HasMarketingEmailConsent);
        Assert.Equal("content-v1", Summary.PendingMarketingEmailRequest?.TextVersion);
    }

    [Fact]
    public void The_confirmation_grants_the_request_keeping_what_was_asked_and_recording_when_and_how_it_was_confirmed()
    {
        // Arrange
        var requestedAt = Now;
        Apply(Request());
        _time.Advance(TimeSpan.FromHours(2));

        // Act
        var outcome = Apply(Confirmation());

        // Assert
        var record = Assert.Single(_lead.Consents);
        Assert.Equal((ConsentPurposes.MarketingEmail, "content-v1", "form:whitepaper", requestedAt), (record.Purpose, record.TextVersion, record.Source, record.At));
        Assert.Equal((true, false, Now, ConsentSources.ConfirmationLink), (record.Granted, record.Pending, record.ConfirmedAt, record.ConfirmedSource));
        Assert.True(Summary.HasMarketingEmailConsent);
        Assert.Null(Summary.PendingMarketingEmailRequest);
        Assert.Equal(ConsentChangeKind.Confirmed, Assert.Single(outcome.ConsentChanges).Kind);
    }

    [Fact]
    public void A_second_confirmation_of_the_same_request_changes_nothing()
    {
        Apply(Request());
        Apply(Confirmation());
        var before = _lead.Consents.ToList();

        var outcome = Apply(Confirmation());

        Assert.Empty(outcome.ConsentChanges);
        Assert.Equal(before, _lead.Consents);
    }

    [Fact]
    public void A_new_request_from_a_lead_whose_consent_is_confirmed_keeps_the_consent_and_owes_no_new_email()
    {
        // Arrange
        Apply(Request());
        Apply(Confirmation());
        _time.Advance(TimeSpan.FromDays(3));

        // Act
        var outcome = Apply(Request("content-v2"));

        // Assert
        Assert.Empty(outcome.ConsentChanges);
        Assert.True(Summary.HasMarketingEmailConsent);
    }

    [Fact]
    public void An_unsubscribe_after_the_request_means_the_old_link_no_longer_grants_anything()
    {
        // Arrange
        Apply(Request());
        _time.Advance(TimeSpan.FromHours(1));
        Apply(EventBuilder.Activity(LeadEventTypes.Unsubscribe, Now));
        _time.Advance(TimeSpan.FromHours(1));

        // Act
        var outcome = Apply(Confirmation());

        // Assert
        Assert.Empty(outcome.ConsentChanges);
        Assert.False(Summary.HasMarketingEmailConsent);
        Assert.True(_lead.Unsubscribed);
    }

    [Fact]
    public void A_pending_request_does_not_lift_an_unsubscribe()
    {
        Apply(EventBuilder.Activity(LeadEventTypes.Unsubscribe, Now));
        _time.Advance(TimeSpan.FromHours(1));

        Apply(Request());

        Assert.True(_lead.Unsubscribed);
        Assert.False(Summary.HasMarketingEmailConsent);
    }

    [Fact]
    public void Three_hundred_submissions_leave_a_bounded_list_that_still_holds_the_current_state_and_the_latest_request()
    {
        // Arrange: one single opt-in grant for another purpose, then 300 double opt-in requests, each a minute apart.
        Apply(EventBuilder.Form(Now, null) with { Consents = [new ConsentRecord("terms", "t1", true, Now, "form:demo")] });
        for (var i = 0; i < 300; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            Apply(Request($"content-v{i}"));
        }

        // Assert
        Assert.InRange(_lead.Consents.Count, 1, 2 * ConsentRules.MaxPurposes + ConsentRules.MaxRecentRecords);
        Assert.Equal("content-v299", Summary.PendingMarketingEmailRequest?.TextVersion);
        Assert.True(ConsentRules.Current(_lead.Consents, "terms")?.Granted);
    }

    [Fact]
    public void The_bound_keeps_a_granted_consent_however_many_requests_follow_it()
    {
        // Arrange
        Apply(Request("first"));
        Apply(Confirmation());

        // Act
        for (var i = 0; i < 100; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            Apply(Request($"again-{i}"));
        }

        // Assert
        Assert.True(Summary.HasMarketingEmailConsent);
        Assert.Equal("first", ConsentRules.Current(_lead.Consents, ConsentPurposes.MarketingEmail)?.TextVersion);
    }

    [Fact]
    public void A_form_without_double_opt_in_grants_at_once_and_owes_no_confirmation()
    {
        var outcome = Apply(EventBuilder.Form(Now, FormIntent.ContentDownload) with
        {
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, Now, "form:single")],
        });

        Assert.Empty(outcome.ConsentChanges);
        Assert.True(Summary.HasMarketingEmailConsent);
    }
}
