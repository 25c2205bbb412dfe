using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Lists;

/// <summary>Building the lead index for leads stored before it existed (no anchor), against Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadIndexBackfillTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Thirty_leads_without_index_rows_are_listed_after_a_backfill_that_resumes_from_its_continuation()
    {
        // Arrange: 30 leads written by a processor without the index, as before lists existed.
        var scene = new Scene(azurite);
        await scene.SeedAsync("old", 30, indexed: false);
        Assert.Empty((await scene.ListAsync("Lead")));

        // Act: pages of 7 leads, 2 pages a call, each call resuming from the last one's continuation.
        var calls = await scene.RunToEndAsync(pageSize: 7, pages: 2);

        // Assert
        Assert.True(calls.Count >= 3, $"{calls.Count} calls");
        Assert.All(calls, c => Assert.True(c.Scanned <= 14, $"a call read {c.Scanned} leads"));
        Assert.Equal(30, calls.Sum(c => c.Indexed));
        Assert.Equal(30, calls.Sum(c => c.Scanned));
        var listed = await scene.ListAsync("Lead");
        Assert.Equal(30, listed.Select(i => i.LeadId).Distinct().Count());
        Assert.All(listed, i => Assert.Equal("Old Tester", i.Name));
    }

    [Fact]
    public async Task Leads_the_index_already_has_are_left_as_they_are_and_a_second_backfill_writes_nothing()
    {
        // Arrange: 5 leads indexed by the processor, 10 from before the index.
        var scene = new Scene(azurite);
        await scene.SeedAsync("live", 5, indexed: true);
        await scene.SeedAsync("old", 10, indexed: false);
        var before = scene.IndexRows().ToDictionary(r => (r.PartitionKey, r.RowKey), r => r.ETag);
        Assert.Equal(15, before.Count); // 5 leads: two list rows and an anchor each

        // Act
        var first = await scene.RunToEndAsync(pageSize: 4, pages: 1);
        var second = await scene.RunToEndAsync(pageSize: 100, pages: 1);

        // Assert: the live leads' rows are untouched (same ETags), the old ones added; the second run only reads.
        Assert.Equal(10, first.Sum(c => c.Indexed));
        Assert.Equal(5, first.Sum(c => c.AlreadyIndexed));
        var after = scene.IndexRows().ToDictionary(r => (r.PartitionKey, r.RowKey), r => r.ETag);
        Assert.All(before, row => Assert.Equal(row.Value, after[row.Key]));
        Assert.Equal(45, after.Count);
        Assert.Equal((0, 15, 0), (second.Sum(c => c.Indexed), second.Sum(c => c.AlreadyIndexed), second.Sum(c => c.Skipped)));
        Assert.Equal(15, (await scene.ListAsync("Lead")).Count);
    }

    [Fact]
    public async Task A_lead_erased_while_the_backfill_runs_is_not_indexed()
    {
        // Arrange: three leads from before the index; the erasure of one of them lands just as the backfill reaches it.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        foreach (var name in new[] { "ann", "bob", "cat" })
            await processor.ProcessAsync(Events.Form($"{name}@example.com", harness.Time.GetUtcNow(), FormIntent.ContentDownload, profile: Profile(name)), CancellationToken.None);
        var index = harness.Services.GetRequiredService<LeadIndexTable>();
        await ClearAsync(index.Client);
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var victim = ScoringHarness.LeadIdOf("bob@example.com");
        var eraser = harness.Services.GetRequiredService<ILeadEraser>();
        var options = new TableClientOptions();
        options.AddPolicy(new BeforeFirstRead(victim, () => eraser.EraseAsync(victim, CancellationToken.None)), HttpPipelinePosition.PerCall);
        var watched = new LeadIndexTable(new TableClient(azurite.ConnectionString, index.Client.Name, options));
        var backfill = new LeadIndexBackfill(harness.Services.GetRequiredService<LeadsTable>(), watched,
            new LeadIndexProjection(watched, NullLogger<LeadIndexProjection>.Instance), harness.Services.GetRequiredService<LeadFunctions.Domain.Scoring.ScoringModel>(),
            harness.Time, NullLogger<LeadIndexBackfill>.Instance, LeadIndexBackfill.PageSize);

        // Act
        var result = await backfill.RunAsync(null, 1, CancellationToken.None);

        // Assert: the others are listed, the erased one nowhere.
        Assert.Equal((3, 2, 0, 1), (result.Scanned, result.Indexed, result.AlreadyIndexed, result.Skipped));
        var rows = index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"LeadId eq {victim}")).ToList();
        Assert.All(rows, r => Assert.True(LeadIndexErasureGuard.IsErasureRow(r), $"{r.PartitionKey} {r.RowKey}"));
        var listed = (await harness.Services.GetRequiredService<LeadListService>().ListAsync(new LeadListRequest(Stage: "Lead"), CancellationToken.None)).Page!.Items;
        Assert.Equal(["Ann Tester", "Cat Tester"], listed.Select(i => i.Name).Order());
    }

    [Fact]
    public async Task The_backfill_endpoint_answers_what_it_did_and_refuses_a_bad_pages_value_naming_it()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        foreach (var name in new[] { "dan", "eve" })
            await processor.ProcessAsync(Events.Form($"{name}@example.com", harness.Time.GetUtcNow(), FormIntent.ContentDownload, profile: Profile(name)), CancellationToken.None);
        await ClearAsync(harness.Services.GetRequiredService<LeadIndexTable>().Client);
        var function = ActivatorUtilities.CreateInstance<LeadFunctions.Admin.BackfillLeadIndex>(harness.Services);

        // Act
        var done = await function.Run(Post("?pages=3"), CancellationToken.None);
        var bad = await function.Run(Post("?pages=21"), CancellationToken.None);

        // Assert
        var body = JsonSerializer.SerializeToElement(Assert.IsType<OkObjectResult>(done).Value);
        Assert.Equal(2, body.GetProperty("indexed").GetInt32());
        Assert.Equal(0, body.GetProperty("alreadyIndexed").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("continuation").ValueKind);
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(bad).Value);
        Assert.Contains("pages", problem.Errors.Keys);
    }

    private static Dictionary<string, string> Profile(string first) =>
        new() { ["firstName"] = char.ToUpperInvariant(first[0]) + first[1..], ["lastName"] = "Tester", ["company"] = first + " Ltd" };

    private static HttpRequest Post(string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/ops/leads/index/backfill";
        context.Request.QueryString = new QueryString(query);
        return context.Request;
    }

    /// <summary>Empties the index, as it was before lists were introduced.</summary>
    private static async Task ClearAsync(TableClient index)
    {
        foreach (var row in index.Query<TableEntity>().ToList())
            await index.DeleteEntityAsync(row.PartitionKey, row.RowKey);
    }

    /// <summary>Leads in a leads table, indexed by the processor or not, an index table, and the backfill over both.</summary>
    private sealed class Scene
    {
        public Scene(AzuriteFixture azurite)
        {
            Processors = new ProcessorFactory(azurite);
            var name = AzuriteFixture.UniqueName("index");
            Processors.Service.CreateTableIfNotExists(name);
            Index = new LeadIndexTable(Processors.Service.GetTableClient(name));
            Projection = new LeadIndexProjection(Index, NullLogger<LeadIndexProjection>.Instance);
            Lists = new LeadListService(Index, Processors.Model, Options.Create(new SalesAlertOptions()), Processors.Time);
        }

        public ProcessorFactory Processors { get; }
        public LeadIndexTable Index { get; }
        public LeadIndexProjection Projection { get; }
        public LeadListService Lists { get; }

        public async Task SeedAsync(string prefix, int count, bool indexed)
        {
            Processors.Projections = indexed ? [Projection] : [];
            var processor = Processors.New();
            for (var i = 0; i < count; i++)
            {
                var form = Events.Form($"{prefix}{i}@example.com", Processors.Time.GetUtcNow(), FormIntent.ContentDownload, profile: Profile(prefix));
                await processor.ProcessAsync(form, CancellationToken.None);
                Processors.Time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        /// <summary>Backfill calls, each from the previous one's continuation, until it answers none.</summary>
        public async Task<List<LeadIndexBackfillResult>> RunToEndAsync(int pageSize, int pages)
        {
            var backfill = new LeadIndexBackfill(Processors.Table, Index, Projection, Processors.Model, Processors.Time, NullLogger<LeadIndexBackfill>.Instance, pageSize);
            var calls = new List<LeadIndexBackfillResult>();
            string? continuation = null;
            do
            {
                var result = await backfill.RunAsync(continuation, pages, CancellationToken.None);
                calls.Add(result);
                continuation = result.Continuation;
            }
            while (continuation is not null && calls.Count < 100);
            return calls;
        }

        public List<TableEntity> IndexRows() => [.. Index.Client.Query<TableEntity>()];

        public async Task<List<LeadListItem>> ListAsync(string stage)
        {
            var items = new List<LeadListItem>();
            string? continuation = null;
            do
            {
                var page = (await Lists.ListAsync(new LeadListRequest(Stage: stage, Limit: "100", Continuation: continuation), CancellationToken.None)).Page!;
                items.AddRange(page.Items);
                continuation = page.Continuation;
            }
            while (continuation is not null);
            return items;
        }
    }

    /// <summary>Runs an action before the first read that names the lead: the moment between the backfill's page and its write.</summary>
    private sealed class BeforeFirstRead(string leadId, Func<Task> action) : HttpPipelinePolicy
    {
        private int _fired;

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method == RequestMethod.Get && message.Request.Uri.ToString().Contains(leadId, StringComparison.Ordinal)
                && Interlocked.Exchange(ref _fired, 1) == 0)
                await action();
            await ProcessNextAsync(message, pipeline);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The backfill is asynchronous.");
    }
}
