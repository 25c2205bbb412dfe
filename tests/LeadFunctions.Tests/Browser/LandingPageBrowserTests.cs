using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace LeadFunctions.Tests.Browser;

/// <summary>
/// The sample landing page in a real browser (Debian's Chromium, headless) against the local host and Azurite: what a
/// visitor's browser does with the page, <c>track.js</c> and the plain HTML form, and what lands on <c>lead-events</c>.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LandingPageBrowserTests(AzuriteFixture azurite)
{
    private const string VisitorCookie = "lf_vid";

    [Fact]
    public async Task A_visitor_who_fills_in_the_demo_form_lands_on_the_thank_you_page_and_one_submission_and_the_page_view_are_queued_under_the_same_visitor_id()
    {
        // Arrange
        await LandingPageSite.ClearLeadEventsAsync(azurite);
        await using var site = await LandingPageSite.StartAsync(azurite);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await NewPageAsync(chromium);
        var email = AzuriteFixture.UniqueName("browser") + "@example.com";
        // The configured thank-you URL may be a path on the app; the browser resolves it against the page it posted from.
        var thankYouUrl = new Uri(site.BaseAddress, (string)site.Form("demo-request")["thankYouUrl"]!).AbsoluteUri;

        // Act: open the page as a visitor does.
        await page.GotoAsync(site.BaseAddress.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var landingUrl = page.Url;

        // Assert: the form is on screen, and the snippet gave the visitor an id and put it into the form.
        Assert.True(await page.Locator("form[action='/api/forms/demo-request']").IsVisibleAsync(), "The demo-request form is not visible.");
        var cookie = Assert.Single(await chromium.Context.CookiesAsync([landingUrl]), c => c.Name == VisitorCookie);
        Assert.Matches("^[A-Za-z0-9_-]{8,64}$", cookie.Value);
        Assert.Equal(cookie.Value, await page.InputValueAsync("input[name=visitorId]"));
        Assert.Equal(landingUrl, await page.InputValueAsync("input[name=pageUrl]"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = ScreenshotPath("landing-page.png"), FullPage = true });

        // Act: fill in the form, tick consent and send it.
        await page.FillAsync("#firstName", "Ada");
        await page.FillAsync("#lastName", "Lovelace");
        await page.FillAsync("#email", email);
        await page.FillAsync("#company", "Analytical Engines Ltd");
        await page.SelectOptionAsync("#role", "marketing-manager");
        await page.SelectOptionAsync("#companySize", "51-200");
        await page.CheckAsync("input[name=consent]");
        await page.ClickAsync("button[type=submit]");
        await Chromium.ArriveAtAsync(page, thankYouUrl);

        // Assert: the browser is on the thank-you page ...
        Assert.Equal(thankYouUrl, page.Url);
        await Chromium.ShowsAsync(page.Locator("h1"), "Thank you!");

        // ... and lead-events holds exactly one submission from this visitor, and the landing page's view under the same id.
        var events = await EventuallyAsync(
            () => LandingPageSite.LeadEventsAsync(azurite),
            all => all.Any(e => e.Type == LeadEventTypes.PageView && e.Property(LeadEventProperties.Url) == landingUrl)
                && all.Any(e => e.Type == LeadEventTypes.FormSubmission));
        var submission = Assert.Single(events, e => e.Type == LeadEventTypes.FormSubmission);
        Assert.Equal(cookie.Value, submission.VisitorId);
        Assert.Equal(email, submission.Email);
        Assert.Equal("demo-request", submission.FormId);
        Assert.Equal("Ada", submission.Profile["firstName"]);
        Assert.Equal("Analytical Engines Ltd", submission.Profile["company"]);
        Assert.Equal("marketing-manager", submission.Profile["role"]);
        Assert.Equal(landingUrl, submission.Context?.LandingPageUrl);
        // Double opt-in: the tick is a pending request; only the link in the confirmation e-mail grants it.
        Assert.Contains(submission.Consents, c => c.Purpose == "marketing-email" && c.Pending && !c.Granted);
        var pageViews = events.Where(e => e.Type == LeadEventTypes.PageView).ToArray();
        Assert.NotEmpty(pageViews);
        Assert.All(pageViews, view => Assert.Equal(cookie.Value, view.VisitorId));
        Assert.Single(pageViews, view => view.Property(LeadEventProperties.Url) == landingUrl);
    }

    [Fact]
    public async Task A_visitor_who_downloads_the_whitepaper_is_reported_by_content_id_and_the_app_adds_its_funnel_stage_from_the_catalogue()
    {
        // Arrange
        await LandingPageSite.ClearLeadEventsAsync(azurite);
        await using var site = await LandingPageSite.StartAsync(azurite);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await NewPageAsync(chromium);
        await page.GotoAsync(site.BaseAddress.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var cookie = Assert.Single(await chromium.Context.CookiesAsync([page.Url]), c => c.Name == VisitorCookie);

        // Act: the download button; the page sends only the content id through track.js.
        var beacon = await page.RunAndWaitForRequestAsync(
            () => page.ClickAsync("#whitepaper"),
            r => r.Method == "POST" && r.Url.EndsWith("/api/events", StringComparison.Ordinal) && (r.PostData ?? "").Contains("content-download", StringComparison.Ordinal));

        // Assert: no funnel stage and no person in what the browser sent ...
        var sent = System.Web.HttpUtility.ParseQueryString(beacon.PostData ?? "");
        Assert.Equal("whitepaper-lead-scoring", sent["contentId"]);
        Assert.Null(sent["funnelStage"]);
        Assert.Null(sent["email"]);
        Assert.Equal("Thanks! The download would start now.", await page.Locator("#whitepaper").InnerTextAsync());

        // ... and the queued download is the visitor's, with the stage and title of the shipped catalogue.
        var events = await EventuallyAsync(() => LandingPageSite.LeadEventsAsync(azurite), all => all.Any(e => e.Type == LeadEventTypes.ContentDownload));
        var download = Assert.Single(events, e => e.Type == LeadEventTypes.ContentDownload);
        Assert.Equal((cookie.Value, null as string), (download.VisitorId, download.Email));
        // The beacon carried a key of its own (sendBeacon cannot set headers), so a resend of it would be this same event.
        Assert.Matches("^[A-Za-z0-9_-]{16,64}$", sent["idempotencyKey"]);
        Assert.Equal(Domain.Capture.CaptureEventIds.FromIdempotencyKey("events", sent["idempotencyKey"]!), download.EventId);
        Assert.Equal(new Dictionary<string, string>
        {
            ["contentId"] = "whitepaper-lead-scoring", ["funnelStage"] = "middle", ["title"] = "Lead scoring that explains itself (whitepaper)",
        }, download.Properties.Where(p => p.Key != "timeZone").ToDictionary());

        // The browser's own time zone rides along (for nurture send windows), as Intl reports it.
        var zone = await page.EvaluateAsync<string>("() => Intl.DateTimeFormat().resolvedOptions().timeZone");
        Assert.Equal(zone, sent["timeZone"]);
        Assert.Equal(zone, download.Properties.GetValueOrDefault("timeZone"));
    }

    [Fact]
    public async Task A_visitor_who_sends_a_form_that_requires_consent_without_ticking_it_gets_a_readable_error_page_and_nothing_is_queued()
    {
        // Arrange: a site whose demo form requires consent (the shipped one makes it optional).
        await LandingPageSite.ClearLeadEventsAsync(azurite);
        await using var site = await LandingPageSite.StartAsync(azurite, forms => RequireConsent(forms, "demo-request"));
        await using var chromium = await Chromium.LaunchAsync();
        var page = await NewPageAsync(chromium);
        await page.GotoAsync(site.BaseAddress.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });

        // Act: everything filled in except the consent box.
        await page.FillAsync("#firstName", "Grace");
        await page.FillAsync("#lastName", "Hopper");
        await page.FillAsync("#email", AzuriteFixture.UniqueName("noconsent") + "@example.com");
        await page.FillAsync("#company", "Compilers Inc");
        await page.SelectOptionAsync("#role", "developer");
        await page.SelectOptionAsync("#companySize", "11-50");
        Assert.False(await page.IsCheckedAsync("input[name=consent]"));
        var response = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync("button[type=submit]"),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/api/forms/demo-request", StringComparison.Ordinal));
        await Chromium.ArriveAtAsync(page, new Uri(site.BaseAddress, "/api/forms/demo-request").ToString());

        // Assert: an HTML page that says what is wrong, in words ...
        Assert.Equal(400, response.Status);
        Assert.StartsWith("text/html", await response.HeaderValueAsync("content-type") ?? "", StringComparison.Ordinal);
        await Chromium.ShowsAsync(page.Locator("h1"), "The submission has invalid fields.");
        var listed = await page.Locator("li").AllInnerTextsAsync();
        Assert.Equal("consent: Consent is required to send this form.", Assert.Single(listed));

        // ... and no submission reached the queue (the refusal was answered before anything could be enqueued).
        var events = await LandingPageSite.LeadEventsAsync(azurite);
        Assert.DoesNotContain(events, e => e.Type == LeadEventTypes.FormSubmission);
    }

    [Fact]
    public async Task A_visitor_whose_stored_demo_request_was_answered_503_goes_back_and_sends_it_again_and_both_posts_carry_one_event_id_derived_from_the_page_key()
    {
        // Arrange
        await LandingPageSite.ClearLeadEventsAsync(azurite);
        await using var site = await LandingPageSite.StartAsync(azurite);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await NewPageAsync(chromium);
        var email = AzuriteFixture.UniqueName("retry") + "@example.com";
        var thankYouUrl = new Uri(site.BaseAddress, (string)site.Form("demo-request")["thankYouUrl"]!).AbsoluteUri;
        var formUrl = new Uri(site.BaseAddress, "/api/forms/demo-request").AbsoluteUri;
        await page.GotoAsync(site.BaseAddress.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var landingUrl = page.Url;
        var keyInput = page.Locator("input[name=idempotencyKey]");
        await Assertions.Expect(keyInput).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^[A-Za-z0-9_-]{16,64}$"));
        var key = await keyInput.InputValueAsync();
        // The first post reaches the app and the queue, but its answer is lost as in a storage outage: the browser gets a 503.
        var posts = 0;
        await page.RouteAsync(formUrl, async route =>
        {
            if (Interlocked.Increment(ref posts) > 1)
            {
                await route.ContinueAsync();
                return;
            }
            await route.FetchAsync(new RouteFetchOptions { MaxRedirects = 0 });
            await route.FulfillAsync(new RouteFulfillOptions
            {
                Status = 503, ContentType = "text/html; charset=utf-8",
                Body = "<!doctype html><title>503</title><h1>The submission could not be stored right now.</h1>",
            });
        });

        // Act: send the form, get the 503, go back to the form and send the same answers again.
        await FillDemoFormAsync(page, email);
        await page.ClickAsync("button[type=submit]");
        await Chromium.ShowsAsync(page.Locator("h1"), "The submission could not be stored right now.");
        await page.GoBackAsync(new PageGoBackOptions { WaitUntil = WaitUntilState.Commit });
        await Chromium.ArriveAtAsync(page, landingUrl);
        await Assertions.Expect(keyInput).ToHaveValueAsync(key);
        await FillDemoFormAsync(page, email);
        await page.ClickAsync("button[type=submit]");
        await Chromium.ArriveAtAsync(page, thankYouUrl);

        // Assert: both posts are on the queue as one event id, the one derived from the form and the page's key, which the
        // processor applies once.
        var events = await EventuallyAsync(() => LandingPageSite.LeadEventsAsync(azurite), all => all.Count(e => e.Type == LeadEventTypes.FormSubmission) >= 2);
        var submissions = events.Where(e => e.Type == LeadEventTypes.FormSubmission).ToList();
        Assert.Equal(2, submissions.Count);
        Assert.Equal(2, posts);
        var expected = Domain.Capture.CaptureEventIds.FromIdempotencyKey("demo-request", key);
        Assert.All(submissions, s => Assert.Equal((expected, email), (s.EventId, s.Email)));
    }

    [Fact]
    public async Task Without_sendBeacon_an_event_whose_answer_was_a_503_after_it_reached_the_queue_is_sent_once_more_with_the_same_key_and_recorded_as_one_event()
    {
        // Arrange: a browser without sendBeacon, so track.js sends with fetch. The first post of the download reaches the app
        // and the queue, but the browser gets a 503 (as when the answer is lost in a storage outage); the next is answered as it is.
        await LandingPageSite.ClearLeadEventsAsync(azurite);
        await using var site = await LandingPageSite.StartAsync(azurite);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await NewPageAsync(chromium);
        await page.AddInitScriptAsync("delete Navigator.prototype.sendBeacon;");
        var posts = new ConcurrentQueue<(string? Key, int Status)>();
        await page.RouteAsync(new Uri(site.BaseAddress, "/api/events").AbsoluteUri, async route =>
        {
            var sent = System.Web.HttpUtility.ParseQueryString(route.Request.PostData ?? "");
            if (sent["type"] != LeadEventTypes.ContentDownload)
            {
                await route.ContinueAsync();
                return;
            }
            var reached = await route.FetchAsync();
            var first = posts.IsEmpty;
            posts.Enqueue((sent["idempotencyKey"], reached.Status));
            if (first)
                await route.FulfillAsync(Unavailable());
            else
                await route.FulfillAsync(new RouteFulfillOptions { Response = reached });
        });
        await page.GotoAsync(site.BaseAddress.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        Assert.False(await page.EvaluateAsync<bool>("() => 'sendBeacon' in navigator"));
        var visitorId = Assert.Single(await chromium.Context.CookiesAsync([page.Url]), c => c.Name == VisitorCookie).Value;

        // Act: the page reports the download; track() settles once the snippet has stopped sending.
        var delivered = await page.EvaluateAsync<bool>("() => window.leadFunctions.track('content-download', { contentId: 'whitepaper-lead-scoring' })");

        // Assert: two posts in all, both taken by the app (202), both under the one key the page drew ...
        Assert.True(delivered);
        var sentPosts = posts.ToArray();
        Assert.Equal(2, sentPosts.Length);
        Assert.All(sentPosts, p => Assert.Equal(202, p.Status));
        var key = sentPosts[0].Key!;
        Assert.Matches("^[A-Za-z0-9_-]{16,64}$", key);
        Assert.Equal(key, sentPosts[1].Key);
        // ... so the queue holds the event twice under one event id ...
        var eventId = Domain.Capture.CaptureEventIds.FromIdempotencyKey("events", key);
        var downloads = (await LandingPageSite.LeadEventsAsync(azurite)).Where(e => e.Type == LeadEventTypes.ContentDownload).ToList();
        Assert.Equal(2, downloads.Count);
        Assert.All(downloads, d => Assert.Equal((eventId, visitorId), (d.EventId, d.VisitorId)));
        // ... which the processor records as one: the visitor keeps each receipt (capture stamps its own time on each), and
        // when the visitor sends a form, the lead gets the download once.
        var processor = site.Services.GetRequiredService<LeadEventProcessor>();
        foreach (var download in downloads)
            Assert.Equal(LeadEventOutcome.KeptForVisitor, (await processor.ProcessAsync(download, CancellationToken.None)).Outcome);
        var email = AzuriteFixture.UniqueName("resend") + "@example.com";
        var converted = await processor.ProcessAsync(Events.Form(email, DateTimeOffset.UtcNow, visitorId: visitorId), CancellationToken.None);
        Assert.Equal(LeadEventOutcome.Applied, converted.Outcome);
        var rows = await RowsOfEventAsync(site, TestLeadIds.LeadIdFor(email), eventId);
        Assert.Single(rows, r => r.RowKey.StartsWith(LeadRows.AppliedPrefix, StringComparison.Ordinal));
        var awarded = rows.Where(r => r.RowKey.StartsWith(LeadRows.LedgerPrefix, StringComparison.Ordinal)).Select(r => r.RuleId).ToList();
        Assert.NotEmpty(awarded);
        Assert.Equal(awarded.Distinct().Count(), awarded.Count);
    }

    [Fact]
    public async Task When_sendBeacon_refuses_and_every_answer_is_a_503_the_snippet_sends_the_event_three_times_in_all_under_one_key_and_then_stops()
    {
        // Arrange: sendBeacon refuses (as it does over its quota), and /api/events answers every download with a 503.
        await using var site = await LandingPageSite.StartAsync(azurite);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await NewPageAsync(chromium);
        await page.AddInitScriptAsync("Navigator.prototype.sendBeacon = function () { window.__beaconsRefused = (window.__beaconsRefused || 0) + 1; return false; };");
        var keys = new ConcurrentQueue<string?>();
        await page.RouteAsync(new Uri(site.BaseAddress, "/api/events").AbsoluteUri, async route =>
        {
            var sent = System.Web.HttpUtility.ParseQueryString(route.Request.PostData ?? "");
            if (sent["type"] != LeadEventTypes.ContentDownload)
            {
                await route.ContinueAsync();
                return;
            }
            keys.Enqueue(sent["idempotencyKey"]);
            await route.FulfillAsync(Unavailable());
        });
        await page.GotoAsync(site.BaseAddress.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });

        // Act: track() settles only when the snippet has given up, so what was sent by then is all it will ever send.
        var delivered = await page.EvaluateAsync<bool>("() => window.leadFunctions.track('content-download', { contentId: 'whitepaper-lead-scoring' })");

        // Assert: refused by sendBeacon, then the first post and two resends, all with the same key, and no more.
        Assert.False(delivered);
        var sent = keys.ToArray();
        Assert.Equal(3, sent.Length);
        Assert.Single(sent.Distinct());
        Assert.Matches("^[A-Za-z0-9_-]{16,64}$", sent[0]);
        Assert.True(await page.EvaluateAsync<int>("() => window.__beaconsRefused") >= 1);
        // A later event is its own: a new key, not the refused one reused.
        keys.Clear();
        Assert.False(await page.EvaluateAsync<bool>("() => window.leadFunctions.track('content-download', { contentId: 'whitepaper-lead-scoring' })"));
        Assert.Equal(3, keys.Count);
        Assert.DoesNotContain(sent[0], keys);
    }

    /// <summary>The app's own answer when the queue refuses (<c>CaptureProblemCodes.Unavailable</c>), with a short Retry-After so the test does not wait 30 s.</summary>
    private static RouteFulfillOptions Unavailable() => new()
    {
        Status = 503,
        ContentType = "application/problem+json",
        Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
        Body = """{"type":"urn:leadfunctions:problem:unavailable","title":"The submission could not be stored right now.","status":503}""",
    };

    /// <summary>The rows in the lead's partition that belong to the event (its applied-event row and ledger rows), with the rule of each award.</summary>
    private static async Task<List<(string RowKey, string? RuleId)>> RowsOfEventAsync(LandingPageSite site, string leadId, string eventId)
    {
        var table = site.Services.GetRequiredService<LeadsTable>().Client;
        var rows = new List<(string, string?)>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and EventId eq {eventId}"), select: ["RowKey", "RuleId"]))
            rows.Add((row.RowKey, row.GetString("RuleId")));
        return rows;
    }

    [Fact]
    public async Task The_form_keeps_its_idempotency_key_while_the_answers_are_the_same_and_gets_a_new_one_when_they_change()
    {
        // Arrange: a page whose own script sends the form (the submit never leaves the page), as a script-driven form does.
        await using var site = await LandingPageSite.StartAsync(azurite);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await NewPageAsync(chromium);
        await page.GotoAsync(site.BaseAddress.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var keyInput = page.Locator("input[name=idempotencyKey]");
        await Assertions.Expect(keyInput).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^[A-Za-z0-9_-]{16,64}$"));
        await page.EvaluateAsync("() => document.querySelector('form[action$=\"demo-request\"]').addEventListener('submit', e => e.preventDefault())");
        await FillDemoFormAsync(page, "ada@example.com");
        var loaded = await keyInput.InputValueAsync();

        // Act: send, send the same answers again (a double click, a retry), then send with another address.
        await SubmitAsync(page);
        var afterFirst = await keyInput.InputValueAsync();
        await SubmitAsync(page);
        var afterRepeat = await keyInput.InputValueAsync();
        await page.FillAsync("#email", "grace@example.com");
        await SubmitAsync(page);
        var afterChange = await keyInput.InputValueAsync();
        var kept = await page.EvaluateAsync<string>("() => JSON.stringify(Object.entries(sessionStorage))");

        // Assert: and the tab keeps the key with a hash of the answers, never the answers themselves.
        Assert.Contains(afterChange, kept, StringComparison.Ordinal);
        Assert.DoesNotContain("@example.com", kept, StringComparison.Ordinal);
        Assert.DoesNotContain("Lovelace", kept, StringComparison.Ordinal);
        Assert.Equal(loaded, afterFirst);
        Assert.Equal(loaded, afterRepeat);
        Assert.NotEqual(loaded, afterChange);
        Assert.Matches("^[A-Za-z0-9_-]{16,64}$", afterChange);
    }

    private static async Task FillDemoFormAsync(IPage page, string email)
    {
        await page.FillAsync("#firstName", "Ada");
        await page.FillAsync("#lastName", "Lovelace");
        await page.FillAsync("#email", email);
        await page.FillAsync("#company", "Analytical Engines Ltd");
        await page.SelectOptionAsync("#role", "marketing-manager");
        await page.SelectOptionAsync("#companySize", "51-200");
        await page.CheckAsync("input[name=consent]");
    }

    private static Task SubmitAsync(IPage page) =>
        page.EvaluateAsync("() => document.querySelector('form[action$=\"demo-request\"]').requestSubmit()");

    private static async Task<IPage> NewPageAsync(Chromium chromium) =>
        chromium.Context.Pages.Count > 0 ? chromium.Context.Pages[0] : await chromium.Context.NewPageAsync();

    private static void RequireConsent(JsonObject forms, string formId)
    {
        var form = forms["forms"]!.AsArray().Select(f => f!.AsObject()).Single(f => (string?)f["id"] == formId);
        form["consent"]!["required"] = true;
    }

    private static string ScreenshotPath(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }

    /// <summary>
    /// <c>track.js</c> sends the page view with <c>sendBeacon</c>, which the page does not wait for; read the queue until
    /// what is expected has arrived (or give up and let the assertions say what is missing).
    /// </summary>
    private static async Task<IReadOnlyList<LeadEvent>> EventuallyAsync(Func<Task<IReadOnlyList<LeadEvent>>> read, Func<IReadOnlyList<LeadEvent>, bool> complete)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var events = await read();
            if (complete(events) || DateTime.UtcNow > deadline)
                return events;
            await Task.Delay(200);
        }
    }
}
