using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.SalesAlerts;
using LeadFunctions.Tests.Support;
using LeadFunctions.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using static LeadFunctions.Tests.Nurture.TrackingLinks;

namespace LeadFunctions.Tests.Nurture;

[Collection(AzuriteCollection.Name)]
public sealed class TrackingEndpointTests(AzuriteFixture azurite)
{
    private static readonly string LeadId = TestLeadIds.LeadIdFor("reader@example.com");

    private static TrackingClaims Claims(NurtureHarness harness, TrackingKind kind, string? url = null) =>
        TrackingLinks.Claims(harness, LeadId, kind, url);

    /// <summary>The lead the sales links are about, an SQL since the time the links name, as the alert found it.</summary>
    private static void AnSqlSinceNow(NurtureHarness harness)
    {
        var now = harness.Time.GetUtcNow();
        harness.Leads.Put(NurtureLeads.New("reader@example.com", now) with { Stage = LifecycleStage.Sql, StageChangedAt = now });
    }

    [Fact]
    public async Task An_open_answers_a_gif_and_queues_an_email_open_for_the_lead()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var token = Sign(harness, Claims(harness, TrackingKind.Open));
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var function = ActivatorUtilities.CreateInstance<TrackOpen>(harness.Services);

        // Act
        var result = await function.Run(Request("GET", token), CancellationToken.None);

