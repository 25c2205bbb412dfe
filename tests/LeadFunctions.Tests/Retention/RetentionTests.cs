using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Retention;
using LeadFunctions.Leads;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Retention;

/// <summary>The retention runner over the real processor's rows in Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RetentionTests(AzuriteFixture azurite)
{
    private const string Email = "ada@example.com";

    [Fact]
    public async Task Folding_old_ledger_rows_keeps_the_score_equal_to_the_ledger_and_the_explanation_says_what_was_folded()
    {
        // Arrange: 12 page views and a download 200 days ago, then one page view yesterday.
        var harness = new ScoringHarness(azurite);
        var start = harness.Time.GetUtcNow();
        await harness.ProcessAsync([.. Enumerable.Range(0, 12).Select(i => Events.PageView(start.AddHours(i), $"https://example.com/blog/{i}", Email)), Events.Download(Email, start.AddHours(13))]);
        harness.Time.Advance(TimeSpan.FromDays(199));
        await harness.ProcessAsync([Events.PageView(harness.Time.GetUtcNow(), "https://example.com/blog/new", Email)]);
        harness.Time.Advance(TimeSpan.FromDays(1));
        var before = await harness.LeadAsync(Email);

        // Act
        var result = await Runner(harness, new RetentionOptions { LedgerDays = 30 }).RunOnceAsync(CancellationToken.None);

        // Assert
        var after = await harness.LeadAsync(Email);
        Assert.Equal(13, result.LedgerRowsFolded);
        Assert.True(result.PassCompleted);
        Assert.Equal(before.Lead.EngagementScore, after.Lead.EngagementScore, 6);
        Assert.Equal(after.Lead.EngagementScore, after.Ledger.Sum(l => l.PointsNow), 6);
        Assert.Equal(before.Ledger.Sum(l => l.PointsNow), after.Ledger.Sum(l => l.PointsNow), 6);
        var view = LeadResponse.From(after, suppression: null).Ledger;
        Assert.Equal(3, view.Count); // one carried-forward row per rule (page-view, bottom-download) and the recent page view
        var pageViews = Assert.Single(view, l => l.Folded is not null && l.Rule == "page-view");
        Assert.Equal(12, pageViews.Folded!.Rows);
        Assert.Equal(36, pageViews.Folded.PointsAwarded, 9);
        Assert.Equal(start, pageViews.Folded.From);
        Assert.Contains("carried forward: 12 ledger rows of page-view", pageViews.Note, StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(view, l => l.Rule == "bottom-download").Folded!.Rows);
    }

    [Fact]
    public async Task Folding_a_named_scores_old_rows_keeps_them_in_that_score_decayed_with_its_own_half_life()
    {
        // Arrange: product-b decays slowly (a year), the default score fast (10 days); three product-b pages 200 days ago.
        var model = NamedScoreStorageModel.Json.Replace("{ \"name\": \"product-b\",", "{ \"name\": \"product-b\", \"decay\": { \"halfLifeDays\": 365 },", StringComparison.Ordinal);
        var harness = new ScoringHarness(azurite, model);
        var start = harness.Time.GetUtcNow();
        await harness.ProcessAsync([.. Enumerable.Range(0, 3).Select(i => Events.PageView(start.AddHours(i), $"https://example.com/b/{i}", Email))]);
        harness.Time.Advance(TimeSpan.FromDays(200));
        var before = await harness.LeadAsync(Email);

        // Act
        var result = await Runner(harness, new RetentionOptions { LedgerDays = 30 }).RunOnceAsync(CancellationToken.None);

        // Assert: the folded row counts toward product-b, and product-b still equals its rows' sum (about 14 points, not ~0).
        var after = await harness.LeadAsync(Email);
        Assert.True(result.LedgerRowsFolded >= 3);
        var productB = after.Lead.Scores["product-b"];
        Assert.True(productB > 10, $"product-b is {productB}");
        Assert.Equal(before.Lead.Scores["product-b"], productB, 9);
        var folded = Assert.Single(after.Ledger, l => l.Folded is not null && l.RuleId == "b-pages");
        Assert.Equal("product-b", folded.Score);
        Assert.Equal(productB, after.Ledger.Where(l => l.Score == "product-b").Sum(l => l.PointsNow), 9);
        Assert.Equal(after.Lead.EngagementScore, after.Ledger.Where(l => l.Score == "engagement").Sum(l => l.PointsNow), 9);
    }

    [Fact]
    public async Task A_second_run_later_folds_newly_old_rows_into_the_same_row_and_the_sum_still_holds()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        for (var i = 0; i < 5; i++)
        {
            await harness.ProcessAsync([Events.PageView(harness.Time.GetUtcNow(), $"https://example.com/a/{i}", Email)]);
            harness.Time.Advance(TimeSpan.FromDays(i < 4 ? 20 : 10)); // page views on days 0, 20, 40, 60, 80; now day 90
        }
        var runner = Runner(harness, new RetentionOptions { LedgerDays = 30 });
        await runner.RunOnceAsync(CancellationToken.None);

        // Act: 40 days on, the rows from day 60 and 80 are old too.
        harness.Time.Advance(TimeSpan.FromDays(40));
        var second = await runner.RunOnceAsync(CancellationToken.None);

        // Assert
        var lead = await harness.LeadAsync(Email);
        Assert.Equal(2, second.LedgerRowsFolded);
        var fold = Assert.Single(lead.Ledger);
        Assert.Equal(5, fold.Folded!.Rows);
        Assert.Equal(lead.Lead.EngagementScore, fold.PointsNow, 6);
    }

    [Fact]
    public async Task Two_runs_at_once_fold_every_row_exactly_once()
    {
        // Arrange: 150 old rows of one rule, so the fold takes two transactions.
        var harness = new ScoringHarness(azurite);
        var start = harness.Time.GetUtcNow();
        await harness.ProcessAsync([.. Enumerable.Range(0, 150).Select(i => Events.PageView(start.AddMinutes(i), $"https://example.com/b/{i}", Email))]);
        harness.Time.Advance(TimeSpan.FromDays(60));
        var options = new RetentionOptions { LedgerDays = 30 };

        // Act
        await Task.WhenAll(Task.Run(() => Runner(harness, options).RunOnceAsync(CancellationToken.None)), Task.Run(() => Runner(harness, options).RunOnceAsync(CancellationToken.None)));
        await Runner(harness, options).RunOnceAsync(CancellationToken.None); // whatever a conflict left is folded now

        // Assert
        var lead = await harness.LeadAsync(Email);
        var fold = Assert.Single(lead.Ledger);
        Assert.Equal(150, fold.Folded!.Rows);
        Assert.Equal(450, fold.Folded.PointsAwarded, 9);
        Assert.Equal(lead.Lead.EngagementScore, fold.PointsNow, 6);
    }

    [Fact]
    public async Task A_run_that_crashes_between_two_fold_transactions_converges_on_the_next_run()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        var start = harness.Time.GetUtcNow();
        await harness.ProcessAsync([.. Enumerable.Range(0, 150).Select(i => Events.PageView(start.AddMinutes(i), $"https://example.com/c/{i}", Email))]);
        harness.Time.Advance(TimeSpan.FromDays(60));
        var options = new RetentionOptions { LedgerDays = 30 };
        var crashing = new CrashOnBatch(failingBatch: 2);
        var clientOptions = new TableClientOptions();
        clientOptions.AddPolicy(crashing, HttpPipelinePosition.PerCall);
        var crashingTable = new LeadsTable(new TableClient(azurite.ConnectionString, harness.Table.Client.Name, clientOptions));

        // Act
        await Assert.ThrowsAsync<IOException>(() => new RetentionRunner(crashingTable, harness.Model, harness.Time, Options.Create(options), NullLogger<RetentionRunner>.Instance).RunOnceAsync(CancellationToken.None));
        var halfway = await harness.LeadAsync(Email);
        await Runner(harness, options).RunOnceAsync(CancellationToken.None);

        // Assert: half-way, the first 99 rows are folded and the rest untouched; after the rerun all 150 are, once.
        Assert.Equal(99, Assert.Single(halfway.Ledger, l => l.Folded is not null).Folded!.Rows);
        Assert.Equal(halfway.Lead.EngagementScore, halfway.Ledger.Sum(l => l.PointsNow), 6);
        var lead = await harness.LeadAsync(Email);
        Assert.Equal(150, Assert.Single(lead.Ledger).Folded!.Rows);
        Assert.Equal(lead.Lead.EngagementScore, lead.Ledger.Sum(l => l.PointsNow), 6);
    }

    [Fact]
    public async Task Applied_event_rows_older_than_the_period_are_deleted_and_younger_ones_kept()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        await harness.ProcessAsync([Events.Download(Email, harness.Time.GetUtcNow()), Events.PageView(harness.Time.GetUtcNow(), "https://example.com/x", Email)]);
        harness.Time.Advance(TimeSpan.FromDays(100));
        await harness.ProcessAsync([Events.PageView(harness.Time.GetUtcNow(), "https://example.com/y", Email)]);

        // Act
        var result = await Runner(harness, new RetentionOptions { AppliedEventDays = 90 }).RunOnceAsync(CancellationToken.None);

        // Assert
        Assert.Equal(2, result.AppliedEventsDeleted);
        Assert.Equal(1, harness.AppliedEventRows(Email));
        Assert.Equal(3, (await harness.LeadAsync(Email)).Ledger.Count); // the ledger is not the applied events: it stays
    }

    [Fact]
    public async Task A_lead_inactive_past_the_period_is_erased_and_an_active_one_is_not()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        await harness.ProcessAsync([Events.Download("old@example.com", harness.Time.GetUtcNow())]);
        harness.Time.Advance(TimeSpan.FromDays(400));
        await harness.ProcessAsync([Events.Download(Email, harness.Time.GetUtcNow())]);
        var eraser = new PartitionEraser(harness.Table);

        // Act
        var result = await Runner(harness, new RetentionOptions { EraseInactiveAfterDays = 365 }, eraser).RunOnceAsync(CancellationToken.None);

        // Assert
        Assert.Equal(1, result.LeadsErased);
        var leadId = Assert.Single(eraser.Erased);
        Assert.Equal(ScoringHarness.LeadIdOf("old@example.com"), leadId);
        Assert.Null(await harness.Directory.FindAsync(leadId, CancellationToken.None));
        Assert.NotNull(await harness.Directory.FindAsync(ScoringHarness.LeadIdOf(Email), CancellationToken.None));
    }

    [Fact]
    public async Task Retention_is_off_by_default_and_touches_nothing()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        await harness.ProcessAsync([Events.Download(Email, harness.Time.GetUtcNow())]);
        harness.Time.Advance(TimeSpan.FromDays(3650));

        // Act
        var result = await Runner(harness, new RetentionOptions()).RunOnceAsync(CancellationToken.None);

        // Assert
        Assert.Equal(0, result.PagesRead);
        Assert.Equal(1, harness.AppliedEventRows(Email));
        Assert.Null(Assert.Single((await harness.LeadAsync(Email)).Ledger).Folded);
    }

    [Fact]
    public async Task A_run_with_a_page_budget_resumes_where_the_last_run_stopped()
    {
        // Arrange: 3 leads with old applied events, one page of one row per run.
        var harness = new ScoringHarness(azurite);
        await harness.ProcessAsync([.. Enumerable.Range(0, 3).Select(i => Events.Download($"p{i}@example.com", harness.Time.GetUtcNow()))]);
        harness.Time.Advance(TimeSpan.FromDays(100));
        var runner = new RetentionRunner(harness.Table, harness.Model, harness.Time, Options.Create(new RetentionOptions { AppliedEventDays = 90, MaxPagesPerRun = 1 }), NullLogger<RetentionRunner>.Instance, pageSize: 1);

        // Act
        var runs = new List<RetentionRunResult>();
        for (var i = 0; i < 4; i++)
            runs.Add(await runner.RunOnceAsync(CancellationToken.None));

        // Assert
        Assert.Equal(3, runs.Sum(r => r.AppliedEventsDeleted));
        Assert.All(runs.Take(3), r => Assert.Equal(1, r.AppliedEventsDeleted));
        Assert.Contains(runs, r => r.PassCompleted);
    }

    private static RetentionRunner Runner(ScoringHarness harness, RetentionOptions options, ILeadEraser? eraser = null) =>
        new(harness.Table, harness.Model, harness.Time, Options.Create(options), NullLogger<RetentionRunner>.Instance, eraser);

    /// <summary>Stands in for the erasure service (another part of this issue): deletes the lead's whole partition, and records the call.</summary>
    private sealed class PartitionEraser(LeadsTable table) : ILeadEraser
    {
        public List<string> Erased { get; } = [];

        public async Task<ErasureResult?> EraseAsync(string leadId, CancellationToken cancellationToken)
        {
            Erased.Add(leadId);
            await foreach (var row in table.Client.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadId}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
                await table.Client.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            return new ErasureResult(leadId, DateTimeOffset.UtcNow, 0, 0, 0);
        }
    }

    /// <summary>The process dies before the n-th entity-group transaction reaches storage.</summary>
    private sealed class CrashOnBatch(int failingBatch) : HttpPipelineSynchronousPolicy
    {
        private int _batches;

        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && Interlocked.Increment(ref _batches) == failingBatch)
                throw new IOException("crashed");
        }
    }
}
