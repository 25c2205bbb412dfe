using System.Text.Json;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace LeadFunctions.Tests.Browser;

/// <summary>
/// The dashboard in Chromium against the whole workspace: the signed-in development user (identity), the SQL list (lists),
/// the funnel counters (funnel) and stage changes (stage). Each test has an Azurite of its own, so the counters it reads come
/// only from the leads it seeds, and the queue trigger it runs processes only its own events.
/// </summary>
public sealed class WorkspaceDashboardIntegratedBrowserTests
{
    // The local host's development sign-in (LocalHost:DevelopmentUser:*): every request is this user, as Easy Auth would say.
    private const string UserId = "00000000-0000-0000-0000-00000000a11e";

    [Fact]
    public async Task The_funnel_chart_shows_the_seeded_counts_and_the_SQL_queue_shows_the_SQL_with_its_owner_and_SLA_time_left()
    {
        // Arrange: three leads, one of them an SQL by its demo request.
        await using var storage = await RestartableAzurite.StartNewAsync();
        await using var host = await RunningLocalHost.StartAsync(storage.ConnectionString, triggers: false, User("Mara Marketing", "marketing"));
        var processor = host.Services.GetRequiredService<LeadEventProcessor>();
        var at = DateTimeOffset.UtcNow.AddMinutes(-30);
        var sql = "sql-" + Guid.NewGuid().ToString("N")[..8] + "@example.com";
        await processor.ProcessAsync(Events.Form(sql, at, FormIntent.DemoRequest, profile: new() { ["firstName"] = "Sam", ["lastName"] = "Sequel", ["company"] = "Queue Co" }), CancellationToken.None);
        await processor.ProcessAsync(Events.Download("one-" + sql, at), CancellationToken.None);
        await processor.ProcessAsync(Events.Download("two-" + sql, at), CancellationToken.None);
        await using var chromium = await Chromium.LaunchAsync();

        // Act
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!);

        // Assert: the chart's numbers are the funnel's: two leads in Lead, one in SQL; two entered Lead, one entered SQL.
        var chart = await dashboard.Page.EvaluateAsync<JsonElement>("() => { const c = Chart.getChart('funnel-chart'); return c ? c.data.datasets.map(d => d.data) : null; }");
        Assert.True(chart.ValueKind == JsonValueKind.Array, "No funnel chart: " + await dashboard.Page.InnerTextAsync("#funnel-sla"));
        Assert.Equal([2, 0, 1, 0, 0, 0], chart[0].EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal([2, 0, 1, 0, 0, 0], chart[1].EnumerateArray().Select(v => v.GetInt32()));
        // The SQL queue lists the SQL by name, unassigned, with the SLA clock running.
        var row = dashboard.Page.Locator("#queue tbody tr");
        Assert.Equal(1, await row.CountAsync());
        Assert.Equal("Sam Sequel", await row.Locator("button.lead-open").InnerTextAsync());
        Assert.Equal("unassigned", await row.Locator("td:nth-child(3)").InnerTextAsync());
        Assert.EndsWith(" left", await row.Locator("td.sla").InnerTextAsync(), StringComparison.Ordinal);
        // Marketing: the signed-in name, the nurture backlog, and no stage buttons on a lead.
        Assert.Equal("Mara Marketing", await dashboard.Page.InnerTextAsync("#user-name"));
        Assert.True(await dashboard.Page.IsVisibleAsync("#nurture-section"));
        await row.Locator("button.lead-open").ClickAsync();
        await dashboard.Page.WaitForSelectorAsync("#lead-section:not([hidden]) #timeline tbody tr");
        Assert.False(await dashboard.Page.IsVisibleAsync("#lead-actions"));
        Assert.Empty(await dashboard.CspViolationsAsync());
    }

    [Fact]
    public async Task A_sales_user_who_advances_a_lead_to_Customer_sees_the_move_with_their_name_and_reason_in_its_timeline()
    {
        // Arrange: the queue trigger runs, so the stage change goes through lead-events and the processor as in Azure.
        await using var storage = await RestartableAzurite.StartNewAsync();
        await using var host = await RunningLocalHost.StartAsync(storage.ConnectionString, triggers: true, User("Sally Sales", "sales"));
        var email = "won-" + Guid.NewGuid().ToString("N")[..8] + "@example.com";
        await host.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(
            Events.Form(email, DateTimeOffset.UtcNow.AddMinutes(-5), FormIntent.DemoRequest, profile: new() { ["firstName"] = "Wendy", ["lastName"] = "Won" }), CancellationToken.None);
        await using var chromium = await Chromium.LaunchAsync();
        var dashboard = await WorkspaceDashboard.OpenAsync(chromium, host.Client.BaseAddress!);
        await dashboard.SearchAndOpenAsync(email);
        Assert.Equal("Sally Sales", await dashboard.Page.InnerTextAsync("#user-name"));
        Assert.DoesNotContain(await dashboard.TimelineAsync("stage"), r => r[1].EndsWith("Customer", StringComparison.Ordinal));

        // Act
        await dashboard.Page.SelectOptionAsync("#advance-to", "customer");
        await dashboard.Page.FillAsync("#advance-reason", "signed the contract");
        await dashboard.Page.ClickAsync("#action-advance");
        await dashboard.Page.WaitForSelectorAsync("#timeline tbody tr.stage[data-to=Customer]");

        // Assert: the timeline shows the move, who made it and why; the lead reads as a Customer.
        var move = Assert.Single(await dashboard.TimelineAsync("stage"), r => r[1].EndsWith("Customer", StringComparison.Ordinal));
        Assert.Equal("SQL → Customer", move[1]);
        Assert.Contains("signed the contract", move[4], StringComparison.Ordinal);
        Assert.Contains("Sally Sales", move[4], StringComparison.Ordinal);
        Assert.StartsWith("Customer", await dashboard.Page.InnerTextAsync("#lead-stage"), StringComparison.Ordinal);
        Assert.Equal("Done: the lead is now Customer.", await dashboard.Page.InnerTextAsync("#action-message"));
        Assert.Empty(await dashboard.CspViolationsAsync());
        await dashboard.Page.ScreenshotAsync(new PageScreenshotOptions { Path = WorkspaceDashboard.ScreenshotPath("workspace-customer.png"), FullPage = true });
    }

    private static Dictionary<string, string?> User(string name, string roles) => new()
    {
        ["LocalHost:DevelopmentUser:Id"] = UserId,
        ["LocalHost:DevelopmentUser:Name"] = name,
        ["LocalHost:DevelopmentUser:Roles"] = roles,
    };
}
