using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Tests.Lists;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Leads;

/// <summary>
/// The processor's memory of the leads it wrote last (<see cref="LeadStateCache"/>), through the real processor over Azurite:
/// the read it saves, and that nothing the read protected (exactly-once, other writers, erasure) is lost.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadStateCacheTests(AzuriteFixture azurite)
{
    private const string Email = "cache@example.com";
    private static readonly string LeadId = ScoringHarness.LeadIdOf(Email);

    [Fact]
    public async Task An_event_for_a_lead_this_instance_wrote_last_costs_one_transaction_and_no_read()
    {
        // Arrange
        var factory = new ProcessorFactory(azurite);
        var processor = factory.New(ProcessorFactory.Cache());
        await processor.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);

        // Act
        var (reads, batches, others) = await factory.Counter.CountAsync(async () =>
        {
            for (var i = 0; i < 10; i++)
                await processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), $"https://example.com/blog/{i}", Email), CancellationToken.None);
        });

        // Assert: 15 for the form and 3 for each view, all of them on the lead.
        Assert.Equal((0, 10, 0), (reads, batches, others));
        var lead = await ReadLeadAsync(factory);
        Assert.Equal(11, lead.EventCount);
        Assert.Equal(15 + 10 * 3, lead.EngagementValue, 6);
    }

    [Fact]
    public async Task The_remembered_lead_is_column_for_column_what_reading_it_returns()
    {
        // Arrange: an event whose time carries an offset, which storage keeps only as the instant.
        var factory = new ProcessorFactory(azurite);
        var cache = ProcessorFactory.Cache();
        var processor = factory.New(cache);
        var at = factory.Time.GetUtcNow().ToOffset(TimeSpan.FromHours(2));

        // Act
        await processor.ProcessAsync(Events.Form(Email, at, FormIntent.ContentDownload, profile: new() { ["firstName"] = "Cora", ["company"] = "Cache Works" }), CancellationToken.None);
        await processor.ProcessAsync(Events.PageView(at.AddMinutes(1), "https://example.com/pricing", Email), CancellationToken.None);

        // Assert
        var remembered = cache.TryGet(LeadId)!;
        var read = await ReadLeadAsync(factory);
        Assert.Equal(read.ETag, remembered.ETag);
        foreach (var column in typeof(LeadEntity).GetProperties().Where(p => p.Name != nameof(LeadEntity.Timestamp)))
            Assert.True(Equals(column.GetValue(read), column.GetValue(remembered)), $"{column.Name}: read {column.GetValue(read)}, remembered {column.GetValue(remembered)}");
    }

    [Fact]
    public async Task A_lead_another_instance_wrote_since_is_read_again_and_no_event_is_lost()
    {
        // Arrange: instance A writes the lead, then instance B writes it behind A's back.
        var factory = new ProcessorFactory(azurite);
        var a = factory.New(ProcessorFactory.Cache());
        var b = factory.New(ProcessorFactory.Cache());
        await a.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        await b.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/blog/b", Email), CancellationToken.None);

        // Act: A's remembered ETag is stale.
        var (reads, batches, _) = await factory.Counter.CountAsync(() =>
            a.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/blog/a", Email), CancellationToken.None));

        // Assert: the refused transaction, the read, the transaction again; all three events count.
        Assert.Equal((1, 2), (reads, batches));
        var lead = await ReadLeadAsync(factory);
        Assert.Equal(3, lead.EventCount);
        Assert.Equal(15 + 3 + 3, lead.EngagementValue, 6);
        Assert.Equal(3, Rows(factory, LeadRows.AppliedPrefix).Count);
    }

    [Fact]
    public async Task A_stage_change_of_a_remembered_lead_reads_it_first_so_observers_act_only_on_the_lead_as_stored()
    {
        // Arrange: instance A (with a stage observer) writes a CTO's lead; instance B adds a page view behind A's back.
        var factory = new ProcessorFactory(azurite);
        var observer = new RecordingObserver();
        var a = factory.New(ProcessorFactory.Cache(), observer);
        var b = factory.New(ProcessorFactory.Cache());
        await a.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.ContentDownload, profile: new() { ["role"] = "CTO" }), CancellationToken.None);
        await b.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/blog/b", Email), CancellationToken.None);
        observer.Seen.Clear();

        // Act: a demo request on A makes the lead an SQL (a sales-intent form; 15 + 3 + 60 points).
        var counted = await factory.Counter.CountAsync(() =>
            a.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.DemoRequest), CancellationToken.None));

        // Assert: A did not act on its memory (no refused transaction): it read the lead, and the observer saw B's points too.
        Assert.Equal((1, 1, 0), counted);
        var (lead, change) = Assert.Single(observer.Seen);
        Assert.Equal(LifecycleStage.Sql, change.To);
        Assert.Equal(15 + 3 + 60, lead.EngagementScore, 6);
    }

    [Fact]
    public async Task A_redelivered_event_is_still_dropped_by_the_instance_that_applied_it()
    {
        // Arrange
        var factory = new ProcessorFactory(azurite);
        var cache = ProcessorFactory.Cache();
        var processor = factory.New(cache);
        await processor.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        var view = Events.PageView(factory.Time.GetUtcNow(), "https://example.com/blog/1", Email);
        await processor.ProcessAsync(view, CancellationToken.None);
        var rowsBefore = PartitionRows(factory);
        Assert.True(cache.Contains(LeadId));

        // Act: the same message again, to the same instance, which remembers the lead.
        var again = await processor.ProcessAsync(view, CancellationToken.None);
        var rowsAfterAgain = PartitionRows(factory);
        var next = await processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/blog/2", Email), CancellationToken.None);

        // Assert: dropped on its applied-event row, nothing scored twice; the next event applies as usual.
        Assert.Equal(LeadEventOutcome.AlreadyApplied, again.Outcome);
        Assert.Equal(LeadEventOutcome.Applied, next.Outcome);
        var lead = await ReadLeadAsync(factory);
        Assert.Equal(3, lead.EventCount);
        Assert.Equal(15 + 3 + 3, lead.EngagementValue, 6);
        Assert.Equal(rowsBefore, rowsAfterAgain);
    }

    [Fact]
    public async Task The_memory_keeps_at_most_its_bound_and_forgets_the_least_recently_used_lead_first()
    {
        // Arrange: room for two leads, three written (the first one least recently).
        var factory = new ProcessorFactory(azurite);
        var cache = ProcessorFactory.Cache(maxLeads: 2);
        var processor = factory.New(cache);
        var emails = new[] { "first@example.com", "second@example.com", "third@example.com" };
        foreach (var email in emails)
            await processor.ProcessAsync(Events.Form(email, factory.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);

        // Act
        var forgotten = await factory.Counter.CountAsync(() => processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/a", emails[0]), CancellationToken.None));
        var kept = await factory.Counter.CountAsync(() => processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/a", emails[2]), CancellationToken.None));

        // Assert: the first lead was forgotten (read again, and remembered again in place of the second).
        Assert.Equal((1, 1, 0), forgotten);
        Assert.Equal((0, 1, 0), kept);
        Assert.Equal(2, cache.Count);
        Assert.False(cache.Contains(ScoringHarness.LeadIdOf(emails[1])));
    }

    [Fact]
    public async Task A_row_remembered_longer_ago_than_the_max_age_is_not_used_and_the_processor_reads_the_lead_instead()
    {
        // Arrange: a memory of 10 minutes on the factory's fake clock; the lead written at T.
        var factory = new ProcessorFactory(azurite);
        using var cache = new LeadStateCache(Options.Create(new LeadCacheOptions { MaxAgeSeconds = 600 }), factory.Time);
        var processor = factory.New(cache);
        await processor.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);

        // Act: a view 9 minutes later (remembered again then), and one 10 minutes after that.
        factory.Time.Advance(TimeSpan.FromMinutes(9));
        var fresh = await factory.Counter.CountAsync(() => processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/a", Email), CancellationToken.None));
        factory.Time.Advance(TimeSpan.FromMinutes(10));
        var tooOld = await factory.Counter.CountAsync(() => processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/b", Email), CancellationToken.None));

        // Assert: the fresh row stood in for the read; the old one did not (read, then the transaction); all events count.
        Assert.Equal((0, 1, 0), fresh);
        Assert.Equal((1, 1, 0), tooOld);
        var lead = await ReadLeadAsync(factory);
        Assert.Equal(3, lead.EventCount);
        Assert.Equal(15 + 3 + 3, lead.EngagementValue, 1); // less a few minutes' decay
    }

    [Fact]
    public async Task A_remembered_row_is_gone_from_memory_after_the_max_age_even_when_no_further_event_comes()
    {
        // Arrange: another instance's memory of a lead (its name and address), e.g. one erased through a different instance.
        var factory = new ProcessorFactory(azurite);
        using var cache = new LeadStateCache(Options.Create(new LeadCacheOptions { MaxAgeSeconds = 600 }), factory.Time);
        var processor = factory.New(cache);
        await processor.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.ContentDownload, profile: new() { ["firstName"] = "Cora" }), CancellationToken.None);
        await processor.ProcessAsync(Events.Form("other@example.com", factory.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        factory.Time.Advance(TimeSpan.FromMinutes(8));
        await processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/a", "other@example.com"), CancellationToken.None);

        // Act: the instance gets no event for the first lead; its clock passes 10 minutes and a quarter more.
        factory.Time.Advance(TimeSpan.FromMinutes(4.5));

        // Assert: the row committed 12.5 minutes ago is gone; the one committed 4.5 minutes ago stays.
        Assert.False(cache.Contains(LeadId));
        Assert.True(cache.Contains(ScoringHarness.LeadIdOf("other@example.com")));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task A_memory_of_size_zero_reads_every_lead_as_before()
    {
        var factory = new ProcessorFactory(azurite);
        var cache = ProcessorFactory.Cache(maxLeads: 0);
        var processor = factory.New(cache);
        await processor.ProcessAsync(Events.Form(Email, factory.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);

        var counted = await factory.Counter.CountAsync(() => processor.ProcessAsync(Events.PageView(factory.Time.GetUtcNow(), "https://example.com/a", Email), CancellationToken.None));

        Assert.Equal((1, 1, 0), counted);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task Erasing_a_lead_drops_its_remembered_row_from_this_instances_memory_at_once()
    {
        // Arrange: the shipped registrations; the lead written (and so remembered, name and address included) by this instance.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var cache = harness.Services.GetRequiredService<LeadStateCache>();
        await processor.ProcessAsync(Events.Form(Email, harness.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        Assert.True(cache.Contains(LeadId));

        // Act
        await harness.Services.GetRequiredService<ILeadEraser>().EraseAsync(LeadId, CancellationToken.None);

        // Assert: no copy of the erased person waits in memory for an eviction or a next event.
        Assert.False(cache.Contains(LeadId));
    }

    [Fact]
    public async Task A_lead_erased_after_this_instance_wrote_it_is_not_recreated_by_its_next_event()
    {
        // Arrange: the shipped registrations (processor with its memory, the real eraser); the lead written by this instance.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var cache = harness.Services.GetRequiredService<LeadStateCache>();
        await processor.ProcessAsync(Events.Form(Email, harness.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        await processor.ProcessAsync(Events.PageView(harness.Time.GetUtcNow(), "https://example.com/blog/1", Email), CancellationToken.None);
        Assert.True(cache.Contains(LeadId));
        var late = Events.PageView(harness.Time.GetUtcNow(), "https://example.com/blog/2", Email);
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.Services.GetRequiredService<ILeadEraser>().EraseAsync(LeadId, CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromMinutes(1));

        // Act: an event of before the erasure (a late message) and one of after it that is no fresh form.
        var lateResult = await processor.ProcessAsync(late, CancellationToken.None);
        var afterResult = await processor.ProcessAsync(Events.PageView(harness.Time.GetUtcNow(), "https://example.com/blog/3", Email), CancellationToken.None);

        // Assert: both dropped against the tombstone; the partition holds what erasure left, nothing more.
        Assert.Equal(LeadEventOutcome.ErasedLead, lateResult.Outcome);
        Assert.Equal(LeadEventOutcome.ErasedLead, afterResult.Outcome);
        Assert.False(cache.Contains(LeadId));
        var table = harness.Services.GetRequiredService<LeadsTable>().Client;
        var rows = table.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {LeadId}")).Select(r => r.RowKey).ToList();
        Assert.DoesNotContain(LeadRows.Lead, rows);
        Assert.Contains(ErasureTombstoneEntity.Row, rows);
        Assert.DoesNotContain(rows, r => r.StartsWith(LeadRows.AppliedPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fresh_form_after_an_erasure_creates_the_lead_anew_even_on_the_instance_that_remembered_it()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        await processor.ProcessAsync(Events.Form(Email, harness.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.Services.GetRequiredService<ILeadEraser>().EraseAsync(LeadId, CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromMinutes(1));

        // Act
        var result = await processor.ProcessAsync(Events.Form(Email, harness.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);

        // Assert: a new lead with only this event, none of the erased history.
        Assert.Equal(LeadEventOutcome.Applied, result.Outcome);
        var lead = (await harness.Services.GetRequiredService<LeadsTable>().Client.GetEntityAsync<LeadEntity>(LeadId, LeadRows.Lead)).Value;
        Assert.Equal(1, lead.EventCount);
    }

    private sealed class RecordingObserver : IStageChangeObserver
    {
        public List<(LeadSummary Lead, StageChange Change)> Seen { get; } = [];

        public Task OnStageChangingAsync(LeadSummary lead, StageChange change, CancellationToken cancellationToken)
        {
            Seen.Add((lead, change));
            return Task.CompletedTask;
        }
    }

    private static async Task<LeadEntity> ReadLeadAsync(ProcessorFactory factory) =>
        (await factory.Table.Client.GetEntityAsync<LeadEntity>(LeadId, LeadRows.Lead)).Value;

    private static List<string> PartitionRows(ProcessorFactory factory) =>
        [.. factory.Table.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {LeadId}")).Select(r => r.RowKey + "@" + r.ETag)];

    private static List<TableEntity> Rows(ProcessorFactory factory, string prefix) =>
        [.. factory.Table.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {LeadId} and RowKey ge {prefix} and RowKey lt {prefix[..^1] + "}"}"))];
}
