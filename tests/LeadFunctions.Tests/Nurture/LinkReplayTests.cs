using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.SalesAlerts;
using LeadFunctions.Tests.Support;
using LeadFunctions.Tracking;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using static LeadFunctions.Tests.Nurture.TrackingLinks;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// Replayed links, through the functions and the real rescoring processor on Azurite: an open or a click scores once, nothing
/// scores after the scoring window, and a sales alert's links decide only the SQL episode they were sent for, once.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LinkReplayTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Opening_the_same_e_mail_again_and_again_scores_once()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await ALeadAsync(harness, "reopener@example.com", FormIntent.NewsletterSignup);
        var token = Sign(harness, Claims(harness, leadId, TrackingKind.Open));
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var pixel = ActivatorUtilities.CreateInstance<TrackOpen>(harness.Services);

        // Act: the reader's client loads the pixel five times (or someone replays it).
        for (var i = 0; i < 5; i++)
            Assert.IsType<FileContentResult>(await pixel.Run(Request("GET", token), CancellationToken.None));
        await ProcessQueuedAsync(harness);

        // Assert
        var ledger = (await LeadAsync(harness, leadId)).Ledger;
        var opens = ledger.Where(l => l.EventType == LeadEventTypes.EmailOpen).ToList();
        var open = Assert.Single(opens);
        Assert.Equal(1, open.Points);
    }

    [Fact]
    public async Task Clicking_the_same_link_again_queues_the_same_event_but_another_link_of_the_message_is_its_own()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var leadId = TestLeadIds.LeadIdFor("clicker@example.com");
        var guide = Sign(harness, Claims(harness, leadId, TrackingKind.Click, "https://www.example.com/guide"));
        var pricing = Sign(harness, Claims(harness, leadId, TrackingKind.Click, "https://www.example.com/pricing"));
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var click = ActivatorUtilities.CreateInstance<TrackClick>(harness.Services);

        // Act
        for (var i = 0; i < 3; i++)
            Assert.IsType<RedirectResult>(await click.Run(Request("GET", guide), CancellationToken.None));
        await click.Run(Request("GET", pricing), CancellationToken.None);

        // Assert: four messages, two events; the processor applies each event id once.
        var queued = await harness.QueuedEventsAsync();
        Assert.Equal(4, queued.Count);
        Assert.Equal(2, queued.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task A_scanner_fetching_the_pixel_first_does_not_use_up_the_readers_open()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await ALeadAsync(harness, "scanned@example.com", FormIntent.NewsletterSignup);
        var token = Sign(harness, Claims(harness, leadId, TrackingKind.Open));
        var pixel = ActivatorUtilities.CreateInstance<TrackOpen>(harness.Services);

        // Act: the mail gateway's scanner fetches it at once, the reader opens it later.
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        await pixel.Run(Request("GET", token, "Mozilla/5.0 Barracuda"), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromMinutes(20));
        await pixel.Run(Request("GET", token), CancellationToken.None);
        await ProcessQueuedAsync(harness);

        // Assert
        var opens = (await LeadAsync(harness, leadId)).Ledger.Where(l => l.EventType == LeadEventTypes.EmailOpen).ToList();
        Assert.Equal(2, opens.Count);
        Assert.Single(opens, o => o.RuleId == "probable-bot" && o.Points == 0);
        Assert.Single(opens, o => o.RuleId == "email-open" && o.Points == 1);
    }

    [Fact]
    public async Task After_the_scoring_window_the_pixel_and_the_redirect_still_work_but_nothing_is_queued()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var leadId = TestLeadIds.LeadIdFor("late@example.com");
        var open = Sign(harness, Claims(harness, leadId, TrackingKind.Open));
        var click = Sign(harness, Claims(harness, leadId, TrackingKind.Click, "https://www.example.com/guide"));
        harness.Time.Advance(TimeSpan.FromDays(30));

        // Act
        var gif = await ActivatorUtilities.CreateInstance<TrackOpen>(harness.Services).Run(Request("GET", open), CancellationToken.None);
        var redirect = await ActivatorUtilities.CreateInstance<TrackClick>(harness.Services).Run(Request("GET", click), CancellationToken.None);

        // Assert
        Assert.IsType<FileContentResult>(gif);
        Assert.Equal("https://www.example.com/guide", Assert.IsType<RedirectResult>(redirect).Url);
        Assert.Empty(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
    }

    [Fact]
    public async Task An_unsubscribe_link_works_for_ninety_days_and_not_after()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var leadId = TestLeadIds.LeadIdFor("leaver@example.com");
        var token = Sign(harness, Claims(harness, leadId, TrackingKind.Unsubscribe));
        var unsubscribe = ActivatorUtilities.CreateInstance<Unsubscribe>(harness.Services);

        // Act
        harness.Time.Advance(TimeSpan.FromDays(89));
        var stillWorks = Assert.IsType<ContentResult>(await unsubscribe.Run(Request("GET", token), CancellationToken.None));
        harness.Time.Advance(TimeSpan.FromDays(1));
        var expired = Assert.IsType<ContentResult>(await unsubscribe.Run(
            Request("POST", token, form: new() { ["List-Unsubscribe"] = "One-Click" }), CancellationToken.None));

        // Assert
        Assert.Equal(200, stillWorks.StatusCode);
        Assert.Equal(404, expired.StatusCode);
        Assert.Empty(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
    }

    [Fact]
    public async Task An_old_alerts_links_cannot_move_a_lead_that_has_since_become_an_sql_again()
    {
        // Arrange: SQL, alert, rejected to MQL through the alert, then a new demo request makes it an SQL again.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await ALeadAsync(harness, "bouncing@example.com", FormIntent.DemoRequest);
        await harness.RunAsync();
        var alert = Assert.Single(await harness.MessagesAsync());
        var accept = SalesAlertTests.TokenOf(alert.TextBody, "sales/accept");
        var reject = SalesAlertTests.TokenOf(alert.TextBody, "sales/reject");
        var sales = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);
        harness.Time.Advance(TimeSpan.FromHours(1));
        await sales.Reject(Request("POST", reject, form: new() { ["reason"] = "Not yet", ["toStage"] = "mql" }), CancellationToken.None);
        await ProcessQueuedAsync(harness);
        await harness.Queue.ClearMessagesAsync();
        harness.Time.Advance(TimeSpan.FromHours(1));
        await ALeadAsync(harness, "bouncing@example.com", FormIntent.DemoRequest, "form-2");
        Assert.Equal(LifecycleStage.Sql, (await LeadAsync(harness, leadId)).Lead.Stage);

        // Act: the first alert's links, once more.
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        var page = Assert.IsType<ContentResult>(await sales.Reject(Request("GET", reject), CancellationToken.None));
        var again = Assert.IsType<ContentResult>(await sales.Reject(
            Request("POST", reject, form: new() { ["reason"] = "Old link", ["toStage"] = "lead" }), CancellationToken.None));
        var accepted = Assert.IsType<ContentResult>(await sales.Accept(Request("POST", accept, form: []), CancellationToken.None));

        // Assert
        Assert.Equal(409, page.StatusCode);
        Assert.Contains("moved on", page.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", page.Content, StringComparison.Ordinal);
        Assert.Equal(409, again.StatusCode);
        Assert.Equal(409, accepted.StatusCode);
        Assert.Empty(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
        var details = await LeadAsync(harness, leadId);
        Assert.Equal(LifecycleStage.Sql, details.Lead.Stage);
        Assert.Equal(3, details.History.Count); // → SQL, SQL → MQL, MQL → SQL, and nothing after
    }

    [Fact]
    public async Task An_old_reject_link_does_not_demote_a_customer()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var leadId = await ALeadAsync(harness, "bought@example.com", FormIntent.DemoRequest);
        await harness.RunAsync();
        var reject = SalesAlertTests.TokenOf(Assert.Single(await harness.MessagesAsync()).TextBody, "sales/reject");
        harness.Time.Advance(TimeSpan.FromHours(2));
        await processor.ProcessAsync(new LeadEvent
        {
            EventId = "crm-won-1",
            Type = LeadEventTypes.SalesDecision,
            OccurredAt = harness.Time.GetUtcNow(),
            LeadId = leadId,
            Properties = new Dictionary<string, string> { [LeadEventProperties.Decision] = "advance", [LeadEventProperties.ToStage] = "customer" },
        }, CancellationToken.None);
        var sales = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);

        // Act
        var result = Assert.IsType<ContentResult>(await sales.Reject(
            Request("POST", reject, form: new() { ["reason"] = "spite", ["toStage"] = "lead" }), CancellationToken.None));

        // Assert
        Assert.Equal(409, result.StatusCode);
        Assert.Empty(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
        Assert.Equal(LifecycleStage.Customer, (await LeadAsync(harness, leadId)).Lead.Stage);
    }

    [Fact]
    public async Task Once_one_link_of_an_alert_has_decided_the_other_changes_nothing()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await ALeadAsync(harness, "decided@example.com", FormIntent.DemoRequest);
        await harness.RunAsync();
        var alert = Assert.Single(await harness.MessagesAsync());
        var sales = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);
        harness.Time.Advance(TimeSpan.FromMinutes(30));

        // Act: accepted; the event is still queued when someone tries the reject link.
        var accepted = Assert.IsType<ContentResult>(await sales.Accept(Request("POST", SalesAlertTests.TokenOf(alert.TextBody, "sales/accept"), form: []), CancellationToken.None));
        var rejected = Assert.IsType<ContentResult>(await sales.Reject(
            Request("POST", SalesAlertTests.TokenOf(alert.TextBody, "sales/reject"), form: new() { ["reason"] = "x", ["toStage"] = "lead" }), CancellationToken.None));

        // Assert
        Assert.Equal(200, accepted.StatusCode);
        Assert.Equal(409, rejected.StatusCode);
        Assert.Contains("Already decided", rejected.Content, StringComparison.Ordinal);
        var queued = Assert.Single(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
        Assert.Equal("accept", queued.Property(LeadEventProperties.Decision));
    }

    [Fact]
    public async Task A_sales_link_expires_after_the_sla_and_the_grace_period()
    {
        // Arrange: nobody acts; the SLA is 24 h and the grace 72 h.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await ALeadAsync(harness, "ignored@example.com", FormIntent.DemoRequest);
        await harness.RunAsync();
        var accept = SalesAlertTests.TokenOf(Assert.Single(await harness.MessagesAsync()).TextBody, "sales/accept");
        var sales = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);

        // Act
        harness.Time.Advance(TimeSpan.FromHours(95));
        var beforeExpiry = Assert.IsType<ContentResult>(await sales.Accept(Request("GET", accept), CancellationToken.None));
        harness.Time.Advance(TimeSpan.FromHours(1));
        var afterExpiry = Assert.IsType<ContentResult>(await sales.Accept(Request("POST", accept, form: []), CancellationToken.None));

        // Assert
        Assert.Equal(200, beforeExpiry.StatusCode);
        Assert.Equal(404, afterExpiry.StatusCode);
        Assert.Empty(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
    }

    [Fact]
    public async Task The_processor_ignores_a_decision_about_an_sql_episode_the_lead_has_left_and_records_that_it_did()
    {
        // Arrange: an SQL that was accepted; then a reject for the same episode arrives on the queue (defence in depth).
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var leadId = await ALeadAsync(harness, "accepted.then@example.com", FormIntent.DemoRequest);
        var sqlAt = (await LeadAsync(harness, leadId)).Lead.StageChangedAt;
        LeadEvent Decision(string id, string decision, string? toStage = null) => new()
        {
            EventId = id,
            Type = LeadEventTypes.SalesDecision,
            OccurredAt = harness.Time.GetUtcNow(),
            LeadId = leadId,
            Properties = new Dictionary<string, string>
            {
                [LeadEventProperties.Decision] = decision,
                [LeadEventProperties.ToStage] = toStage ?? "",
                [LeadEventProperties.SqlEpisode] = sqlAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            },
        };
        harness.Time.Advance(TimeSpan.FromHours(1));
        await processor.ProcessAsync(Decision("d-accept", "accept"), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromHours(1));

        // Act
        await processor.ProcessAsync(Decision("d-reject", "reject", "lead"), CancellationToken.None);

        // Assert
        var details = await LeadAsync(harness, leadId);
        Assert.Equal(LifecycleStage.Sql, details.Lead.Stage);
        Assert.DoesNotContain(details.History, h => h.EventId == "d-reject");
        var ignored = Assert.Single(details.Ledger, l => l.EventId == "d-reject");
        Assert.Equal(LifecycleMachine.IgnoredSalesDecisionRule, ignored.RuleId);
    }

    private static async Task<string> ALeadAsync(NurtureHarness harness, string email, FormIntent intent, string eventId = "form-1")
    {
        await harness.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(new LeadEvent
        {
            EventId = eventId,
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = harness.Time.GetUtcNow(),
            Email = email,
            FormId = "demo",
            Intent = intent,
            Profile = new Dictionary<string, string> { ["firstName"] = "Rita", ["lastName"] = "Replay" },
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, harness.Time.GetUtcNow(), "form")],
        }, CancellationToken.None);
        return TestLeadIds.LeadIdFor(email);
    }

    private static async Task<LeadDetails> LeadAsync(NurtureHarness harness, string leadId) =>
        (await harness.Services.GetRequiredService<ILeadDirectory>().FindAsync(leadId, CancellationToken.None))!;

    /// <summary>Every queued event through the processor, as the queue trigger would deliver them.</summary>
    private static async Task ProcessQueuedAsync(NurtureHarness harness)
    {
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        foreach (var e in await harness.QueuedEventsAsync())
            await processor.ProcessAsync(e, CancellationToken.None);
    }
}
