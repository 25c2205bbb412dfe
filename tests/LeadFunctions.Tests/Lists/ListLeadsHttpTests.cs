using System.Net;
using System.Text.Json;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Lists;

/// <summary><c>GET /api/leads</c> through the local host: the processor keeps the index as registered, the function serves it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ListLeadsHttpTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task SQLs_processed_by_the_app_are_listed_page_by_page_and_a_bad_query_is_a_400_problem_naming_the_field()
    {
        // Arrange
        await using var host = await StartHostAsync(azurite);
        var processor = host.Services.GetRequiredService<LeadEventProcessor>();
        var suffix = AzuriteFixture.UniqueName("http");
        foreach (var name in new[] { "Grace", "Alan" })
        {
            await processor.ProcessAsync(Events.Form($"{name}-{suffix}@example.com", DateTimeOffset.UtcNow, FormIntent.DemoRequest,
                profile: new() { ["firstName"] = name, ["lastName"] = "Example", ["company"] = "Acme" }), CancellationToken.None);
        }

        // Act
        using var first = await host.Client.GetAsync(new Uri("/api/leads?stage=SQL&sort=score&limit=1", UriKind.Relative));
        using var firstBody = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var token = firstBody.RootElement.GetProperty("continuation").GetString()!;
        using var second = await host.Client.GetAsync(new Uri($"/api/leads?stage=SQL&sort=score&limit=1&continuation={Uri.EscapeDataString(token)}", UriKind.Relative));
        using var secondBody = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        using var tampered = await host.Client.GetAsync(new Uri($"/api/leads?stage=SQL&sort=newest&limit=1&continuation={Uri.EscapeDataString(token)}", UriKind.Relative));
        using var badLimit = await host.Client.GetAsync(new Uri("/api/leads?limit=500", UriKind.Relative));

        // Assert
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var item = Assert.Single(firstBody.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("SQL", item.GetProperty("stage").GetString());
        Assert.Equal("Acme", item.GetProperty("company").GetString());
        Assert.EndsWith(" Example", item.GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.True(item.GetProperty("score").GetDouble() > 59);
        Assert.Equal(JsonValueKind.String, item.GetProperty("slaDueAt").ValueKind);
        foreach (var field in new[] { "leadId", "stageChangedAt", "owner", "fitGrade", "updatedAt" })
            Assert.True(item.TryGetProperty(field, out _), field);
        Assert.DoesNotContain("@", token, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var next = Assert.Single(secondBody.RootElement.GetProperty("items").EnumerateArray());
        Assert.NotEqual(item.GetProperty("leadId").GetString(), next.GetProperty("leadId").GetString());
        Assert.Equal(JsonValueKind.Null, secondBody.RootElement.GetProperty("continuation").ValueKind);

        await AssertProblemAsync(tampered, "continuation");
        await AssertProblemAsync(badLimit, "limit");
    }

    /// <summary>The local host signed in as the development user, over a leads table and lead index of its own (and any other settings given).</summary>
    internal static Task<RunningLocalHost> StartHostAsync(AzuriteFixture azurite, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Lists:IndexTable"] = AzuriteFixture.UniqueName("index"),
        };
        foreach (var (key, value) in settings)
            all[key] = value;
        return RunningLocalHost.StartAsync(azurite, triggers: false, SignedIn.DevelopmentUser(settings: all));
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), field);
    }
}
