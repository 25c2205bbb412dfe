using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using LeadFunctions.Admin;
using LeadFunctions.Cli;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Tests.Leads;

[Collection(AzuriteCollection.Name)]
public sealed class ScoringDryRunTests(AzuriteFixture azurite)
{
    private const string Engaged = "engaged@example.com";
    private const string Quiet = "quiet@example.com";

    /// <summary>The harness model with the MQL bar raised from 50 to 60.</summary>
    private static readonly string StricterMql = ScoringHarness.ModelJson
        .Replace("\"mql\": { \"minEngagement\": 50", "\"mql\": { \"minEngagement\": 60", StringComparison.Ordinal)
        .Replace("it-1", "it-2", StringComparison.Ordinal);

    private static readonly string InvalidModel = ScoringHarness.ModelJson
        .Replace("\"id\": \"demo\", \"points\": 60", "\"id\": \"demo\", \"points\": \"lots\"", StringComparison.Ordinal);

    [Fact]
    public async Task A_dry_run_of_leads_the_processor_scored_moves_the_one_just_over_the_raised_bar_out_of_MQL_and_writes_nothing()
    {
        // Arrange: one lead at 51 points (a CTO: grade B) and one at 15, both through the real processor.
        var harness = new ScoringHarness(azurite);
        var now = harness.Time.GetUtcNow();
        var cto = new Dictionary<string, string> { ["role"] = "CTO" };
        await harness.ProcessAsync([
            Events.Form(Engaged, now, FormIntent.ContentDownload, profile: cto),
            Events.Download(Engaged, now),
            Events.PageView(now, "https://example.com/blog/a", Engaged),
            Events.PageView(now, "https://example.com/blog/b", Engaged),
            Events.Form(Quiet, now, FormIntent.ContentDownload, profile: cto),
        ]);
        Assert.Equal(Domain.Leads.LifecycleStage.Mql, (await harness.LeadAsync(Engaged)).Lead.Stage);
        var rowsBefore = CountRows(harness.Table.Client);

        // Act
        var result = await Function(harness).Run(Post(StricterMql), CancellationToken.None);

        // Assert
        var content = Assert.IsType<ContentResult>(result);
        using var report = JsonDocument.Parse(content.Content!);
        var root = report.RootElement;
        Assert.Equal(2, root.GetProperty("leads").GetInt32());
        Assert.Equal(5, root.GetProperty("events").GetInt32());
        Assert.Equal(0, root.GetProperty("storedStageMismatches").GetInt32());
        var leaving = Assert.Single(root.GetProperty("mql").GetProperty("leaving").EnumerateArray());
        Assert.Equal(ScoringHarness.LeadIdOf(Engaged), leaving.GetProperty("leadId").GetString());
        Assert.Equal("Lead", leaving.GetProperty("afterStage").GetString());
        Assert.Equal(rowsBefore, CountRows(harness.Table.Client));
    }

    /// <summary>The harness model with a named score, product-a (docs visits, 15 each), that qualifies for MQL at 40.</summary>
    private static readonly string WithProductA = ScoringHarness.ModelJson
        .Replace("\"fitRules\": [", """
            "scores": [ { "name": "product-a", "rules": [ { "id": "a-docs", "points": 15, "match": { "eventType": "page-view", "url": "*/a/docs*" } } ] } ],
            "fitRules": [
            """, StringComparison.Ordinal)
        .Replace("\"mql\": { \"minEngagement\": 50, \"minGrade\": \"C\" }", "\"mql\": { \"minEngagement\": 50, \"minGrade\": \"C\", \"orScores\": { \"product-a\": 40 } }", StringComparison.Ordinal);

