using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LeadFunctions.Domain.Events;
using LeadFunctions.LocalHost;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Playwright;

namespace LeadFunctions.Tests.Browser;

/// <summary>
/// The layout `azd up` deploys, on one machine: the page built by the predeploy hook (infra/hooks/build-site.mjs) served
/// by a plain static server on one origin, the app on another with Capture:SiteBaseUrl naming the page's site. Under the
/// real Functions host the app serves no pages, so this is the only way a visitor reaches the form there.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DeployedSiteBrowserTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_visitor_on_the_hosted_page_posts_to_the_app_and_lands_on_the_thank_you_page_of_the_site()
    {
        // Arrange: the site's origin is known first (it is the app's SiteBaseUrl), then the app, then the built page.
        await LandingPageSite.ClearLeadEventsAsync(azurite);
        var sitePort = FreePort();
        var siteOrigin = $"http://127.0.0.1:{sitePort.ToString(CultureInfo.InvariantCulture)}";
        await using var api = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?> { ["Capture:SiteBaseUrl"] = siteOrigin });
        var apiBase = api.App.BaseAddress().GetLeftPart(UriPartial.Authority);
        var folder = Path.Combine(Path.GetTempPath(), "leadfunctions-site-" + Guid.NewGuid().ToString("N"));
        try
        {
            await BuildSiteAsync(folder, apiBase);
            await using var site = await StaticSiteAsync(folder, sitePort);
            await using var chromium = await Chromium.LaunchAsync();
            var page = chromium.Context.Pages.Count > 0 ? chromium.Context.Pages[0] : await chromium.Context.NewPageAsync();
            var email = AzuriteFixture.UniqueName("deployed") + "@example.com";

            // Act
            await page.GotoAsync(siteOrigin + "/", new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            var landingUrl = page.Url;
            await page.FillAsync("#firstName", "Ada");
            await page.FillAsync("#lastName", "Lovelace");
            await page.FillAsync("#email", email);
            await page.FillAsync("#company", "Analytical Engines Ltd");
            await page.SelectOptionAsync("#role", "executive");
            await page.SelectOptionAsync("#companySize", "51-200");
            await page.ClickAsync("button[type=submit]");
            await Chromium.ArriveAtAsync(page, siteOrigin + "/thanks.html?form=demo");

            // Assert: the form went to the app, the visitor came back to the site's thank-you page ...
            await Chromium.ShowsAsync(page.Locator("h1"), "Thank you!");
            await page.WaitForFunctionAsync("() => !!window.leadFunctionsConfig");
            Assert.Equal(apiBase + "/api/forms/demo-request", await page.EvaluateAsync<string>("() => window.leadFunctionsConfig.apiBaseUrl + '/api/forms/demo-request'"));

            // ... and the submission and the site's page view (posted cross-origin by track.js) are on lead-events.
            var events = await EventuallyAsync(azurite, all =>
                all.Any(e => e.Type == LeadEventTypes.FormSubmission) && all.Any(e => e.Type == LeadEventTypes.PageView && e.Property(LeadEventProperties.Url) == landingUrl));
            var submission = Assert.Single(events, e => e.Type == LeadEventTypes.FormSubmission);
            Assert.Equal(email, submission.Email);
            Assert.Equal(landingUrl, submission.Context?.LandingPageUrl);
            Assert.Contains(events, e => e.Type == LeadEventTypes.PageView && e.Property(LeadEventProperties.Url) == landingUrl && e.VisitorId == submission.VisitorId);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Runs the azd predeploy hook itself, as azd would, with the API URL it would get from the provisioned outputs.</summary>
    private static async Task BuildSiteAsync(string folder, string apiBase)
    {
        var hook = Path.Combine(RepoPaths.Root, "infra", "hooks", "build-site.mjs");
        Assert.True(File.Exists(hook), $"The hook is not at {hook}.");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(hook);
        start.ArgumentList.Add("--out");
        start.ArgumentList.Add(folder);
        start.Environment["LEADFUNCTIONS_API_URL"] = apiBase;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "build-site.mjs failed: " + await stderr);
        Assert.Contains(apiBase, await File.ReadAllTextAsync(Path.Combine(folder, "config.js")), StringComparison.Ordinal);
    }

    /// <summary>A static file server and nothing else, standing in for the Static Web App.</summary>
    private static async Task<WebApplication> StaticSiteAsync(string folder, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var app = builder.Build();
        var files = new PhysicalFileProvider(folder);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        await app.StartAsync();
        return app;
    }

    private static async Task<IReadOnlyList<LeadEvent>> EventuallyAsync(AzuriteFixture azurite, Func<IReadOnlyList<LeadEvent>, bool> complete)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var events = await LandingPageSite.LeadEventsAsync(azurite);
            if (complete(events) || DateTime.UtcNow > deadline)
                return events;
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
