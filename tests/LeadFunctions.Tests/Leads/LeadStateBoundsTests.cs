using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Tests.Capture;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace LeadFunctions.Tests.Leads;

/// <summary>No sequence of requests can break a lead: its row stays within Table Storage's limits whatever is posted at its address.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadStateBoundsTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const string Victim = "ceo@victim.example";
    private static readonly string[] Roles = ["student", "developer", "other"];
    private static readonly string[] Sizes = ["1-10", "11-50"];

    [Fact]
    public async Task After_5000_hostile_requests_at_one_address_its_genuine_demo_request_still_makes_an_sql_and_alerts_sales()
    {
        // Arrange: the real processor with nurture and sales alerts, fed by the capture functions.
        await using var nurture = new NurtureHarness(azurite, realLeads: true);
        var rescore = new Scoring.RescoreLead(nurture.Services.GetRequiredService<LeadEventProcessor>(), NullLogger<Scoring.RescoreLead>.Instance);
        await using var pipeline = await CapturePipeline.StartAsync(azurite, m => rescore.Run(m, CancellationToken.None), nurture.Time.GetUtcNow());
        var table = nurture.Services.GetRequiredService<LeadsTable>().Client;
        var leadId = TestLeadIds.Identity.LeadIdFor(Victim);
        var seeded = Enumerable.Range(0, 500).Select(_ => CapturePipeline.NewVisitorId()).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // 3,000 page views (two each from 500 visitors that the first forms name, so their views are stitched, and one each
        // from 2,000 fresh visitors), then 2,000 newsletter and whitepaper sign-ups with the victim's address, the rest with a
        // fresh visitor id each; consent ticked, profile values varied. None of it qualifies the lead (no fit).
        var flood = Task.Run(async () =>
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 3000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
                await pipeline.PageViewAsync(i < 2 * seeded.Length ? seeded[i % seeded.Length] : CapturePipeline.NewVisitorId(), $"https://www.example.com/blog/{i}"));
            await Parallel.ForEachAsync(Enumerable.Range(0, 2000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                var visitor = i < seeded.Length ? seeded[i] : CapturePipeline.NewVisitorId();
                if (i % 2 == 0)
                    await pipeline.PostFormAsync("newsletter", new Dictionary<string, string> { ["email"] = Victim, ["firstName"] = $"N{i}", ["consent"] = "on", ["visitorId"] = visitor });
                else
                    await pipeline.PostFormAsync("whitepaper-lead-scoring", new Dictionary<string, string>
                    {
                        ["email"] = Victim, ["firstName"] = $"W{i}", ["lastName"] = $"L{i}", ["company"] = $"Company {i}",
                        ["role"] = Roles[i % Roles.Length], ["companySize"] = Sizes[i % Sizes.Length], ["consent"] = "on", ["visitorId"] = visitor,
                    });
            });
            output.WriteLine($"posted in {clock.Elapsed}");
        });
        await pipeline.ProcessUntilAsync(flood, parallelism: 32);
        output.WriteLine($"5,000 hostile requests posted and processed in {clock.Elapsed}; {pipeline.Processed} processed, {pipeline.Failures} failed deliveries");
        foreach (var error in pipeline.Errors)
            output.WriteLine(error);

        // Act: the person behind the address asks for a demo.
        var demo = await pipeline.PostFormAsync(DemoRequest.FormId, DemoRequest.Fields().Where(f => f.Key != "website").ToDictionary(f => f.Key, f => f.Key == "email" ? Victim : f.Value));
        await pipeline.DrainAsync();
        await nurture.RunAsync();

        // Assert: an SQL caused by that request, the sales alert sent, nothing poisoned, and every property of the row in bounds.
        var lead = (await nurture.Services.GetRequiredService<ILeadDirectory>().FindAsync(leadId, CancellationToken.None))!;
        Assert.Equal(LifecycleStage.Sql, lead.Lead.Stage);
        Assert.Contains(lead.History, h => h.To == LifecycleStage.Sql && h.EventId == demo);
        Assert.Contains(await nurture.MessagesAsync(), m => (m.Subject ?? "").StartsWith("New SQL", StringComparison.Ordinal));
        Assert.Equal(0, await pipeline.PoisonedAsync());
        Assert.Equal(0, pipeline.Failures);
        var row = (await table.GetEntityAsync<TableEntity>(leadId, LeadRows.Lead)).Value;
        Assert.All(row.Select(p => p.Value).OfType<string>(), value => Assert.True(value.Length < LeadRowBounds.MaxStringLength));
        Assert.True(JsonArrayLength(row.GetString("LinkedVisitorsJson")) <= new ScoringOptions().MaxLinkedVisitors);
        Assert.True(JsonArrayLength(row.GetString("ConsentsJson")) <= LeadRowBounds.MaxConsents);
        output.WriteLine($"Whole test body took {clock.Elapsed}");
    }

    private static int JsonArrayLength(string json) => System.Text.Json.JsonDocument.Parse(json).RootElement.GetArrayLength();
}