    [Fact]
    public async Task The_dry_run_endpoint_reports_a_named_score_s_bands_and_the_leads_its_change_lifts_over_its_MQL_bar()
    {
        // Arrange: a CTO with two docs visits through the processor: product-a 30, under the bar of 40, so a Lead.
        var harness = new ScoringHarness(azurite, WithProductA);
        var now = harness.Time.GetUtcNow();
        await harness.ProcessAsync([
            Events.Form(Engaged, now, FormIntent.ContentDownload, profile: new() { ["role"] = "CTO" }),
            Events.PageView(now, "https://example.com/a/docs/setup", Engaged),
            Events.PageView(now, "https://example.com/a/docs/api", Engaged),
        ]);
        Assert.Equal(Domain.Leads.LifecycleStage.Lead, (await harness.LeadAsync(Engaged)).Lead.Stage);
        var proposal = WithProductA.Replace("\"points\": 15, \"match\": { \"eventType\": \"page-view\", \"url\": \"*/a/docs*\"", "\"points\": 25, \"match\": { \"eventType\": \"page-view\", \"url\": \"*/a/docs*\"", StringComparison.Ordinal)
            .Replace("it-1", "it-2", StringComparison.Ordinal);

        // Act
        var result = await Function(harness).Run(Post(proposal), CancellationToken.None);

        // Assert: product-a goes from 25-49 to 50-74, and the lead rises across the bar (so becomes an MQL).
        using var report = JsonDocument.Parse(Assert.IsType<ContentResult>(result).Content!);
        var named = Assert.Single(report.RootElement.GetProperty("namedScores").EnumerateArray());
        Assert.Equal("product-a", named.GetProperty("name").GetString());
        Assert.Equal(1, Band(named.GetProperty("before"), "25-49"));
        Assert.Equal(1, Band(named.GetProperty("after"), "50-74"));
        var mql = named.GetProperty("mql");
        Assert.Equal((40d, 40d, 0, 1, 1, 0), (mql.GetProperty("beforeBar").GetDouble(), mql.GetProperty("afterBar").GetDouble(),
            mql.GetProperty("atOrAboveBefore").GetInt32(), mql.GetProperty("atOrAboveAfter").GetInt32(), mql.GetProperty("rising").GetInt32(), mql.GetProperty("falling").GetInt32()));
        Assert.False(named.TryGetProperty("sql", out _));
        Assert.Equal(1, report.RootElement.GetProperty("mql").GetProperty("enteringCount").GetInt32());
    }

    private static long Band(JsonElement bands, string name) =>
        bands.EnumerateArray().Single(b => b.GetProperty("name").GetString() == name).GetProperty("count").GetInt64();

    [Fact]
    public async Task The_dry_run_endpoint_answers_a_body_that_is_not_JSON_with_a_400_naming_the_model()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);

        // Act
        var result = await Function(harness).Run(Post("{ not json"), CancellationToken.None);

        // Assert
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Contains("not valid JSON", Assert.Single(problem.Errors["model"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dry_run_endpoint_answers_an_invalid_model_with_a_400_naming_the_rule_and_field()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);

        // Act
        var result = await Function(harness).Run(Post(InvalidModel), CancellationToken.None);

        // Assert
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Contains(problem.Errors["model"], e => e.Contains("(demo)", StringComparison.Ordinal) && e.Contains("points", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_dry_run_endpoint_refuses_a_lead_limit_above_its_bound()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        var request = Post(StricterMql);
        request.QueryString = new QueryString("?limit=5001");

        // Act
        var result = await Function(harness).Run(request, CancellationToken.None);

        // Assert
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.True(problem.Errors.ContainsKey("limit"));
    }

    [Fact]
    public async Task The_CLI_exits_with_2_and_names_the_rule_and_field_of_an_invalid_model()
    {
        // Arrange
        var path = Path.Combine(Path.GetTempPath(), "proposed-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(path, InvalidModel);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        try
        {
            // Act
            var exit = await new CliCommands(stdout, stderr, _ => null).RunAsync(["scoring", "dry-run", path], CancellationToken.None);

            // Assert
            Assert.Equal(CliCommands.InvalidModel, exit);
            Assert.Contains("engagementRules[0] (demo): points must be a number", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static RunScoringDryRun Function(ScoringHarness harness)
    {
        var config = Path.Combine(AppContext.BaseDirectory, "config");
        var service = new ScoringDryRunService(harness.Table, harness.Model,
            FormCatalog.Load(Path.Combine(config, "forms.json")), ContentCatalogue.Load(Path.Combine(config, "content.json")), harness.Time);
        return new RunScoringDryRun(service);
    }

    private static HttpRequest Post(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        return context.Request;
    }

    private static int CountRows(TableClient table) => table.Query<TableEntity>(select: ["PartitionKey"]).Count();
}
