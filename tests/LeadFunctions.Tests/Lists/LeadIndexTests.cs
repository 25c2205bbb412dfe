using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace LeadFunctions.Tests.Lists;

/// <summary>The lead index kept by the processor's projection, and lists served from it, against Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadIndexTests(AzuriteFixture azurite)
{
    private static Dictionary<string, string> Profile(string first, string role = "Engineer") =>
        new() { ["firstName"] = first, ["lastName"] = "Tester", ["company"] = first + " Ltd", ["role"] = role };

    [Fact]
    public async Task A_stage_change_through_the_processor_moves_the_lead_to_the_new_stage_partition_and_removes_the_old_rows()
    {
        // Arrange
        var lists = new ListsHarness(azurite);
        const string email = "mover@example.com";
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Ada")), CancellationToken.None);
        Assert.Equal(["stage|Lead", "stage|Lead"], lists.IndexRowsOf(email).Select(r => r.Partition));

        // Act
        lists.Processors.Time.Advance(TimeSpan.FromHours(1));
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.DemoRequest), CancellationToken.None);

        // Assert
        Assert.Equal(["stage|SQL", "stage|SQL"], lists.IndexRowsOf(email).Select(r => r.Partition));
        Assert.Empty((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items);
        var item = Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "SQL"))).Items);
        Assert.Equal(ScoringHarness.LeadIdOf(email), item.LeadId);
        Assert.Equal("Ada Tester", item.Name);
        Assert.Equal("Ada Ltd", item.Company);
        Assert.Equal(LifecycleStage.Sql, item.Stage);
        Assert.Equal(lists.Now, item.StageChangedAt);
        Assert.Equal(75, item.Score, 0);
        Assert.Equal(lists.Now + SlaLadder.Default.Deadline, item.SlaDueAt);
        Assert.Empty(lists.Processors.WorkRows(email));
    }

    [Fact]
    public async Task A_crash_between_the_commit_and_the_index_is_finished_by_the_redelivery_with_exactly_the_right_rows()
    {
        // Arrange: the projection's storage fails once, as a worker dying right after the commit would leave it.
        var lists = new ListsHarness(azurite, inner => new FailingOnce(inner, failBefore: true));
        const string email = "crash@example.com";
        var form = Events.Form(email, lists.Now, FormIntent.DemoRequest, profile: Profile("Bo"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => lists.Processor.ProcessAsync(form, CancellationToken.None));
        Assert.Empty(lists.IndexRowsOf(email));
        Assert.Single(lists.Processors.WorkRows(email));

        // Act: the queue delivers the message again, to another instance.
        var result = await lists.Processors.New().ProcessAsync(form, CancellationToken.None);

        // Assert
        Assert.Equal(LeadEventOutcome.AlreadyApplied, result.Outcome);
        Assert.Equal(["stage|SQL", "stage|SQL"], lists.IndexRowsOf(email).Select(r => r.Partition));
        Assert.Empty(lists.Processors.WorkRows(email));
    }

    [Fact]
    public async Task A_projection_that_ran_but_died_before_its_work_row_was_deleted_runs_again_harmlessly()
    {
        // Arrange: the index is written, then the worker dies before the work row goes.
        var lists = new ListsHarness(azurite, inner => new FailingOnce(inner, failBefore: false));
        const string email = "twice@example.com";
        var form = Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Cy"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => lists.Processor.ProcessAsync(form, CancellationToken.None));

        // Act
        await lists.Processor.ProcessAsync(form, CancellationToken.None);
        await lists.Processor.ProcessAsync(form, CancellationToken.None);

        // Assert
        Assert.Equal(2, lists.IndexRowsOf(email).Count);
        Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items);
        Assert.Empty(lists.Processors.WorkRows(email));
    }

    [Fact]
    public async Task Works_that_arrive_out_of_order_do_not_resurrect_the_older_rows()
    {
        // Arrange: two works of one lead: it became a Lead (event 1), then an SQL (event 2).
        var lists = new ListsHarness(azurite);
        var t1 = lists.Now;
        var t2 = t1.AddHours(2);
        var asLead = Snapshot(LifecycleStage.Lead, t1, 15, t1, eventCount: 1);
        var asSql = Snapshot(LifecycleStage.Sql, t2, 75, t2, eventCount: 2);
        const string leadId = "lead-out-of-order";
        var first = new LeadProjectionWork(leadId, "e1", t1, null, asLead, []);
        var second = new LeadProjectionWork(leadId, "e2", t2, asLead, asSql, []);

        // Act: the later work first, then the earlier one (a retried delivery), then the later one again.
        await lists.Projection.ProjectAsync(second, CancellationToken.None);
        await lists.Projection.ProjectAsync(first, CancellationToken.None);
        await lists.Projection.ProjectAsync(second, CancellationToken.None);

        // Assert
        Assert.Empty((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items);
        Assert.Equal(leadId, Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "SQL"))).Items).LeadId);
        var rows = lists.Index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"LeadId eq {leadId}")).ToList();
        Assert.Equal(2, rows.Count(r => r.PartitionKey == "stage|SQL" && !r.RowKey.StartsWith("l|", StringComparison.Ordinal)));
        Assert.DoesNotContain(rows, r => r.PartitionKey == "stage|Lead" && !r.RowKey.StartsWith("l|", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_instance_whose_remembered_anchor_another_instance_has_since_replaced_reads_it_again_and_leaves_the_right_rows()
    {
        // Arrange: two instances' projections over one index. Instance A indexes the lead as a Lead (and remembers its anchor),
        // instance B then moves it to MQL; A has not seen that.
        var lists = new ListsHarness(azurite);
        var other = new LeadIndexProjection(lists.Index, NullLogger<LeadIndexProjection>.Instance);
        var t1 = lists.Now;
        var asLead = Snapshot(LifecycleStage.Lead, t1, 15, t1, eventCount: 1);
        var asLeadAgain = Snapshot(LifecycleStage.Lead, t1.AddHours(1), 20, t1.AddHours(1), eventCount: 2);
        var asSql = Snapshot(LifecycleStage.Sql, t1.AddHours(2), 75, t1.AddHours(2), eventCount: 3);
        const string leadId = "lead-two-instances";
        await lists.Projection.ProjectAsync(new LeadProjectionWork(leadId, "e1", t1, null, asLead, []), CancellationToken.None);
        await other.ProjectAsync(new LeadProjectionWork(leadId, "e2", t1.AddHours(1), asLead, asLeadAgain, []), CancellationToken.None);

        // Act: A writes the third event with what it remembers from the first.
        await lists.Projection.ProjectAsync(new LeadProjectionWork(leadId, "e3", t1.AddHours(2), asLeadAgain, asSql, []), CancellationToken.None);

        // Assert: the stale ETag was refused, A read the anchor and replaced B's rows; nothing of the Lead partition is left.
        Assert.Empty((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items);
        var sql = Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "SQL"))).Items);
        Assert.Equal(leadId, sql.LeadId);
        var rows = lists.Index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"LeadId eq {leadId}")).ToList();
        Assert.DoesNotContain(rows, r => r.PartitionKey == "stage|Lead" && !r.RowKey.StartsWith("l|", StringComparison.Ordinal));
        Assert.Equal(2, rows.Count(r => r.PartitionKey == "stage|SQL" && !r.RowKey.StartsWith("l|", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Filters_and_both_sorts_return_the_right_leads_in_the_right_order()
    {
        // Arrange: four Leads. A (15 points, first), B (75 points, half an hour later), C (15, grade B, an hour later),
        // D (18, two hours later); and E, owned by a rep.
        var lists = new ListsHarness(azurite);
        var start = lists.Now;
        await lists.Processor.ProcessAsync(Events.Form("a@example.com", lists.Now, FormIntent.ContentDownload, profile: Profile("A")), CancellationToken.None);
        lists.Processors.Time.Advance(TimeSpan.FromMinutes(30));
        await lists.Processor.ProcessAsync(Events.Form("b@example.com", lists.Now, FormIntent.ContentDownload, profile: Profile("B")), CancellationToken.None);
        await lists.Processor.ProcessAsync(Events.Download("b@example.com", lists.Now), CancellationToken.None);
        await lists.Processor.ProcessAsync(Events.Download("b@example.com", lists.Now), CancellationToken.None);
        lists.Processors.Time.Advance(TimeSpan.FromMinutes(30));
        await lists.Processor.ProcessAsync(Events.Form("c@example.com", lists.Now, FormIntent.ContentDownload, profile: Profile("C", role: "CTO")), CancellationToken.None);
        lists.Processors.Time.Advance(TimeSpan.FromHours(1));
        await lists.Processor.ProcessAsync(Events.Form("d@example.com", lists.Now, FormIntent.ContentDownload, profile: Profile("D")), CancellationToken.None);
        await lists.Processor.ProcessAsync(Events.PageView(lists.Now, "https://example.com/blog/1", "d@example.com"), CancellationToken.None);
        lists.Processors.Time.Advance(TimeSpan.FromMinutes(1));
        await lists.Projection.ProjectAsync(new LeadProjectionWork("lead-owned", "e1", lists.Now, null,
            Snapshot(LifecycleStage.Lead, lists.Now, 40, lists.Now, eventCount: 1) with { Owner = "Rep@Example.com" }, []), CancellationToken.None);
        string[] Names(LeadListPage page) => [.. page.Items.Select(i => i.Name ?? i.LeadId)];

        // Act + Assert
        Assert.Equal(["lead-owned", "D Tester", "C Tester", "B Tester", "A Tester"], Names(await lists.ListAsync(new LeadListRequest(Stage: "lead"))));
        Assert.Equal(["B Tester", "lead-owned", "D Tester", "C Tester", "A Tester"], Names(await lists.ListAsync(new LeadListRequest(Stage: "Lead", Sort: "score"))));
        Assert.Equal(["C Tester"], Names(await lists.ListAsync(new LeadListRequest(Stage: "Lead", Grade: "b"))));
        Assert.Equal(["B Tester", "lead-owned", "D Tester"], Names(await lists.ListAsync(new LeadListRequest(Stage: "Lead", Sort: "score", MinScore: "17"))));
        Assert.Equal(["lead-owned", "D Tester", "B Tester"], Names(await lists.ListAsync(new LeadListRequest(Stage: "Lead", MinScore: "17"))));
        Assert.Equal(["lead-owned", "D Tester", "C Tester"], Names(await lists.ListAsync(new LeadListRequest(Stage: "Lead", UpdatedSince: start.AddMinutes(45).ToString("O")))));
        Assert.Equal(["lead-owned"], Names(await lists.ListAsync(new LeadListRequest(Stage: "Lead", Owner: " rep@example.com"))));
        Assert.Empty((await lists.ListAsync(new LeadListRequest(Stage: "SQL", Owner: "rep@example.com"))).Items);
        Assert.Equal(["lead-owned", "D Tester"], Names(await lists.ListAsync(new LeadListRequest(Stage: "Lead", Grade: "D", Limit: "2"))));
    }

    [Fact]
    public async Task Following_the_continuation_walks_every_matching_lead_exactly_once_in_order()
    {
        // Arrange: 60 Leads through the processor, a minute apart, with growing engagement.
        var lists = new ListsHarness(azurite);
        for (var i = 0; i < 60; i++)
        {
            var email = $"walk{i}@example.com";
            await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("W" + i)), CancellationToken.None);
            for (var v = 0; v < i % 4; v++)
                await lists.Processor.ProcessAsync(Events.PageView(lists.Now, $"https://example.com/blog/{v}", email), CancellationToken.None);
            lists.Processors.Time.Advance(TimeSpan.FromMinutes(1));
        }

        foreach (var sort in new[] { "newest", "score" })
        {
            // Act
            var walked = await lists.WalkAsync(new LeadListRequest(Stage: "Lead", Sort: sort, Limit: "7"));
            var whole = await lists.ListAsync(new LeadListRequest(Stage: "Lead", Sort: sort, Limit: "100"));

            // Assert
            Assert.Equal(60, walked.Count);
            Assert.Equal(60, walked.Select(i => i.LeadId).Distinct().Count());
            Assert.Equal(whole.Items.Select(i => i.LeadId), walked.Select(i => i.LeadId));
            Assert.Null(whole.Continuation);
        }
        var byScore = (await lists.ListAsync(new LeadListRequest(Stage: "Lead", Sort: "score", Limit: "100"))).Items;
        Assert.Equal(byScore.Select(i => i.Score).OrderDescending(), byScore.Select(i => i.Score));
        var newest = (await lists.ListAsync(new LeadListRequest(Stage: "Lead", Limit: "100"))).Items;
        Assert.Equal(newest.Select(i => i.StageChangedAt).OrderDescending(), newest.Select(i => i.StageChangedAt));
    }

    [Fact]
    public async Task A_tampered_continuation_or_one_from_another_query_is_refused_naming_the_continuation()
    {
        // Arrange
        var lists = new ListsHarness(azurite);
        for (var i = 0; i < 3; i++)
            await lists.Processor.ProcessAsync(Events.Form($"t{i}@example.com", lists.Now, FormIntent.DemoRequest), CancellationToken.None);
        var token = (await lists.ListAsync(new LeadListRequest(Limit: "1"))).Continuation!;
        var tampered = token[..^1] + (token[^1] == 'a' ? 'b' : 'a');

        // Act
        var edited = await lists.Lists.ListAsync(new LeadListRequest(Limit: "1", Continuation: tampered), CancellationToken.None);
        var otherQuery = await lists.Lists.ListAsync(new LeadListRequest(Sort: "score", Limit: "1", Continuation: token), CancellationToken.None);
        var otherStage = await lists.Lists.ListAsync(new LeadListRequest(Stage: "MQL", Limit: "1", Continuation: token), CancellationToken.None);
        var sameQuery = await lists.Lists.ListAsync(new LeadListRequest(Stage: "sql", Limit: "2", Continuation: token), CancellationToken.None);

        // Assert
        Assert.Equal("continuation", edited.InvalidField);
        Assert.Equal("continuation", otherQuery.InvalidField);
        Assert.Equal("continuation", otherStage.InvalidField);
        Assert.Equal(2, sameQuery.Page!.Items.Count);
        Assert.DoesNotContain("@", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(Pad(token.Split('.')[0]))), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stage", "Prospect")]
    [InlineData("minScore", "-1")]
    [InlineData("minScore", "lots")]
    [InlineData("grade", "Z")]
    [InlineData("updatedSince", "yesterday")]
    [InlineData("sort", "oldest")]
    [InlineData("limit", "0")]
    [InlineData("limit", "101")]
    [InlineData("owner", " ")]
    public async Task An_invalid_query_value_is_refused_naming_the_field(string field, string value)
    {
        var lists = new ListsHarness(azurite);
        var request = field switch
        {
            "stage" => new LeadListRequest(Stage: value),
            "minScore" => new LeadListRequest(MinScore: value),
            "grade" => new LeadListRequest(Grade: value),
            "updatedSince" => new LeadListRequest(UpdatedSince: value),
            "sort" => new LeadListRequest(Sort: value),
            "limit" => new LeadListRequest(Limit: value),
            _ => new LeadListRequest(Owner: value),
        };

        var result = await lists.Lists.ListAsync(request, CancellationToken.None);

        Assert.Null(result.Page);
        Assert.Equal(field, result.InvalidField);
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }

    internal static LeadSnapshot Snapshot(LifecycleStage stage, DateTimeOffset stageAt, double value, DateTimeOffset anchor, int eventCount, string grade = "D") =>
        new(stage, stageAt, null, value, anchor, TimeSpan.FromDays(10).TotalSeconds, grade, stageAt, anchor, null, null, eventCount);
}

/// <summary>Fails once, before or after running the real projection, as a worker dying around it would.</summary>
internal sealed class FailingOnce(ILeadProjection inner, bool failBefore) : ILeadProjection
{
    private int _failed;

    public async Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        var fail = Interlocked.Exchange(ref _failed, 1) == 0;
        if (fail && failBefore)
            throw new InvalidOperationException("index storage unavailable");
        await inner.ProjectAsync(work, cancellationToken);
        if (fail)
            throw new InvalidOperationException("worker stopped after the projection");
    }
}
