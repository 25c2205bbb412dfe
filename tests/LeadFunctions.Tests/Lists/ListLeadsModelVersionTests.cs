using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Lists;

/// <summary>
/// List items say, as the detail does, which model version a lead's points come from and whether that is the active one, so a
/// marketer sees from the queue which leads still wait for a re-score. Through the local host and Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ListLeadsModelVersionTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task After_a_publish_list_items_say_which_leads_points_are_of_an_older_or_mixed_version_as_the_detail_and_search_do()
    {
        // Arrange: two SQLs scored by the model file.
        await using var host = await ListLeadsHttpTests.StartHostAsync(azurite, ("ScoringPublish:ModelsTable", AzuriteFixture.UniqueName("models")));
        var processor = host.Services.GetRequiredService<LeadEventProcessor>();
        var suffix = AzuriteFixture.UniqueName("ver");
        var grace = $"grace-{suffix}@example.com";
        var alan = $"alan-{suffix}@example.com";
        foreach (var email in new[] { grace, alan })
            await processor.ProcessAsync(Events.Form(email, DateTimeOffset.UtcNow, FormIntent.DemoRequest, profile: new() { ["firstName"] = "Test" }), CancellationToken.None);
        var model = JsonNode.Parse(ScoringHarness.ShippedModelJson(), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();
        var fileVersion = model["version"]!.GetValue<string>();
        var before = await ItemsAsync(host);

        // Act: publish the same rules as a new version (no re-score); then one more event for Grace, scored by the new version.
        model["version"] = fileVersion + "-next";
        using var published = await host.Client.PostAsJsonAsync(new Uri("/api/workspace/scoring/models", UriKind.Relative),
            new JsonObject { ["model"] = model, ["reason"] = "a new version to re-score against" });
        await processor.ProcessAsync(Events.PageView(DateTimeOffset.UtcNow, "https://www.example.com/pricing", grace), CancellationToken.None);
        var after = await ItemsAsync(host);
        var graceId = ScoringHarness.LeadIdOf(grace);
        using var detail = JsonDocument.Parse(await host.Client.GetStringAsync(new Uri($"/api/leads/{graceId}", UriKind.Relative)));
        using var search = await host.Client.PostAsJsonAsync(new Uri("/api/workspace/search", UriKind.Relative), new { email = grace });
        using var found = JsonDocument.Parse(await search.Content.ReadAsStringAsync());

        // Assert
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.All(before.Values, v => Assert.Equal((fileVersion, true), v));
        Assert.Equal((fileVersion, false), after[ScoringHarness.LeadIdOf(alan)]);
        Assert.Equal(fileVersion + "-next", found.RootElement.GetProperty("activeModelVersion").GetString());
        Assert.Equal((PointsVersion.Mixed, false), after[graceId]);
        Assert.Equal(after[graceId], Versions(detail.RootElement));
        Assert.Equal(after[graceId], Versions(found.RootElement));
    }

    [Fact]
    public async Task A_list_page_reads_the_lead_rows_for_model_versions_only_when_asked_and_refuses_an_unknown_include_naming_it()
    {
        // Arrange: one SQL.
        await using var host = await ListLeadsHttpTests.StartHostAsync(azurite, ("ScoringPublish:ModelsTable", AzuriteFixture.UniqueName("models")));
        var processor = host.Services.GetRequiredService<LeadEventProcessor>();
        var email = $"ada-{AzuriteFixture.UniqueName("inc")}@example.com";
        await processor.ProcessAsync(Events.Form(email, DateTimeOffset.UtcNow, FormIntent.DemoRequest, profile: new() { ["firstName"] = "Test" }), CancellationToken.None);

        // Act
        using var plain = JsonDocument.Parse(await host.Client.GetStringAsync(new Uri("/api/leads?stage=SQL", UriKind.Relative)));
        using var asked = JsonDocument.Parse(await host.Client.GetStringAsync(new Uri("/api/leads?stage=SQL&include=modelVersions", UriKind.Relative)));
        using var unknown = await host.Client.GetAsync(new Uri("/api/leads?stage=SQL&include=everything", UriKind.Relative));

        // Assert: without include the fields are null (no lead-row reads); with it they are set; anything else is a 400 naming include.
        var item = Assert.Single(plain.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("pointsModelVersion").ValueKind);
        Assert.Equal(JsonValueKind.Null, item.GetProperty("onActiveModel").ValueKind);
        Assert.Equal(JsonValueKind.Null, item.GetProperty("activeModelVersion").ValueKind);
        var askedItem = Assert.Single(asked.RootElement.GetProperty("items").EnumerateArray());
        Assert.True(Versions(askedItem).Item2);
        Assert.Equal(askedItem.GetProperty("pointsModelVersion").GetString(), askedItem.GetProperty("activeModelVersion").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        using var problem = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("include", out _), problem.RootElement.ToString());
    }

    private static async Task<Dictionary<string, (string?, bool?)>> ItemsAsync(RunningLocalHost host)
    {
        using var body = JsonDocument.Parse(await host.Client.GetStringAsync(new Uri("/api/leads?stage=SQL&limit=100&include=modelVersions", UriKind.Relative)));
        var items = body.RootElement.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("leadId").GetString()!, Versions);
        Assert.Equal(2, items.Count);
        return items;
    }

    private static (string?, bool?) Versions(JsonElement item) =>
        (item.GetProperty("pointsModelVersion").GetString(), item.GetProperty("onActiveModel").GetBoolean());
}
