using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Xunit.Abstractions;

namespace LeadFunctions.Tests.Lists;

/// <summary>A page of leads costs a bounded number of storage requests, the same with 20,000 leads as with 200.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadListScaleTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly LeadListRequest[] Queries =
    [
        new(Stage: "SQL"),
        new(Stage: "SQL", Sort: "score"),
        new(Stage: "SQL", Sort: "score", MinScore: "40"),
        new(Stage: "SQL", MinScore: "40", Limit: "100"),
        new(Stage: "SQL", Grade: "A"),
        new(Stage: "SQL", Owner: "rep2@example.com", Sort: "score"),
        new(Stage: "SQL", UpdatedSince: "2025-03-03T09:00:00Z", Limit: "50"),
    ];

    [Fact]
    public async Task A_page_costs_at_most_three_storage_requests_with_20000_leads_as_with_200()
    {
        // Arrange: most leads are written straight into the index with the projection's own row layout (SeedActions), 99
        // actions per transaction, because 20,000 leads through the processor would take minutes against the emulator and
        // the page cost depends only on the index. A few hundred go through the processor, so real rows are among them.
        var small = new ListsHarness(azurite);
        await SeedAsync(small, 200);
        var large = new ListsHarness(azurite);
        await SeedAsync(large, 19_700);
        for (var i = 0; i < 300; i++)
            await large.Processor.ProcessAsync(Events.Form($"scale{i}@example.com", large.Now, FormIntent.DemoRequest), CancellationToken.None);

        foreach (var query in Queries)
        {
            // Act
            var (smallCost, _) = await PageCostAsync(small, query);
            var (largeCost, largePage) = await PageCostAsync(large, query);
            var (nextCost, _) = largePage.Continuation is { } token ? await PageCostAsync(large, query with { Continuation = token }) : (0, largePage);

            // Assert
            output.WriteLine($"{Describe(query)}: 200 leads {smallCost} request(s), 20,000 leads {largeCost} (next page {nextCost}), {largePage.Items.Count} items");
            Assert.InRange(largeCost, 1, LeadListService.MaxQueriesPerPage);
            Assert.InRange(nextCost, 0, LeadListService.MaxQueriesPerPage);
            Assert.Equal(smallCost, largeCost);
        }
        var top = (await large.ListAsync(new LeadListRequest(Stage: "SQL", Sort: "score", Limit: "100"))).Items;
        Assert.Equal(100, top.Count);
        Assert.Equal(top.Select(i => i.Score).OrderDescending(), top.Select(i => i.Score));
        Assert.Equal(300, large.Index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"stage|SQL"} and RowKey ge {"n|"} and RowKey lt {"n}"} and FitGrade eq {"D"} and UpdatedAt ge {large.Now.AddSeconds(-1)}"), select: ["RowKey"]).Count());
    }

    [Fact]
    public async Task An_event_that_changes_an_indexed_lead_costs_the_processor_and_one_transaction_per_index_partition_when_this_instance_wrote_the_anchor_last()
    {
        var lists = new ListsHarness(azurite);
        const string email = "cost-index@example.com";
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload), CancellationToken.None);
        lists.Processors.Counter.Reset();

        const int events = 20;
        for (var i = 0; i < events; i++)
            await lists.Processor.ProcessAsync(Events.PageView(lists.Now, $"https://example.com/blog/{i}", email), CancellationToken.None);

        var counter = lists.Processors.Counter;
        output.WriteLine($"with the lead index: {(double)counter.Total / events:0.00} requests per event ({counter.Reads} reads, {counter.Batches} transactions, {counter.Others} other)");
        // Processor: read + transaction; index: one transaction (one partition, no owner), written against the anchor this
        // projection remembers from the lead's previous event instead of reading it; no delete (the work is the lead's kept
        // latest-snapshot row).
        Assert.Equal(3 * events, counter.Total);
        Assert.Equal(events, counter.Reads);
    }

    private static async Task<(long Cost, LeadListPage Page)> PageCostAsync(ListsHarness lists, LeadListRequest query)
    {
        lists.Processors.Counter.Reset();
        var page = await lists.ListAsync(query);
        return (lists.Processors.Counter.Total, page);
    }

    private static string Describe(LeadListRequest q) =>
        string.Join('&', new[] { ("stage", q.Stage), ("owner", q.Owner is null ? null : "…"), ("minScore", q.MinScore), ("grade", q.Grade), ("updatedSince", q.UpdatedSince), ("sort", q.Sort), ("limit", q.Limit) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={p.Item2}"));

    /// <summary>SQLs with spread-out scores and times; one in 50 graded A; one in 4 owned by one of ten reps.</summary>
    private static async Task SeedAsync(ListsHarness lists, int count)
    {
        var now = lists.Now;
        var actions = Enumerable.Range(0, count).SelectMany(i =>
        {
            var at = now.AddMinutes(-i);
            var lead = LeadIndexTests.Snapshot(LifecycleStage.Sql, at, 10 + i % 97, at.AddSeconds(-i % 13), eventCount: 1, grade: i % 50 == 0 ? "A" : "C")
                with { Owner = i % 4 == 0 ? $"rep{i % 10}@example.com" : null, Name = "Seeded " + i };
            return LeadIndexProjection.SeedActions($"seed-{i:D6}", lead);
        });
        var batches = actions.GroupBy(a => a.Partition).SelectMany(g => g.Select(a => a.Action).Chunk(99)).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (batch, ct) => await lists.Index.Client.SubmitTransactionAsync(batch, ct));
    }
}
