using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture.Results;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace LeadFunctions.Tests.Browser;

/// <summary>
/// The sales and marketing dashboard in real headless Chromium against the local host and Azurite: what the browser enforces
/// (the CSP), what it draws (the funnel chart), and that a lead's values are only ever text.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkspaceDashboardBrowserTests(AzuriteFixture azurite)
{
    private const string XssProbe = "<img src=x onerror=alert(1)>";

    [Fact]
    public async Task The_dashboard_loads_with_its_security_headers_and_the_browser_reports_no_CSP_violation()
    {
        // Arrange
        await using var host = await StartAsync();
        await using var chromium = await Chromium.LaunchAsync();

        // Act
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!);

        // Assert: the headers the browser got with the page ...
        var response = dashboard.Response!;
        Assert.Equal(200, response.Status);
        var headers = await response.AllHeadersAsync();
        Assert.Equal(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            headers["content-security-policy"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("no-store", headers["cache-control"]);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        // ... the page ran (its script and the vendored Chart.js loaded from the app) and nothing was blocked.
        Assert.Empty(await dashboard.CspViolationsAsync());
        Assert.True(await dashboard.Page.EvaluateAsync<bool>("() => typeof window.Chart === 'function'"), "Chart.js did not load.");
        Assert.Equal("rgb(255, 255, 255)", await dashboard.Page.EvalOnSelectorAsync<string>("section", "s => getComputedStyle(s).backgroundColor"));
        Assert.NotEqual("…", await dashboard.Page.InnerTextAsync("#model-version"));
        Assert.Empty(dashboard.Dialogs);
        await dashboard.Page.ScreenshotAsync(new PageScreenshotOptions { Path = WorkspaceDashboard.ScreenshotPath("workspace.png"), FullPage = true });
    }

    [Fact]
    public async Task The_funnel_chart_is_drawn_on_its_canvas_from_a_funnel_answer_of_the_agreed_shape()
    {
        // Arrange: the funnel API (built alongside) answered with the contract's shape, so the drawing is tested on its own.
        await using var host = await StartAsync();
        await using var chromium = await Chromium.LaunchAsync();
        var funnel = new
        {
            from = "2026-11-01", to = "2026-12-01", period = "week",
            stages = new object[]
            {
                new { stage = "Lead", now = 40, entries = 55, conversionToNext = 0.4, medianHoursInStage = 30.0, p90HoursInStage = 90.0 },
                new { stage = "MQL", now = 12, entries = 22, conversionToNext = 0.5, medianHoursInStage = 50.0, p90HoursInStage = 120.0 },
                new { stage = "SQL", now = 5, entries = 11, conversionToNext = 0.3, medianHoursInStage = 8.0, p90HoursInStage = 20.0 },
                new { stage = "Opportunity", now = 3, entries = 4, conversionToNext = 0.25, medianHoursInStage = 200.0, p90HoursInStage = 400.0 },
                new { stage = "Customer", now = 1, entries = 1, conversionToNext = 0.0, medianHoursInStage = 0.0, p90HoursInStage = 0.0 },
                new { stage = "Evangelist", now = 0, entries = 0, conversionToNext = 0.0, medianHoursInStage = 0.0, p90HoursInStage = 0.0 },
            },
            periods = Array.Empty<object>(),
            sla = new { sqlsPastSla = 2, medianMinutesToFirstAction = 45.0, p90MinutesToFirstAction = 180.0, firstActions = 9 },
        };

        // Act
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!, page => page.RouteAsync("**/api/funnel?*", route =>
            route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "application/json", Body = JsonSerializer.Serialize(funnel) })));

        // Assert: Chart.js holds the numbers per static stage name, and the canvas has pixels painted on it.
        var chart = await dashboard.Page.EvaluateAsync<JsonElement>(
            "() => { const c = Chart.getChart('funnel-chart'); return c ? { labels: c.data.labels, data: c.data.datasets.map(d => d.data) } : null; }");
        Assert.Equal(["Lead", "MQL", "SQL", "Opportunity", "Customer", "Evangelist"], chart.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal([40, 12, 5, 3, 1, 0], chart.GetProperty("data")[0].EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal([55, 22, 11, 4, 1, 0], chart.GetProperty("data")[1].EnumerateArray().Select(v => v.GetInt32()));
        var painted = await dashboard.Page.EvaluateAsync<int>(
            "() => { const c = document.getElementById('funnel-chart'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }");
        Assert.True(painted > 1000, $"The funnel canvas has only {painted} painted pixels.");
        Assert.Equal("SQLs past their SLA: 2; median time to first sales action: 45 min", await dashboard.Page.InnerTextAsync("#funnel-sla"));
        Assert.Empty(await dashboard.CspViolationsAsync());
    }

    [Fact]
    public async Task A_lead_found_by_its_address_opens_with_its_ledger_and_every_point_shows_its_rule_points_and_explanation()
    {
        // Arrange
        await using var host = await StartAsync();
        var email = AzuriteFixture.UniqueName("dash") + "@example.com";
        var processor = host.Services.GetRequiredService<LeadEventProcessor>();
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        await processor.ProcessAsync(Events.Form(email, at, profile: new() { ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Engines Ltd" }), CancellationToken.None);
        await processor.ProcessAsync(Events.Download(email, at.AddMinutes(1)), CancellationToken.None);
        var expected = await ExpectedLedgerAsync(host, TestLeadIds.LeadIdFor(email));
        await using var chromium = await Chromium.LaunchAsync();
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!);

        // Act: the address goes in the search request's body, never in its URL.
        var request = await dashboard.Page.RunAndWaitForRequestAsync(
            () => dashboard.SearchAndOpenAsync(email),
            r => r.Url.EndsWith("/api/workspace/search", StringComparison.Ordinal));

        // Assert
        Assert.Equal("POST", request.Method);
        Assert.Contains(email, request.PostData ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain("@", request.Url, StringComparison.Ordinal);
        Assert.Equal("Ada Lovelace", await dashboard.Page.InnerTextAsync("#lead-name"));
        Assert.Contains("Engines Ltd", await dashboard.Page.InnerTextAsync("#lead-profile"), StringComparison.Ordinal);
        var ledger = await dashboard.TimelineAsync("ledger");
        Assert.NotEmpty(expected);
        // Every ledger row the API gives, with its rule, points when awarded and the note that explains it.
        Assert.Equal(
            expected.Select(e => (e.Rule, e.Points.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), e.EventType + (e.Note is { Length: > 0 } n ? ": " + n : ""))).Order(),
            ledger.Select(r => (r[1], r[2], r[4])).Order());
        Assert.Contains(ledger, r => r[4].StartsWith(LeadFunctions.Domain.Events.LeadEventTypes.ContentDownload, StringComparison.Ordinal));
        Assert.NotEmpty(await dashboard.TimelineAsync("stage"));
        Assert.Empty(await dashboard.CspViolationsAsync());
        await dashboard.Page.ScreenshotAsync(new PageScreenshotOptions { Path = WorkspaceDashboard.ScreenshotPath("workspace-lead.png"), FullPage = true });
    }

    [Fact]
    public async Task A_lead_named_with_an_XSS_probe_is_shown_as_text_and_no_element_or_dialog_comes_of_it()
    {
        // Arrange
        await using var host = await StartAsync();
        var email = AzuriteFixture.UniqueName("xss") + "@example.com";
        await host.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(Events.Form(email, DateTimeOffset.UtcNow, profile: new()
        {
            ["firstName"] = XssProbe,
            ["lastName"] = "<script>alert(2)</script>",
            ["company"] = "\"><svg onload=alert(3)>",
        }), CancellationToken.None);
        await using var chromium = await Chromium.LaunchAsync();
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!);

        // Act
        await dashboard.SearchAndOpenAsync(email);

        // Assert: the probe is on screen as the characters it is ...
        Assert.Equal(XssProbe + " <script>alert(2)</script>", await dashboard.Page.InnerTextAsync("#search-results button.lead-open"));
        Assert.Equal(XssProbe + " <script>alert(2)</script>", await dashboard.Page.TextContentAsync("#lead-name"));
        Assert.Equal("\"><svg onload=alert(3)>", await dashboard.Page.TextContentAsync("#search-results tbody td:nth-child(2)"));
        // ... no element was made from it, nothing ran, and nothing even tried to (the CSP would have reported it).
        Assert.Equal(0, await dashboard.Page.Locator("img").CountAsync());
        Assert.Equal(0, await dashboard.Page.Locator("svg").CountAsync());
        Assert.Equal(2, await dashboard.Page.Locator("script").CountAsync());
        Assert.Empty(dashboard.Dialogs);
        Assert.Empty(await dashboard.CspViolationsAsync());
    }

    [Fact]
    public async Task The_calibration_panel_shows_each_band_with_its_interval_as_text_and_charts_the_sql_conversion()
    {
        // Arrange: first the real endpoint answers the panel over an empty table; then an answer of the same shape with numbers.
        await using var host = await StartAsync();
        await using var chromium = await Chromium.LaunchAsync();
        var empty = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!);
        await ComputeCalibrationAsync(empty);
        Assert.Contains("0 leads first qualified", await empty.Page.InnerTextAsync("#calibration-summary"), StringComparison.Ordinal);
        Assert.StartsWith("Suggested MQL bar: not enough data", await empty.Page.InnerTextAsync("#calibration-suggestion"), StringComparison.Ordinal);
        var conversion = new { count = 30, of = 100, rate = 0.3, low = 0.2189, high = 0.3958 };
        var none = new { count = 0, of = 0, rate = (double?)null, low = (double?)null, high = (double?)null };
        var answer = new
        {
            partial = true, leadsScanned = 5000, maxLeads = 5000,
            report = new
            {
                leads = 100, enteredAtMql = 100, enteredAtSql = 0,
                bands = new object[]
                {
                    new { label = "0-50", leads = 0, enteredAtMql = 0, enteredAtSql = 0, sql = none, opportunity = none, customer = none },
                    new { label = XssProbe, leads = 100, enteredAtMql = 100, enteredAtSql = 0, sql = conversion, opportunity = conversion, customer = none },
                },
                grades = Array.Empty<object>(),
                suggestion = new { mqlBar = (double?)null, band = (string?)null, reason = "not enough data: " + XssProbe },
                drift = new object[] { new { band = "50+", message = "band 50+: recent SQL conversion " + XssProbe } },
            },
        };

        // Act
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!, page => page.RouteAsync("**/api/workspace/calibration", route =>
            route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "application/json", Body = JsonSerializer.Serialize(answer) })));
        await ComputeCalibrationAsync(dashboard);

        // Assert: the interval is text in the row, the probe stays text everywhere, and the chart holds the rate per band.
        var row = await dashboard.Page.EvalOnSelectorAsync<string>("#calibration-table tbody tr:nth-child(2)", "r => r.textContent"); // header cells are upper-cased by the style
        Assert.Contains("30.0% [21.9%–39.6%] 30/100", row, StringComparison.Ordinal);
        Assert.Contains(XssProbe, row, StringComparison.Ordinal);
        Assert.Contains("PARTIAL", await dashboard.Page.InnerTextAsync("#calibration-summary"), StringComparison.Ordinal);
        Assert.Contains(XssProbe, await dashboard.Page.InnerTextAsync("#calibration-drift"), StringComparison.Ordinal);
        Assert.Equal(0, await dashboard.Page.Locator("#calibration-section img").CountAsync());
        var data = await dashboard.Page.EvaluateAsync<JsonElement>("() => Chart.getChart('calibration-chart').data.datasets[0].data");
        Assert.Equal([0.0, 30.0], data.EnumerateArray().Select(v => Math.Round(v.GetDouble(), 6)));
        Assert.Empty(dashboard.Dialogs);
        Assert.Empty(await dashboard.CspViolationsAsync());
    }

    [Fact]
    public async Task The_nurture_results_panel_shows_the_counted_numbers_of_each_step_as_text()
    {
        // Arrange: counters of the shipped programme's first step in two shards, and a counted step no longer in the catalogue
        // whose id is the XSS probe (ids come from storage: they must stay text too).
        await using var host = await StartAsync();
        var counters = host.Services.GetRequiredService<NurtureResultsTable>().Client;
        await counters.UpsertEntityAsync(Counter("s00", "mql-welcome", "welcome", sent: 7, delivered: 6, bounced: 1, opened: 4, humanOpens: 5, clicked: 2, humanClicks: 3, unsubscribed: 1, goals: 1));
        await counters.UpsertEntityAsync(Counter("s01", "mql-welcome", "welcome", sent: 3, delivered: 3, bounced: 0, opened: 1, humanOpens: 2, clicked: 0, humanClicks: 0, unsubscribed: 0, goals: 1));
        await counters.UpsertEntityAsync(Counter("s02", "retired", XssProbe, sent: 1, delivered: 0, bounced: 0, opened: 0, humanOpens: 0, clicked: 0, humanClicks: 0, unsubscribed: 0, goals: 0));
        await using var chromium = await Chromium.LaunchAsync();

        // Act
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!);
        await dashboard.Page.WaitForSelectorAsync("#results-section[data-loaded=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

        // Assert: the step's row sums the shards, in the documented column order; the other steps show zeros.
        var rows = await dashboard.Page.EvalOnSelectorAllAsync<string[][]>("table.results[data-programme='mql-welcome'] tbody tr",
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))");
        Assert.Equal(["welcome", "10", "9", "1", "5", "7", "2", "3", "1", "2"], rows[0]);
        Assert.Equal(["case-study", "0", "0", "0", "0", "0", "0", "0", "0", "0"], rows[1]);
        Assert.Equal(["talk", "0", "0", "0", "0", "0", "0", "0", "0", "0"], rows[2]);
        Assert.Equal(XssProbe, await dashboard.Page.TextContentAsync("table.results[data-programme='retired'] tbody th"));
        Assert.Contains("within 30 days", await dashboard.Page.InnerTextAsync("#results-message"), StringComparison.Ordinal);
        Assert.Equal(0, await dashboard.Page.Locator("#results-section img").CountAsync());
        Assert.Empty(dashboard.Dialogs);
        Assert.Empty(await dashboard.CspViolationsAsync());
        await dashboard.Page.ScreenshotAsync(new PageScreenshotOptions { Path = WorkspaceDashboard.ScreenshotPath("workspace-nurture-results.png"), FullPage = true });
    }

    [Fact]
    public async Task After_a_publish_the_SQL_queue_and_the_search_mark_the_lead_still_scored_on_the_older_model_and_not_the_lead_on_the_active_one()
    {
        // Arrange: Olive became an SQL under the model file's version; then the same rules are published as a new version
        // (no re-score started), and Nina becomes an SQL under it.
        await using var host = await StartAsync(("Lists:IndexTable", AzuriteFixture.UniqueName("index")), ("ScoringPublish:ModelsTable", AzuriteFixture.UniqueName("models")));
        var processor = host.Services.GetRequiredService<LeadEventProcessor>();
        var suffix = AzuriteFixture.UniqueName("stale");
        var olive = $"olive-{suffix}@example.com";
        var nina = $"nina-{suffix}@example.com";
        await processor.ProcessAsync(Events.Form(olive, DateTimeOffset.UtcNow.AddMinutes(-5), FormIntent.DemoRequest, profile: new() { ["firstName"] = "Olive", ["lastName"] = "Older" }), CancellationToken.None);
        var model = JsonNode.Parse(ScoringHarness.ShippedModelJson(), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();
        var fileVersion = model["version"]!.GetValue<string>();
        var nextVersion = fileVersion + "-next";
        model["version"] = nextVersion;
        using (var published = await host.Client.PostAsJsonAsync(new Uri("/api/workspace/scoring/models", UriKind.Relative),
            new JsonObject { ["model"] = model, ["reason"] = "a new version to re-score against" }))
        {
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        }
        await processor.ProcessAsync(Events.Form(nina, DateTimeOffset.UtcNow, FormIntent.DemoRequest, profile: new() { ["firstName"] = "Nina", ["lastName"] = "Newer" }), CancellationToken.None);
        await using var chromium = await Chromium.LaunchAsync();
        var listed = new List<string>();

        // Act
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!, page =>
        {
            page.Request += (_, r) => { if (r.Url.Contains("/api/leads?", StringComparison.Ordinal)) listed.Add(r.Url); };
            return Task.CompletedTask;
        });

        // Assert: the queue asked for the versions; Olive's row says which model her points are from and which is active, as
        // text with an explanation on hover; Nina's row says nothing.
        Assert.Contains(listed, url => url.Contains("include=modelVersions", StringComparison.Ordinal));
        var oliveRow = dashboard.Page.Locator($"#queue tbody tr[data-lead-id='{ScoringHarness.LeadIdOf(olive)}']");
        var ninaRow = dashboard.Page.Locator($"#queue tbody tr[data-lead-id='{ScoringHarness.LeadIdOf(nina)}']");
        var marker = oliveRow.Locator(".model-stale");
        await Chromium.ShowsAsync(marker, $"scored on {fileVersion}, active {nextVersion}");
        Assert.Equal($"Not re-scored yet: these points come from model {fileVersion}; the active model is {nextVersion}.", await marker.GetAttributeAsync("title"));
        Assert.Equal("Olive Older", await oliveRow.Locator("button.lead-open").InnerTextAsync());
        await Chromium.ShowsAsync(ninaRow.Locator("button.lead-open"), "Nina Newer");
        Assert.Equal(0, await ninaRow.Locator(".model-stale").CountAsync());
        Assert.Equal(1, await dashboard.Page.Locator("#queue .model-stale").CountAsync());
        // The search result (the same list item) marks the same way.
        await dashboard.Page.FillAsync("#search-email", olive);
        await dashboard.Page.ClickAsync("#search-form button[type=submit]");
        await Chromium.ShowsAsync(dashboard.Page.Locator("#search-results tbody tr .model-stale"), $"scored on {fileVersion}, active {nextVersion}");
        await dashboard.Page.FillAsync("#search-email", nina);
        await dashboard.Page.ClickAsync("#search-form button[type=submit]");
        await Chromium.ShowsAsync(dashboard.Page.Locator("#search-results tbody tr button.lead-open"), "Nina Newer");
        Assert.Equal(0, await dashboard.Page.Locator("#search-results .model-stale").CountAsync());
        Assert.Empty(await dashboard.CspViolationsAsync());
        await dashboard.Page.ScreenshotAsync(new PageScreenshotOptions { Path = WorkspaceDashboard.ScreenshotPath("workspace-stale-model.png"), FullPage = true });
    }

    private static TableEntity Counter(string shard, string programme, string step, long sent, long delivered, long bounced, long opened, long humanOpens,
        long clicked, long humanClicks, long unsubscribed, long goals) => new(shard, "c|" + programme + "|" + step)
    {
        ["Programme"] = programme, ["Step"] = step, ["Sent"] = sent, ["Delivered"] = delivered, ["Bounced"] = bounced, ["Opened"] = opened,
        ["HumanOpens"] = humanOpens, ["Clicked"] = clicked, ["HumanClicks"] = humanClicks, ["Unsubscribed"] = unsubscribed, ["Goals"] = goals,
    };

    /// <summary>The panel reads leads only when asked: press its button and wait for the answer to be shown.</summary>
    private static async Task ComputeCalibrationAsync(WorkspaceDashboard dashboard)
    {
        Assert.True(await dashboard.Page.IsVisibleAsync("#calibration-section"), "The calibration panel is hidden from an admin.");
        await dashboard.Page.ClickAsync("#calibration-load");
        await dashboard.Page.WaitForSelectorAsync("#calibration-section[data-loaded=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
    }

    private Task<RunningLocalHost> StartAsync(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
            ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
            ["NurtureResults:CountersTable"] = AzuriteFixture.UniqueName("results"),
            // The local host's development sign-in (Easy Auth's stand-in): the workspace endpoints authorise from this user.
            ["LocalHost:DevelopmentUser:Id"] = "00000000-0000-0000-0000-0000000000ad",
            ["LocalHost:DevelopmentUser:Name"] = "Test Admin",
            ["LocalHost:DevelopmentUser:Roles"] = "admin",
        };
        foreach (var (key, value) in more)
            settings[key] = value;
        return RunningLocalHost.StartAsync(azurite, triggers: false, settings);
    }

    private sealed record LedgerRow(string Rule, double Points, string EventType, string? Note, DateTimeOffset At);

    /// <summary>The lead's ledger as its API gives it (a plain array, or a page of items once the detail is paged), newest first.</summary>
    private static async Task<List<LedgerRow>> ExpectedLedgerAsync(RunningLocalHost host, string leadId)
    {
        using var document = JsonDocument.Parse(await host.Client.GetStringAsync(new Uri($"/api/leads/{leadId}?ledger=20&history=20", UriKind.Relative)));
        var ledger = document.RootElement.GetProperty("ledger");
        var items = ledger.ValueKind == JsonValueKind.Array ? ledger : ledger.GetProperty("items");
        return [.. items.EnumerateArray()
            .Select(l => new LedgerRow(l.GetProperty("rule").GetString()!, l.GetProperty("points").GetDouble(), l.GetProperty("eventType").GetString()!,
                l.TryGetProperty("note", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null, l.GetProperty("at").GetDateTimeOffset()))
            .OrderByDescending(l => l.At)];
    }
}
