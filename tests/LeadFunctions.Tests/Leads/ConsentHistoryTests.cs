using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Leads;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using LeadFunctions.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Leads;

/// <summary>
/// Consent history through the unsubscribe endpoint, the real processor and the lead view, over Azurite: every unsubscribe is
/// its own recorded event, and the view never calls a suppressed lead subscribed.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConsentHistoryTests(AzuriteFixture azurite)
{
    private const string Email = "consent.history@example.com";
    private static readonly string LeadId = TestLeadIds.Identity.LeadIdFor(Email);

    [Fact]
    public async Task A_lead_who_unsubscribed_and_then_posts_a_form_with_consent_still_reads_as_unsubscribed()
    {
        // Arrange: a subscribed lead unsubscribes through the one-click link.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await AnUnsubscribedLeadAsync(harness);

        // Act: a later, unconfirmed form post grants consent again; then the lead is read over the API.
        harness.Time.Advance(TimeSpan.FromDays(1));
        await ProcessAsync(harness, FormPost(harness, "form-2"));
        var view = await ViewAsync(harness);

        // Assert
        Assert.True(view.Unsubscribed);
        Assert.False(view.MarketingEmailConsent);
        Assert.Equal("one-click", view.Suppression?.Source);
    }

    [Fact]
    public async Task A_second_unsubscribe_after_a_confirmed_resubscription_is_applied_and_recorded()
    {
        // Arrange: unsubscribed once, then a confirmed double opt-in lifted the suppression and the lead granted consent again.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var first = await AnUnsubscribedLeadAsync(harness);
        harness.Time.Advance(TimeSpan.FromDays(2));
        await harness.Services.GetRequiredService<NurtureStore>().LiftSuppressionAsync(LeadId, CancellationToken.None);
        await ProcessAsync(harness, FormPost(harness, "form-2"));
        Assert.True((await ViewAsync(harness)).MarketingEmailConsent);

        // Act
        harness.Time.Advance(TimeSpan.FromDays(3));
        await UnsubscribeAsync(harness);
        var second = await ProcessQueuedAsync(harness, LeadEventTypes.Unsubscribe, skip: first.EventId);

        // Assert: a new event, applied, with its own withdrawal in the consent history, and the lead unsubscribed again.
        Assert.NotEqual(first.EventId, second.EventId);
        var view = await ViewAsync(harness);
        Assert.True(view.Unsubscribed);
        Assert.Equal(2, view.Consents.Count(c => c.Purpose == ConsentPurposes.MarketingEmail && !c.Granted));
    }

    [Fact]
    public async Task A_retried_one_click_post_is_one_unsubscribe_event()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await ProcessAsync(harness, FormPost(harness, "form-1"));

        // Act: the mail client posts twice within seconds.
        await UnsubscribeAsync(harness);
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        await UnsubscribeAsync(harness);

        // Assert
        var ids = (await harness.QueuedEventsAsync()).Where(e => e.Type == LeadEventTypes.Unsubscribe).Select(e => e.EventId).Distinct().ToList();
        Assert.Single(ids);
    }

    [Fact]
    public async Task Lifting_the_suppression_after_a_confirmed_opt_in_makes_the_view_subscribed_again()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await AnUnsubscribedLeadAsync(harness);
        harness.Time.Advance(TimeSpan.FromDays(1));
        await ProcessAsync(harness, FormPost(harness, "form-2"));

        // Act
        await harness.Services.GetRequiredService<NurtureStore>().LiftSuppressionAsync(LeadId, CancellationToken.None);
        var view = await ViewAsync(harness);

        // Assert
        Assert.Null(view.Suppression);
        Assert.True(view.MarketingEmailConsent);
    }

    private static LeadEvent FormPost(NurtureHarness harness, string eventId) => new()
    {
        EventId = eventId,
        Type = LeadEventTypes.FormSubmission,
        OccurredAt = harness.Time.GetUtcNow(),
        Email = Email,
        FormId = "newsletter",
        Intent = FormIntent.NewsletterSignup,
        Profile = new Dictionary<string, string> { ["firstName"] = "Connie" },
        Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "newsletter-2025-06", true, harness.Time.GetUtcNow(), "newsletter")],
    };

    /// <summary>A subscribed lead who unsubscribed through the one-click link, processed; returns the unsubscribe event.</summary>
    private static async Task<LeadEvent> AnUnsubscribedLeadAsync(NurtureHarness harness)
    {
        await ProcessAsync(harness, FormPost(harness, "form-1"));
        await UnsubscribeAsync(harness);
        return await ProcessQueuedAsync(harness, LeadEventTypes.Unsubscribe);
    }

    private static async Task ProcessAsync(NurtureHarness harness, LeadEvent leadEvent) =>
        await harness.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(leadEvent, CancellationToken.None);

    /// <summary>Processes the newest queued event of the type (other than <paramref name="skip"/>) and returns it.</summary>
    private static async Task<LeadEvent> ProcessQueuedAsync(NurtureHarness harness, string type, string? skip = null)
    {
        var queued = (await harness.QueuedEventsAsync()).Last(e => e.Type == type && e.EventId != skip);
        var result = await harness.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(queued, CancellationToken.None);
        Assert.Equal(LeadEventOutcome.Applied, result.Outcome);
        return queued;
    }

    private static async Task UnsubscribeAsync(NurtureHarness harness)
    {
        var token = TrackingLinks.Sign(harness, TrackingLinks.Claims(harness, LeadId, TrackingKind.Unsubscribe));
        var request = TrackingLinks.Request("POST", token, form: new() { ["List-Unsubscribe"] = "One-Click" });
        var result = await ActivatorUtilities.CreateInstance<Unsubscribe>(harness.Services).Run(request, CancellationToken.None);
        Assert.IsNotType<BadRequestObjectResult>(result);
    }

    private static async Task<LeadDetailResponse> ViewAsync(NurtureHarness harness)
    {
        var result = SignedIn.Unwrap(await ActivatorUtilities.CreateInstance<GetLead>(harness.Services, SignedIn.Access, SignedIn.NoAccessLog).Run(SignedIn.As(new DefaultHttpContext().Request, "sales"), LeadId, CancellationToken.None));
        return Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(result).Value);
    }
}

/// <summary>For lead-view tests without the nurture feature: nobody is suppressed.</summary>
internal sealed class NoSuppressions : ISuppressionList
{
    public Task<Suppression?> FindAsync(string leadId, CancellationToken cancellationToken) => Task.FromResult<Suppression?>(null);
}

/// <summary>No e-mails were sent to anyone: for tests of the lead view that run without the nurture tables.</summary>
internal sealed class NoEmails : ILeadEmails
{
    public Task<IReadOnlyList<SentEmail>> LatestAsync(string leadId, int max, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<SentEmail>>([]);
}