        // Assert
        var gif = Assert.IsType<FileContentResult>(result);
        Assert.Equal("image/gif", gif.ContentType);
        Assert.Equal("GIF89a", System.Text.Encoding.ASCII.GetString(gif.FileContents, 0, 6));
        var queued = Assert.Single(await harness.QueuedEventsAsync());
        Assert.Equal(LeadEventTypes.EmailOpen, queued.Type);
        Assert.Equal(LeadId, queued.LeadId);
        Assert.Equal("trio", queued.Property(LeadEventProperties.Programme));
        Assert.Null(queued.Property(LeadEventProperties.ProbableBot));
    }

    [Fact]
    public async Task A_head_request_on_the_pixel_is_recorded_as_a_probable_bot()
    {
        await using var harness = new NurtureHarness(azurite);
        var token = Sign(harness, Claims(harness, TrackingKind.Open));
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var function = ActivatorUtilities.CreateInstance<TrackOpen>(harness.Services);

        await function.Run(Request("HEAD", token), CancellationToken.None);

        var queued = Assert.Single(await harness.QueuedEventsAsync());
        Assert.Equal("true", queued.Property(LeadEventProperties.ProbableBot));
        Assert.Equal("head-request", queued.Property(LeadEventProperties.BotReason));
    }

    [Fact]
    public async Task A_click_seconds_after_sending_redirects_but_is_marked_as_a_probable_bot()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var token = Sign(harness, Claims(harness, TrackingKind.Click, "https://www.example.com/guide?a=1"));
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        var function = ActivatorUtilities.CreateInstance<TrackClick>(harness.Services);

        // Act
        var result = await function.Run(Request("GET", token), CancellationToken.None);

        // Assert
        var redirect = Assert.IsType<RedirectResult>(result);
        Assert.False(redirect.Permanent);
        Assert.Equal("https://www.example.com/guide?a=1", redirect.Url);
        var queued = Assert.Single(await harness.QueuedEventsAsync());
        Assert.Equal(LeadEventTypes.EmailClick, queued.Type);
        Assert.Equal("https://www.example.com/guide?a=1", queued.Property(LeadEventProperties.Url));
        Assert.Equal("too-soon-after-sending", queued.Property(LeadEventProperties.BotReason));
    }

    [Fact]
    public async Task A_tampered_click_token_gets_404_no_redirect_and_no_event()
    {
        // Arrange: the payload of a token for another URL with the signature of a genuine one.
        await using var harness = new NurtureHarness(azurite);
        var genuine = Sign(harness, Claims(harness, TrackingKind.Click, "https://www.example.com/"));
        var forged = Sign(harness, Claims(harness, TrackingKind.Click, "https://evil.example/")).Split('.')[0] + "." + genuine.Split('.')[1];
        var function = ActivatorUtilities.CreateInstance<TrackClick>(harness.Services);

        // Act
        var result = await function.Run(Request("GET", forged), CancellationToken.None);

        // Assert
        Assert.Equal(404, Assert.IsType<ContentResult>(result).StatusCode);
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task An_open_token_cannot_be_used_as_a_click_redirect()
    {
        await using var harness = new NurtureHarness(azurite);
        var open = Sign(harness, Claims(harness, TrackingKind.Open) with { Url = "https://evil.example/" });
        var function = ActivatorUtilities.CreateInstance<TrackClick>(harness.Services);

        var result = await function.Run(Request("GET", open), CancellationToken.None);

        Assert.IsNotType<RedirectResult>(result);
    }

    [Fact]
    public async Task A_get_on_the_unsubscribe_link_only_asks_and_a_one_click_post_unsubscribes()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var token = Sign(harness, Claims(harness, TrackingKind.Unsubscribe));
        var function = ActivatorUtilities.CreateInstance<Unsubscribe>(harness.Services);
        var store = harness.Services.GetRequiredService<Infrastructure.Nurture.NurtureStore>();

        // Act + Assert: GET is a confirmation page and changes nothing.
        var page = Assert.IsType<ContentResult>(await function.Run(Request("GET", token), CancellationToken.None));
        Assert.Contains("List-Unsubscribe", page.Content, StringComparison.Ordinal);
        Assert.False(await store.IsSuppressedAsync(LeadId, CancellationToken.None));
        Assert.Empty(await harness.QueuedEventsAsync());

        // POST List-Unsubscribe=One-Click (RFC 8058) unsubscribes.
        var done = Assert.IsType<ContentResult>(await function.Run(
            Request("POST", token, form: new() { ["List-Unsubscribe"] = "One-Click" }), CancellationToken.None));
        Assert.Equal(200, done.StatusCode);
        Assert.True(await store.IsSuppressedAsync(LeadId, CancellationToken.None));
        Assert.Equal(LeadEventTypes.Unsubscribe, Assert.Single(await harness.QueuedEventsAsync()).Type);
    }

    [Fact]
    public async Task A_forged_unsubscribe_token_unsubscribes_nobody()
    {
        await using var harness = new NurtureHarness(azurite);
        var function = ActivatorUtilities.CreateInstance<Unsubscribe>(harness.Services);

        var result = await function.Run(Request("POST", "eyJrIjoidW5zdWJzY3JpYmUifQ.AAAA", form: new() { ["List-Unsubscribe"] = "One-Click" }), CancellationToken.None);

        Assert.Equal(404, Assert.IsType<ContentResult>(result).StatusCode);
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task Accepting_queues_a_sales_decision_with_the_rep_as_actor()
    {
        await using var harness = new NurtureHarness(azurite);
        AnSqlSinceNow(harness);
        var token = Sign(harness, Claims(harness, TrackingKind.Accept));
        var function = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);

        var page = Assert.IsType<ContentResult>(await function.Accept(Request("GET", token), CancellationToken.None));
        Assert.Empty(await harness.QueuedEventsAsync());
        await function.Accept(Request("POST", token, form: []), CancellationToken.None);

        Assert.Contains("<form method=\"post\"", page.Content, StringComparison.Ordinal);
        var queued = Assert.Single(await harness.QueuedEventsAsync());
        Assert.Equal(LeadEventTypes.SalesDecision, queued.Type);
        Assert.Equal("accept", queued.Property(LeadEventProperties.Decision));
        Assert.Equal("rep1@sales.example.com", queued.Property(LeadEventProperties.Actor));
    }

    [Fact]
    public async Task Rejecting_asks_for_a_reason_and_queues_the_stage_to_return_to()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        AnSqlSinceNow(harness);
        var token = Sign(harness, Claims(harness, TrackingKind.Reject));
        var function = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);

        // Act
        var page = Assert.IsType<ContentResult>(await function.Reject(Request("GET", token), CancellationToken.None));
        var missing = Assert.IsType<ContentResult>(await function.Reject(Request("POST", token, form: new() { ["toStage"] = "mql" }), CancellationToken.None));
        await function.Reject(Request("POST", token, form: new() { ["reason"] = "Student, no budget", ["toStage"] = "mql" }), CancellationToken.None);

        // Assert
        Assert.Contains("name=\"reason\"", page.Content, StringComparison.Ordinal);
        Assert.Equal(400, missing.StatusCode);
        var queued = Assert.Single(await harness.QueuedEventsAsync());
        Assert.Equal("reject", queued.Property(LeadEventProperties.Decision));
        Assert.Equal("mql", queued.Property(LeadEventProperties.ToStage));
        Assert.Equal("Student, no budget", queued.Property(LeadEventProperties.Reason));
    }

    [Fact]
    public async Task An_accept_link_cannot_be_replayed_as_a_reject()
    {
        await using var harness = new NurtureHarness(azurite);
        AnSqlSinceNow(harness);
        var token = Sign(harness, Claims(harness, TrackingKind.Accept));
        var function = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);

        var result = await function.Reject(Request("POST", token, form: new() { ["reason"] = "x", ["toStage"] = "lead" }), CancellationToken.None);

        Assert.Equal(404, Assert.IsType<ContentResult>(result).StatusCode);
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task A_flood_of_link_hits_from_one_address_is_answered_429_with_retry_after_and_queues_nothing_more()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, settings: new Dictionary<string, string?>
        {
            ["RateLimit:Links:PermitLimit"] = "3",
            ["RateLimit:Links:WindowSeconds"] = "60",
        });
        var token = Sign(harness, Claims(harness, TrackingKind.Open));
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var open = ActivatorUtilities.CreateInstance<TrackOpen>(harness.Services);
        var unsubscribe = ActivatorUtilities.CreateInstance<Unsubscribe>(harness.Services);

        // Act
        for (var i = 0; i < 3; i++)
            await open.Run(Request("GET", token), CancellationToken.None);
        var request = Request("GET", token);
        var limited = await open.Run(request, CancellationToken.None);
        var otherLink = await unsubscribe.Run(Request("GET", Sign(harness, Claims(harness, TrackingKind.Unsubscribe))), CancellationToken.None);

        // Assert
        var problem = Assert.IsType<ObjectResult>(limited);
        Assert.Equal(StatusCodes.Status429TooManyRequests, problem.StatusCode);
        Assert.IsType<ProblemDetails>(problem.Value);
        Assert.True(int.Parse(request.HttpContext.Response.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal(StatusCodes.Status429TooManyRequests, Assert.IsType<ObjectResult>(otherLink).StatusCode);
        Assert.Equal(3, (await harness.QueuedEventsAsync()).Count);
    }
}
