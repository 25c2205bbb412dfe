using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Support;
using LeadFunctions.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using MimeKit;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// Double opt-in with the real parts: the shipped forms and their validator, the rescoring processor and lead directory on
/// Azurite, the nurture runner, the folder sender's .eml files and the <see cref="ConfirmConsent"/> function.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DoubleOptInTests(AzuriteFixture azurite)
{
    private static readonly FormCatalog Forms = FormCatalog.Load(Path.Combine(AppContext.BaseDirectory, "config", "forms.json"));
    private static readonly ContentCatalogue Content = ContentCatalogue.Load(Path.Combine(AppContext.BaseDirectory, "config", "content.json"));

    [Fact]
    public async Task Twenty_sign_ups_of_one_address_send_exactly_one_confirmation_email_and_no_marketing_email()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        const string victim = "victim@example.com";

        // Act: a stranger signs the address up twenty times, the timer running in between as it does every minute.
        for (var i = 0; i < 20; i++)
        {
            await SubmitAsync(harness, "newsletter", Newsletter(victim));
            await harness.RunAsync();
            harness.Time.Advance(TimeSpan.FromMinutes(1));
        }
        await harness.RunAsync();

        // Assert
        var message = Assert.Single(await harness.MessagesAsync());
        Assert.Equal(victim, Assert.Single(message.To.Mailboxes).Address);
        Assert.Contains("/api/consent/confirm?t=", message.TextBody, StringComparison.Ordinal);
        Assert.Null(message.Headers[HeaderId.ListUnsubscribe]);
        var lead = (await harness.Services.GetRequiredService<ILeadDirectory>().FindAsync(TestLeadIds.LeadIdFor(victim), CancellationToken.None))!.Lead;
        Assert.False(lead.HasMarketingEmailConsent);
        Assert.NotNull(lead.PendingMarketingEmailRequest);
    }

    [Fact]
    public async Task Two_timer_runs_at_once_over_twenty_sign_ups_of_one_address_send_one_confirmation_email()
    {
        // Arrange: twenty pending requests for one address, all due, and a sender that counts every delivery it is asked for.
        var counting = new ExactlyOnceTests.CountingSender();
        await using var harness = new NurtureHarness(azurite, wrapSender: inner => counting.Wrap(inner), realLeads: true);
        for (var i = 0; i < 20; i++)
        {
            await SubmitAsync(harness, "newsletter", Newsletter("raced@example.com"));
            harness.Time.Advance(TimeSpan.FromSeconds(1));
        }

        // Act
        await Task.WhenAll(Task.Run(harness.RunAsync), Task.Run(harness.RunAsync));
        await harness.RunAsync();

        // Assert
        Assert.Single(harness.EmlFiles());
        Assert.Single(counting.Sends);
    }

    [Fact]
    public async Task A_second_confirmation_email_goes_only_once_the_window_has_passed()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        const string email = "twice@example.com";
        await SubmitAsync(harness, "newsletter", Newsletter(email));
        await harness.RunAsync();

        // Act + Assert: one within the window, a second after it.
        harness.Time.Advance(TimeSpan.FromHours(23));
        await SubmitAsync(harness, "newsletter", Newsletter(email));
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());

        harness.Time.Advance(TimeSpan.FromHours(2));
        await SubmitAsync(harness, "newsletter", Newsletter(email));
        await harness.RunAsync();
        Assert.Equal(2, harness.EmlFiles().Length);
    }

    [Fact]
    public async Task An_mql_gets_no_nurture_until_the_confirmation_link_is_used_and_then_the_first_step_follows()
    {
        // Arrange: the whitepaper form with consent (15 points, fit C) and two bottom-of-funnel downloads (20 each) make an MQL.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var directory = harness.Services.GetRequiredService<ILeadDirectory>();
        const string email = "ada@example.com";
        var leadId = TestLeadIds.LeadIdFor(email);
        var requestedAt = harness.Time.GetUtcNow();
        await SubmitAsync(harness, "whitepaper-lead-scoring", Whitepaper(email));
        foreach (var content in new[] { "pricing-guide", "buyers-checklist" })
            await processor.ProcessAsync(Download(harness, email, content), CancellationToken.None);
        Assert.Equal(LifecycleStage.Mql, (await directory.FindAsync(leadId, CancellationToken.None))!.Lead.Stage);

        // Act 1: the timer sends the confirmation e-mail and holds the nurture step back, an hour later too.
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromHours(1));
        await harness.RunAsync();

        // Assert 1
        var confirmation = Assert.Single(await harness.MessagesAsync());
        Assert.Equal("Ada, please confirm you want our e-mails", confirmation.Subject);

        // Act 2: the link is opened (a scanner or the person: the page changes nothing) and then its button is pressed.
        var token = SalesAlertTests.TokenOf(confirmation.TextBody, "consent/confirm");
        var function = ActivatorUtilities.CreateInstance<ConfirmConsent>(harness.Services);
        var page = Assert.IsType<ContentResult>(await function.Run(Request("GET", token), CancellationToken.None));
        Assert.Equal(200, page.StatusCode);
        Assert.Contains("<form method=\"post\"", page.Content, StringComparison.Ordinal);
        Assert.Empty(await harness.QueuedEventsAsync());
        harness.Time.Advance(TimeSpan.FromMinutes(3));
        var confirmedAt = harness.Time.GetUtcNow();
        var done = Assert.IsType<ContentResult>(await function.Run(Request("POST", token, new() { ["confirm"] = "yes" }), CancellationToken.None));
        Assert.Equal(200, done.StatusCode);
        var queued = Assert.Single(await harness.QueuedEventsAsync());
        Assert.Equal(LeadEventTypes.ConsentConfirmation, queued.Type);
        await processor.ProcessAsync(queued, CancellationToken.None);
        await harness.RunAsync();

        // Assert 2: consent granted with the request and the confirmation on record, and the first nurture e-mail sent.
        var details = (await directory.FindAsync(leadId, CancellationToken.None))!;
        var consent = Assert.Single(details.Lead.Consents);
        Assert.Equal(("content-2025-06", "form:whitepaper-lead-scoring", requestedAt), (consent.TextVersion, consent.Source, consent.At));
        Assert.Equal((true, confirmedAt, ConsentSources.ConfirmationLink), (consent.Granted, consent.ConfirmedAt, consent.ConfirmedSource));
        Assert.True(details.Lead.HasMarketingEmailConsent);
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToList();
        Assert.Equal(2, subjects.Count);
        Assert.Contains("First for Ada", subjects);
    }

    [Fact]
    public async Task A_demo_request_still_alerts_sales_at_once_while_marketing_email_waits_for_the_confirmation()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        const string email = "grace@example.com";

        // Act
        await SubmitAsync(harness, "demo-request", new()
        {
            ["email"] = email, ["firstName"] = "Grace", ["lastName"] = "Hopper", ["company"] = "Compilers Inc",
            ["role"] = "executive", ["companySize"] = "201-1000", ["consent"] = "on",
        });
        await harness.RunAsync();

        // Assert: the alert to sales and the confirmation to the lead; nothing else.
        var lead = (await harness.Services.GetRequiredService<ILeadDirectory>().FindAsync(TestLeadIds.LeadIdFor(email), CancellationToken.None))!.Lead;
        Assert.Equal(LifecycleStage.Sql, lead.Stage);
        var messages = await harness.MessagesAsync();
        Assert.Equal(2, messages.Count);
        Assert.Single(messages, m => m.Subject?.StartsWith("New SQL: Grace Hopper", StringComparison.Ordinal) == true);
        var confirmation = Assert.Single(messages, m => m.To.Mailboxes.Any(to => to.Address == email));
        Assert.Contains("/api/consent/confirm?t=", confirmation.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_address_that_unsubscribed_gets_no_confirmation_email()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        const string email = "gone@example.com";
        await harness.Services.GetRequiredService<NurtureStore>().SuppressAsync(TestLeadIds.LeadIdFor(email), harness.Time.GetUtcNow(), "one-click", CancellationToken.None);

        // Act
        await SubmitAsync(harness, "newsletter", Newsletter(email));
        var result = await harness.RunAsync();

        // Assert
        Assert.Empty(harness.EmlFiles());
        Assert.Equal(1, result.Dropped);
    }

    [Fact]
    public async Task A_forged_link_is_not_found_an_expired_one_is_gone_and_neither_queues_anything()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await SubmitAsync(harness, "newsletter", Newsletter("late@example.com"));
        await harness.RunAsync();
        var token = SalesAlertTests.TokenOf(Assert.Single(await harness.MessagesAsync()).TextBody, "consent/confirm");
        var function = ActivatorUtilities.CreateInstance<ConfirmConsent>(harness.Services);
        var forged = token[..^2] + (token.EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA");
        var unsubscribeToken = harness.Services.GetRequiredService<TrackingTokenSigner>().Sign(new TrackingClaims
        {
            Kind = TrackingKind.Unsubscribe, LeadId = TestLeadIds.LeadIdFor("late@example.com"), MessageId = "m", SentAtUnixSeconds = harness.Time.GetUtcNow().ToUnixTimeSeconds(),
        });

        // Act
        var forgedAnswer = Assert.IsType<ContentResult>(await function.Run(Request("POST", forged, new() { ["confirm"] = "yes" }), CancellationToken.None));
        var otherKind = Assert.IsType<ContentResult>(await function.Run(Request("POST", unsubscribeToken, new() { ["confirm"] = "yes" }), CancellationToken.None));
        var withoutButton = Assert.IsType<ContentResult>(await function.Run(Request("POST", token, new()), CancellationToken.None));
        harness.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        var expired = Assert.IsType<ContentResult>(await function.Run(Request("POST", token, new() { ["confirm"] = "yes" }), CancellationToken.None));

        // Assert
        Assert.Equal((404, 404, 400, 410), (forgedAnswer.StatusCode, otherKind.StatusCode, withoutButton.StatusCode, expired.StatusCode));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task Pressing_the_button_twice_queues_the_same_confirmation_event()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await SubmitAsync(harness, "newsletter", Newsletter("double@example.com"));
        await harness.RunAsync();
        var token = SalesAlertTests.TokenOf(Assert.Single(await harness.MessagesAsync()).TextBody, "consent/confirm");
        var function = ActivatorUtilities.CreateInstance<ConfirmConsent>(harness.Services);

        // Act
        await function.Run(Request("POST", token, new() { ["confirm"] = "yes" }), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        await function.Run(Request("POST", token, new() { ["confirm"] = "yes" }), CancellationToken.None);

        // Assert
        var events = await harness.QueuedEventsAsync();
        Assert.Equal(2, events.Count);
        Assert.Single(events.Select(e => e.EventId).Distinct());
    }

    [Fact]
    public async Task A_confirmation_the_queue_does_not_take_answers_503_so_the_visitor_can_press_again()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        await SubmitAsync(harness, "newsletter", Newsletter("unlucky@example.com"));
        await harness.RunAsync();
        var token = SalesAlertTests.TokenOf(Assert.Single(await harness.MessagesAsync()).TextBody, "consent/confirm");
        var confirmations = new ConsentConfirmations(
            harness.Services.GetRequiredService<TrackingTokenSigner>(), new RefusingPublisher(), harness.Time,
            harness.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<NurtureOptions>>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ConsentConfirmations>.Instance);
        var request = Request("POST", token, new() { ["confirm"] = "yes" });

        // Act
        var answer = Assert.IsType<ContentResult>(await new ConfirmConsent(confirmations, harness.Services.GetRequiredService<CaptureRateLimiter>()).Run(request, CancellationToken.None));

        // Assert
        Assert.Equal(503, answer.StatusCode);
        Assert.Equal("30", request.HttpContext.Response.Headers.RetryAfter.ToString());
    }

    private sealed class RefusingPublisher : ILeadEventPublisher
    {
        public Task PublishAsync(LeadEvent leadEvent, CancellationToken cancellationToken) =>
            throw new LeadEventNotAcceptedException("queue unavailable", new InvalidOperationException("down"));
    }

    private static Dictionary<string, string> Newsletter(string email) => new() { ["email"] = email, ["firstName"] = "Vic", ["consent"] = "on" };

    private static Dictionary<string, string> Whitepaper(string email) => new()
    {
        ["email"] = email, ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Analytical Engines",
        ["role"] = "marketing-manager", ["companySize"] = "51-200", ["consent"] = "on",
    };

    private static LeadEvent Download(NurtureHarness harness, string email, string contentId) => new()
    {
        EventId = "download-" + contentId,
        Type = LeadEventTypes.ContentDownload,
        OccurredAt = harness.Time.GetUtcNow(),
        Email = email,
        Properties = new Dictionary<string, string> { [LeadEventProperties.FunnelStage] = "bottom", [LeadEventProperties.ContentId] = contentId },
    };

    /// <summary>A submission as the capture endpoint turns it into an event, applied by the processor as the queue trigger does.</summary>
    private static async Task SubmitAsync(NurtureHarness harness, string formId, Dictionary<string, string> fields)
    {
        Assert.True(Forms.TryGet(formId, out var form));
        var result = new FormSubmissionValidator(harness.Time, Content).Validate(form, new CaptureInput { Fields = fields }, Guid.NewGuid().ToString("N"));
        Assert.NotNull(result.Event);
        await harness.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(result.Event, CancellationToken.None);
    }

    private static HttpRequest Request(string method, string token, Dictionary<string, StringValues>? form = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = "/api/consent/confirm";
        context.Request.QueryString = QueryString.Create("t", token);
        if (form is not null)
        {
            context.Request.ContentType = "application/x-www-form-urlencoded";
            context.Request.Form = new FormCollection(form);
        }
        return context.Request;
    }
}
