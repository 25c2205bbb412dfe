using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Workspace;

/// <summary>
/// The dashboard's own endpoints through the local host and Azurite: the security headers on every answer, the asset
/// allow-list, the search box's endpoint and the overview.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class WorkspaceHttpTests(AzuriteFixture azurite)
{
    private const string Csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    [Fact]
    public async Task Every_workspace_answer_carries_the_CSP_nosniff_no_referrer_and_the_page_and_JSON_are_never_stored()
    {
        // Arrange
        await using var host = await StartAsync();
        var page = await host.Client.GetStringAsync(new Uri("/api/workspace", UriKind.Relative));
        var script = AssetUrls(page).Single(u => u.Contains("/workspace.", StringComparison.Ordinal) && u.EndsWith(".js", StringComparison.Ordinal));

        // Act
        var answers = new List<(string What, HttpResponseMessage Response)>
        {
            ("page", await host.Client.GetAsync(new Uri("/api/workspace", UriKind.Relative))),
            ("overview", await host.Client.GetAsync(new Uri("/api/workspace/overview", UriKind.Relative))),
            ("nurture results", await host.Client.GetAsync(new Uri("/api/workspace/nurture/results", UriKind.Relative))),
            ("search found nothing", await host.Client.PostAsJsonAsync(new Uri("/api/workspace/search", UriKind.Relative), new { email = "nobody@example.com" })),
            ("search refused", await host.Client.PostAsJsonAsync(new Uri("/api/workspace/search", UriKind.Relative), new { email = "not an address" })),
            ("unknown asset", await host.Client.GetAsync(new Uri("/api/workspace/assets/nothing.js", UriKind.Relative))),
            ("asset", await host.Client.GetAsync(new Uri(script, UriKind.Relative))),
        };

        // Assert
        try
        {
            foreach (var (what, response) in answers)
            {
                Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp), $"{what}: no CSP");
                Assert.Equal(Csp, Assert.Single(csp));
                Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
                Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
                Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
                // As sent, not as HttpClient re-orders a parsed Cache-Control.
                var cache = string.Join(", ", response.Headers.NonValidated["Cache-Control"]);
                Assert.Equal(what == "asset" ? "private, max-age=31536000, immutable" : "no-store", cache);
            }
            Assert.Equal(HttpStatusCode.OK, answers[0].Response.StatusCode);
            Assert.Equal("text/html", answers[0].Response.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            foreach (var (_, response) in answers)
                response.Dispose();
        }
    }

    [Fact]
    public async Task The_page_has_no_inline_script_style_or_event_handler_and_loads_only_its_own_hashed_assets()
    {
        // Arrange
        await using var host = await StartAsync();

        // Act
        var page = await host.Client.GetStringAsync(new Uri("/api/workspace", UriKind.Relative));

        // Assert: the CSP would block anything inline, so nothing inline may be there to be blocked.
        Assert.DoesNotMatch(InlineScript(), page);
        Assert.DoesNotContain("<style", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(InlineAttribute(), page);
        Assert.DoesNotContain("http://", page, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        var urls = AssetUrls(page);
        Assert.Equal(3, urls.Count);
        Assert.All(urls, u => Assert.Matches("^/api/workspace/assets/[a-z.]+\\.[0-9a-f]{16}\\.(js|css)$", u));
    }

    [Fact]
    public async Task Each_asset_is_served_by_its_hashed_name_with_its_content_type_and_the_chart_library_is_the_pinned_npm_Chart_js()
    {
        // Arrange
        await using var host = await StartAsync();
        var urls = AssetUrls(await host.Client.GetStringAsync(new Uri("/api/workspace", UriKind.Relative)));

        // Act
        var served = new Dictionary<string, (string? Type, string Body)>(StringComparer.Ordinal);
        foreach (var url in urls)
        {
            using var response = await host.Client.GetAsync(new Uri(url, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            served[url] = (response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync());
        }

        // Assert
        var chart = Assert.Single(served, s => s.Key.Contains("/chart.umd.min.", StringComparison.Ordinal)).Value;
        Assert.Equal("text/javascript; charset=utf-8", chart.Type);
        Assert.Contains("Chart.js v4.6.1", chart.Body[..200], StringComparison.Ordinal);
        var pinned = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "node_modules", "chart.js", "dist", "chart.umd.min.js"));
        Assert.Equal(pinned, chart.Body);
        Assert.Equal("text/css; charset=utf-8", Assert.Single(served, s => s.Key.EndsWith(".css", StringComparison.Ordinal)).Value.Type);
        Assert.Equal("text/javascript; charset=utf-8", Assert.Single(served, s => s.Key.Contains("/workspace.", StringComparison.Ordinal) && s.Key.EndsWith(".js", StringComparison.Ordinal)).Value.Type);
    }

    [Theory]
    [InlineData("workspace.js")]
    [InlineData("workspace.liquid")]
    [InlineData("workspace.0000000000000000.js")]
    [InlineData("..%2F..%2Fhost.json")]
    [InlineData("..%2FLeadFunctions.dll")]
    [InlineData("%2E%2E%2F%2E%2E%2Flocal.settings.json")]
    [InlineData("..\\host.json")]
    [InlineData("host.json")]
    [InlineData("LeadFunctions.dll")]
    public async Task A_name_outside_the_allow_list_is_a_404_whatever_path_it_tries_to_reach(string name)
    {
        // Arrange
        await using var host = await StartAsync();

        // Act
        using var response = await host.Client.GetAsync(new Uri("/api/workspace/assets/" + name, UriKind.Relative));

        // Assert
        // A problem that says nothing of what exists on disk: the same small body whatever was asked for.
        // (A name routing cannot take to the function at all is the host's bare 404.)
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        if (body.Length > 0)
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(body.Length < 400, body);
        Assert.DoesNotContain("Values", body, StringComparison.Ordinal);
        Assert.DoesNotContain("<", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_path_below_the_assets_route_is_a_404()
    {
        // Arrange
        await using var host = await StartAsync();

        // Act
        using var nested = await host.Client.GetAsync(new Uri("/api/workspace/assets/../../host.json", UriKind.Relative));
        using var deeper = await host.Client.GetAsync(new Uri("/api/workspace/assets/x/workspace.js", UriKind.Relative));

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, nested.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deeper.StatusCode);
    }

    [Fact]
    public async Task A_search_finds_a_lead_by_its_address_in_the_body_and_answers_a_list_item_without_the_address()
    {
        // Arrange
        var leads = AzuriteFixture.UniqueName("leads");
        await using var host = await StartAsync(leads);
        var email = AzuriteFixture.UniqueName("search") + "@example.com";
        var processor = host.Services.GetRequiredService<LeadEventProcessor>();
        await processor.ProcessAsync(Events.Form(email, DateTimeOffset.UtcNow, profile: new() { ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Engines Ltd" }), CancellationToken.None);
        await processor.ProcessAsync(Events.Download(email, DateTimeOffset.UtcNow), CancellationToken.None);

        // Act
        using var response = await host.Client.PostAsJsonAsync(new Uri("/api/workspace/search", UriKind.Relative), new { email = " " + email.ToUpperInvariant() });

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(email, text, StringComparison.OrdinalIgnoreCase);
        using var body = JsonDocument.Parse(text);
        var item = body.RootElement;
        Assert.Equal(TestLeadIds.LeadIdFor(email), item.GetProperty("leadId").GetString());
        Assert.Equal("Ada Lovelace", item.GetProperty("name").GetString());
        Assert.Equal("Engines Ltd", item.GetProperty("company").GetString());
        Assert.Equal("Lead", item.GetProperty("stage").GetString());
        Assert.True(item.GetProperty("score").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, item.GetProperty("slaDueAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, item.GetProperty("owner").ValueKind);
        Assert.Equal(
            ["leadId", "name", "company", "stage", "stageChangedAt", "owner", "score", "fitGrade", "updatedAt", "slaDueAt", "pointsModelVersion", "onActiveModel", "activeModelVersion"],
            item.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_search_for_an_unknown_address_is_a_404_and_a_body_without_a_valid_address_is_a_400_naming_the_email_field()
    {
        // Arrange
        await using var host = await StartAsync(AzuriteFixture.UniqueName("leads"));
        var search = new Uri("/api/workspace/search", UriKind.Relative);

        // Act
        using var unknown = await host.Client.PostAsJsonAsync(search, new { email = AzuriteFixture.UniqueName("nobody") + "@example.com" });
        using var invalid = await host.Client.PostAsJsonAsync(search, new { email = "not-an-address" });
        using var notJson = await host.Client.PostAsync(search, new StringContent("email=a@example.com"));
        using var tooLarge = await host.Client.PostAsJsonAsync(search, new { email = new string('a', LeadLookup.MaxBodyBytes) + "@example.com" });
        using var byGet = await host.Client.GetAsync(new Uri("/api/workspace/search?email=a%40example.com", UriKind.Relative));

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        foreach (var refused in new[] { invalid, notJson })
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("email", out _));
        }
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        // The address never travels in a URL: no function answers a GET search (a wrong method is a 404, as under the Functions host).
        Assert.Equal(HttpStatusCode.NotFound, byGet.StatusCode);
        Assert.Empty(byGet.Content.Headers.Allow);
    }

    [Fact]
    public async Task The_overview_gives_the_loaded_model_version_and_counts_nurture_and_sales_work_due_now_and_parked_items()
    {
        // Arrange
        await using var host = await StartAsync(AzuriteFixture.UniqueName("leads"));
        var store = host.Services.GetRequiredService<NurtureStore>();
        var now = DateTimeOffset.UtcNow;
        await store.ScheduleAsync(DueItemEntity.Create("lead-a", DueKinds.Nurture, now.AddMinutes(-5), now.AddDays(-1), "s1", "welcome", "s1"), CancellationToken.None);
        await store.ScheduleAsync(DueItemEntity.Create("lead-b", DueKinds.Nurture, now.AddMinutes(-3), now.AddDays(-1), "s1", "welcome", "s1"), CancellationToken.None);
        await store.ScheduleAsync(DueItemEntity.Create("lead-c", DueKinds.Nurture, now.AddDays(3), now.AddDays(-1), "s2", "welcome", "s2"), CancellationToken.None);
        await store.ScheduleAsync(DueItemEntity.Create("lead-d", DueKinds.Alert, now.AddMinutes(-1), now.AddMinutes(-1), "sql"), CancellationToken.None);
        var failing = DueItemEntity.Create("lead-e", DueKinds.Nurture, now.AddMinutes(-9), now.AddDays(-1), "s1", "welcome", "s1");
        await store.ScheduleAsync(failing, CancellationToken.None);
        await store.ParkAsync(failing, "smtp 550", permanent: true, attempts: 1, outboxKey: null, now, CancellationToken.None);

        // Act
        using var response = await host.Client.GetAsync(new Uri("/api/workspace/overview", UriKind.Relative));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(host.Services.GetRequiredService<ScoringModel>().Version, body.RootElement.GetProperty("modelVersion").GetString());
        var nurture = body.RootElement.GetProperty("nurture");
        Assert.Equal((2, 1, 1, false), (nurture.GetProperty("due").GetInt32(), nurture.GetProperty("dueSales").GetInt32(), nurture.GetProperty("parked").GetInt32(), nurture.GetProperty("atLeast").GetBoolean()));
    }

    private Task<RunningLocalHost> StartAsync(string? leadsTable = null) =>
        RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = leadsTable ?? AzuriteFixture.UniqueName("leads"),
            ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
            ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
            // The local host's development sign-in (Easy Auth's stand-in): the workspace endpoints authorise from this user.
            ["LocalHost:DevelopmentUser:Id"] = "00000000-0000-0000-0000-0000000000ad",
            ["LocalHost:DevelopmentUser:Name"] = "Test Admin",
            ["LocalHost:DevelopmentUser:Roles"] = "admin",
        });

    internal static List<string> AssetUrls(string page) => [.. AssetReference().Matches(page).Select(m => m.Groups[1].Value)];

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "LeadFunctions.sln")))
            folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("The repository root (LeadFunctions.sln) is not above the test output.");
    }

    [GeneratedRegex("(?:src|href)=\"(/api/workspace/assets/[^\"]+)\"")]
    private static partial Regex AssetReference();

    [GeneratedRegex("<script(?![^>]*\\ssrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("\\s(on[a-z]+|style)\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineAttribute();
}
