using System.Net;
using System.Text.Json;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Funnel;

/// <summary>The funnel over HTTP through the local host, wired as the app wires it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class FunnelHttpTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task An_event_the_app_processes_shows_in_the_funnel_it_serves()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, SignedIn.DevelopmentUser(settings: new Dictionary<string, string?>
        {
            ["Funnel:CountersTable"] = AzuriteFixture.UniqueName("funnel"),
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
        }));
        var now = DateTimeOffset.UtcNow;
        var email = AzuriteFixture.UniqueName("funnel") + "@example.com";

        // Act
        await host.Services.GetRequiredService<LeadEventProcessor>()
            .ProcessAsync(Events.Form(email, now, Domain.Events.FormIntent.DemoRequest), CancellationToken.None);
        using var response = await host.Client.GetAsync(new Uri("/api/funnel", UriKind.Relative));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var sql = body.RootElement.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "SQL");
        Assert.Equal((1, 1), (sql.GetProperty("now").GetInt32(), sql.GetProperty("entries").GetInt32()));
    }

    [Fact]
    public async Task The_app_serves_the_funnel_over_its_own_table_and_refuses_a_bad_period_with_a_problem_naming_it()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, SignedIn.DevelopmentUser(settings: new Dictionary<string, string?>
        {
            ["Funnel:CountersTable"] = AzuriteFixture.UniqueName("funnel"),
        }));

        // Act
        using var ok = await host.Client.GetAsync(new Uri("/api/funnel?from=2026-11-01&to=2026-12-01&period=week", UriKind.Relative));
        using var bad = await host.Client.GetAsync(new Uri("/api/funnel?from=2026-11-01&to=2026-12-01&period=quarter", UriKind.Relative));

        // Assert
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var body = JsonDocument.Parse(await ok.Content.ReadAsStringAsync());
        Assert.Equal(["2026-11-01", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"],
            body.RootElement.GetProperty("periods").EnumerateArray().Select(p => p.GetProperty("start").GetString()));
        Assert.Equal(7, body.RootElement.GetProperty("stages").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("period", out _));
    }
}
