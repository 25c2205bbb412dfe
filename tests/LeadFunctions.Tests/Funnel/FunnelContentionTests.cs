using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Funnel;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Testing;
using LeadFunctions.Tests.Support;
using static LeadFunctions.Domain.Leads.LifecycleStage;

namespace LeadFunctions.Tests.Funnel;

/// <summary>
/// Issue 14.3: one instance runs many works at once and every new lead of a shard changes the same counter rows. The projection
/// takes turns per shard and remembers the rows it wrote, so its own workers never conflict; other instances still do, and the
/// ETag check keeps every count exact. Requests are counted on the projections' table client.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FunnelContentionTests(AzuriteFixture azurite)
{
    private const int Leads = 48;
    private static readonly DateTimeOffset Created = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A new lead that becomes an MQL: two transitions, the second changing four rows the first did not all touch.</summary>
    private static LeadProjectionWork NewLead(string name, int i) =>
        Works.Of($"lead-{name}-{i}", $"ev-{name}-{i}",
            Works.Move(0, Created, null, null, Lead),
            Works.Move(1, Created.AddMinutes(i), Lead, Created, Mql));

    private static LeadProjectionWork NewLeadOnly(string name, int i) =>
        Works.Of($"lead-{name}-{i}", $"ev-{name}-{i}", Works.Move(0, Created.AddMinutes(i), null, null, Lead));

    [Fact]
    public async Task One_instance_counts_48_new_leads_of_one_shard_at_once_exactly_and_without_a_single_conflict()
    {
        // Arrange: one shard, so every work changes the same rows, as the listener's 24 messages at once do in a shard.
        var counter = new CountingPolicy();
        var harness = new FunnelHarness(azurite, shards: 1, counter: counter);
        var works = Enumerable.Range(0, Leads).Select(i => NewLead("a", i)).ToList();

        // Act
        var (reads, batches, others) = await counter.CountAsync(() =>
            Task.WhenAll(works.Select(w => Task.Run(() => harness.ProjectAsync(w)))));

        // Assert: one transaction per transition (none failed); only the first of each kind read its rows (now|Lead and the day's
        // counts; then now|MQL and the day's time-in-Lead histogram), every later one wrote from memory.
        Assert.Equal((4, 2 * Leads, 0), (reads, batches, others));
        var stages = (await harness.ReportAsync("2026-11-02", "2026-11-03")).Stages.ToDictionary(s => s.Stage);
        Assert.Equal((0L, (long)Leads), (stages["Lead"].Now, stages["MQL"].Now));
        Assert.Equal(((long)Leads, (long)Leads), (stages["Lead"].Entries, stages["MQL"].Entries));
        Assert.Equal(1.0, stages["Lead"].ConversionToNext);
    }

    [Fact]
    public async Task Two_instances_counting_48_new_leads_of_one_shard_at_once_count_exactly()
    {
        // Arrange: two projection objects on one table, as two hosts; each takes half the leads, all at once.
        var harness = new FunnelHarness(azurite, shards: 1);
        var a = harness.NewProjection();
        var b = harness.NewProjection();

        // Act
        await Task.WhenAll(Enumerable.Range(0, Leads).Select(i =>
            Task.Run(() => (i % 2 == 0 ? a : b).ProjectAsync(NewLead(i % 2 == 0 ? "a" : "b", i), CancellationToken.None))));

        // Assert: conflicts between the instances are allowed; a lost or doubled increment is not.
        var stages = (await harness.ReportAsync("2026-11-02", "2026-11-03")).Stages.ToDictionary(s => s.Stage);
        Assert.Equal((0L, (long)Leads), (stages["Lead"].Now, stages["MQL"].Now));
        Assert.Equal(((long)Leads, (long)Leads), (stages["Lead"].Entries, stages["MQL"].Entries));
        Assert.Equal(1.0, stages["Lead"].ConversionToNext);
    }

    [Fact]
    public async Task Two_instances_taking_turns_on_the_scripted_history_give_every_number_though_each_ones_memory_goes_stale()
    {
        // Arrange: the scripted history, each work to the other instance than the last, so every instance's remembered rows are
        // overwritten by the other between its works.
        var counter = new CountingPolicy();
        var harness = new FunnelHarness(azurite, counter: counter);
        var instances = new[] { harness.NewProjection(), harness.NewProjection() };
        var history = FunnelProjectionTests.History();

        // Act
        var (_, batches, _) = await counter.CountAsync(async () =>
        {
            for (var i = 0; i < history.Count; i++)
                await instances[i % 2].ProjectAsync(history[i], CancellationToken.None);
        });

        // Assert: some transactions failed on a stale ETag (and were read and retried); every number is still the hand-worked one.
        Assert.True(batches > history.Sum(w => w.Transitions.Count), $"{batches} transactions for {history.Count} transitions: no stale memory was hit");
        FunnelProjectionTests.AssertScriptedReport(await harness.ReportAsync("2026-11-02", "2026-11-09"));
    }

    [Fact]
    public async Task Past_its_bound_an_instance_drops_a_shards_remembered_rows_and_every_count_stays_exact()
    {
        // Arrange: SQLs entering in different minutes each add an open-SQL minute row, so the shard's memory outgrows its bound.
        var counter = new CountingPolicy();
        var harness = new FunnelHarness(azurite, shards: 1, counter: counter);
        var sqls = FunnelProjection.MaxRememberedRows + 10;
        var works = Enumerable.Range(0, sqls).Select(i =>
            Works.Of($"lead-sql-{i}", $"ev-sql-{i}", Works.Move(0, Created.AddMinutes(i), null, null, Sql))).ToList();

        // Act
        var (reads, batches, _) = await counter.CountAsync(async () =>
        {
            foreach (var work in works)
                await harness.ProjectAsync(work);
        });

        // Assert: the memory stayed within its bound (dropped when full, then holding the rows just written, so the shared rows
        // now|SQL and the day's counts were read once); every SQL read its own new minute row; no transaction failed.
        var projection = Assert.IsType<FunnelProjection>(harness.Projection);
        Assert.InRange(projection.RememberedRows(0), 1, FunnelProjection.MaxRememberedRows);
        Assert.True(projection.RememberedRows(0) < sqls, $"{projection.RememberedRows(0)} rows remembered: the memory was never dropped");
        Assert.Equal((sqls + 2, sqls), (reads, batches));
        var report = await harness.ReportAsync("2026-11-02", "2026-11-03");
        var sql = report.Stages.Single(s => s.Stage == "SQL");
        Assert.Equal(((long)sqls, (long)sqls, sqls), (sql.Now, sql.Entries, report.Sla.SqlsPastSla));
    }

    [Fact]
    public async Task A_new_leads_transition_in_a_warm_shard_costs_one_transaction_and_no_read()
    {
        // Arrange
        var counter = new CountingPolicy();
        var harness = new FunnelHarness(azurite, shards: 1, counter: counter);
        await harness.ProjectAsync(NewLeadOnly("warm", 0));

        // Act
        var cost = await counter.CountAsync(() => harness.ProjectAsync(NewLeadOnly("next", 1)));

        // Assert
        Assert.Equal((0, 1, 0), cost);
        var lead = (await harness.ReportAsync("2026-11-02", "2026-11-03")).Stages.Single(s => s.Stage == "Lead");
        Assert.Equal((2L, 2L), (lead.Now, lead.Entries));
    }

    [Fact]
    public async Task A_redelivered_transition_counts_nothing_with_the_rows_remembered_and_leaves_the_memory_usable()
    {
        // Arrange
        var counter = new CountingPolicy();
        var harness = new FunnelHarness(azurite, shards: 1, counter: counter);
        var work = NewLeadOnly("once", 0);
        await harness.ProjectAsync(work);

        // Act
        var redelivered = await counter.CountAsync(() => harness.ProjectAsync(work));
        var next = await counter.CountAsync(() => harness.ProjectAsync(NewLeadOnly("next", 1)));

        // Assert: the redelivery's transaction failed on its marker (409, nothing written), one read found the marker; the next
        // lead still writes from memory.
        Assert.Equal((1, 1, 0), redelivered);
        Assert.Equal((0, 1, 0), next);
        var lead = (await harness.ReportAsync("2026-11-02", "2026-11-03")).Stages.Single(s => s.Stage == "Lead");
        Assert.Equal((2L, 2L), (lead.Now, lead.Entries));
    }
}
