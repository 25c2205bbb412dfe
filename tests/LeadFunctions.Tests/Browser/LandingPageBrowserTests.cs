using System.Text.Json.Nodes;
using LeadFunctions.Domain.Events;
using LeadFunctions.Tests.Support;
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
