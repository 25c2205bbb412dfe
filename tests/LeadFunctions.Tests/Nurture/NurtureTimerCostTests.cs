using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Testing;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// What a timer run costs per due e-mail, counted by request (not timed), and the frequency cap read from the lead's
/// <c>marketing-sends</c> row, with the outbox rows of storage written before that row existed still counted.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class NurtureTimerCostTests(AzuriteFixture azurite)
{
    private const string Daily = """
        { "version": "1", "enrolOnMql": "daily", "programmes": [ { "id": "daily", "version": "1", "steps": [
          { "id": "a", "delay": "0", "subject": "A", "template": "nurture-welcome" },
          { "id": "b", "delay": "1d", "subject": "B", "template": "nurture-talk" },
          { "id": "c", "delay": "1d", "subject": "C", "template": "nurture-case-study" } ] } ] }
        """;

    /// <summary>Requests by table (the harness's unique names, trimmed to their role) and kind.</summary>
    private sealed class PerTableCounter : HttpPipelineSynchronousPolicy
    {
        public ConcurrentDictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);

        public long Of(string table, string kind) => Counts.GetValueOrDefault($"{table} {kind}");

        public long Total => Counts.Values.Sum();

        public override void OnSendingRequest(HttpMessage message)
        {
            var path = message.Request.Uri.Path.TrimStart('/');
            if (path.StartsWith("devstoreaccount1/", StringComparison.Ordinal))
                path = path["devstoreaccount1/".Length..];
            var end = path.IndexOfAny(['(', '/', '?']);
            var name = end < 0 ? path : path[..end];
            var table = name.Length > 12 ? name[..^12] : name; // AzuriteFixture.UniqueName: the role, then 12 hex digits
            Counts.AddOrUpdate($"{table} {CountingPolicy.KindOf(message.Request)}", 1, (_, n) => n + 1);
        }
    }

    /// <summary>Storage in its steady state: the marketing-sends rows were introduced long before any send the cap looks at.</summary>
    private static async Task RowsLongInUseAsync(NurtureHarness harness) =>
        await harness.Services.GetRequiredService<NurtureTables>().State.UpsertEntityAsync(
            new MarketingSendsLayoutEntity { Since = harness.Time.GetUtcNow().AddDays(-60) });

    private static async Task<LeadSummary> MqlAsync(NurtureHarness harness, string email)
    {
        var lead = NurtureLeads.New(email, harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        return lead;
    }

    [Fact]
    public async Task A_lead_at_the_weekly_cap_gets_no_more_marketing_email_that_week_and_the_cap_is_a_point_read()
    {
        // Arrange: a cap of two a week, steps a day apart.
        var counter = new PerTableCounter();
        await using var harness = new NurtureHarness(azurite, maxPerWeek: 2, programme: Daily,
            services: s => s.AddSingleton(new StoragePipelinePolicy(counter)));
        await RowsLongInUseAsync(harness);
        var lead = await MqlAsync(harness, "capped.row@example.com");
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromDays(1));
        await harness.RunAsync();
        Assert.Equal(2, harness.EmlFiles().Length);
        var row = await harness.Services.GetRequiredService<NurtureTables>().State
            .GetEntityAsync<MarketingSendsEntity>(lead.LeadId, MarketingSendsEntity.Row);
        Assert.Equal(2, row.Value.SentAt().Count);

        // Act: the third step is due a day later, with two sends in the week.
        harness.Time.Advance(TimeSpan.FromDays(1));
        counter.Counts.Clear();
        var held = await harness.RunAsync();

        // Assert: held back, decided by the row (no query of the lead's outbox rows), and sent once the first send left the week.
        Assert.Equal(2, harness.EmlFiles().Length);
        Assert.Equal(0, held.Sent);
        Assert.Equal(0, counter.Of("state", "table query"));
        harness.Time.Advance(TimeSpan.FromDays(5) - TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        Assert.Equal(2, harness.EmlFiles().Length);
        harness.Time.Advance(TimeSpan.FromMinutes(2));
        await harness.RunAsync();
        Assert.Equal(3, harness.EmlFiles().Length);
    }

    [Fact]
    public async Task A_lead_whose_marketing_email_went_before_the_sends_row_existed_is_still_capped()
    {
        // Arrange: storage as the previous version left it: a marketing e-mail sent yesterday, recorded only as an outbox row
        // (no marketing-sends row, no layout marker), and a cap of one a week.
        await using var harness = new NurtureHarness(azurite, maxPerWeek: 1, programme: Daily);
        var state = harness.Services.GetRequiredService<NurtureTables>().State;
        var email = "capped.legacy@example.com";
        var leadId = TestLeadIds.LeadIdFor(email);
        var yesterday = harness.Time.GetUtcNow().AddDays(-1);
        await state.AddEntityAsync(new OutboxEntity
        {
            PartitionKey = leadId, RowKey = $"{OutboxEntity.NurturePrefix}old-welcome", Kind = DueKinds.Nurture, MessageId = $"{leadId}-nurture-old-welcome",
            Marketing = true, Status = OutboxStatus.Sent, FirstAttemptAt = yesterday, ClaimedUntil = yesterday, Attempts = 1, SentAt = yesterday,
        });

        // Act
        await MqlAsync(harness, email);
        var first = await harness.RunAsync();

        // Assert: held until yesterday's e-mail leaves the week; the row written with the send then carries both sends.
        Assert.Empty(harness.EmlFiles());
        Assert.Equal(0, first.Sent);
        harness.Time.Advance(TimeSpan.FromDays(6) + TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());
        var row = await state.GetEntityAsync<MarketingSendsEntity>(leadId, MarketingSendsEntity.Row);
        Assert.Single(row.Value.SentAt()); // yesterday's e-mail had left the week, so the row keeps only this one
        harness.Time.Advance(TimeSpan.FromDays(1));
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles()); // step b, a day later, is capped by the row
    }

    [Fact]
    public async Task The_marketing_sends_row_is_exported_and_erased_with_the_lead()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: Daily, realLeads: true);
        var leads = harness.Services.GetRequiredService<LeadsTable>().Client;
        var leadId = TestLeadIds.LeadIdFor("sends.privacy@example.com");
        await leads.UpsertEntityAsync(LeadRow(leadId, "sends.privacy@example.com", harness.Time.GetUtcNow().AddHours(-1)));
        await harness.Services.GetRequiredService<NurtureStore>().ScheduleAsync(
            DueItemEntity.Create(leadId, DueKinds.Nurture, harness.Time.GetUtcNow().AddHours(-1), harness.Time.GetUtcNow().AddHours(-1), "daily-a", "daily", "a"), CancellationToken.None);
        Assert.Equal(1, (await harness.RunAsync()).Sent);

        // Act
        var export = await harness.Services.GetRequiredService<ILeadExporter>().ExportAsync(leadId, CancellationToken.None);
        await harness.Services.GetRequiredService<ILeadEraser>().EraseAsync(leadId, CancellationToken.None);
        var after = await harness.Services.GetRequiredService<NurtureTables>().State
            .GetEntityIfExistsAsync<TableEntity>(leadId, MarketingSendsEntity.Row);

        // Assert
        var rows = export!["rows"]!.AsObject();
        Assert.Single(rows["marketingSends"]!.AsArray());
        Assert.False(after.HasValue);
    }

    [Fact]
    public async Task A_due_nurture_email_costs_at_most_thirteen_storage_requests_and_no_query_of_the_lead()
    {
        // Arrange: ten MQLs due, read through the real lead directory (one point read each), in steady-state storage.
        const int due = 10;
        var counter = new PerTableCounter();
        await using var harness = new NurtureHarness(azurite, programme: Daily, realLeads: true,
            services: s => s.AddSingleton(new StoragePipelinePolicy(counter)));
        await RowsLongInUseAsync(harness);
        var store = harness.Services.GetRequiredService<NurtureStore>();
        await DueMqlsAsync(harness, "cost", due);
        await store.BacklogAsync(harness.Time.GetUtcNow(), 10, CancellationToken.None); // warms the clients' first requests
        counter.Counts.Clear();

        // Act
        var result = await harness.RunAsync();

        // Assert: 13 per e-mail (state: enrolment, outbox, suppression, marketing sends, delivery counts, the claim's insert and the
        // mark-sent transaction; the lead; the results' counter and marker reads and transaction; the next step and the retired
        // reminder), plus the run's due-index queries and backlog count. It was 16: the claim read the outbox row again, the results
        // counter read back the e-mail index and record mark-sent had written, and the cap queried the lead's outbox rows.
        Assert.Equal(due, result.Sent);
        var perRun = counter.Of("due", "table query");
        Assert.InRange(perRun, 1, 6);
        // At most two requests a run or a process besides: the layout marker, read once, and the clients' first table check.
        var perItem = (counter.Total - perRun - 2) / (double)due;
        Assert.True(perItem <= 13, $"{perItem} requests per due e-mail: {string.Join(", ", counter.Counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}");
        Assert.Equal(0, counter.Of("state", "table query"));
        // Plus, once per process, the layout marker (read when a lead has no marketing-sends row yet, then kept).
        Assert.InRange(counter.Of("state", "table point read"), 5 * due, (5 * due) + 1);
        Assert.Equal(2 * due, counter.Of("results", "table point read"));
    }

    [Fact]
    public async Task The_benchmarks_raw_sdk_baseline_sends_the_same_storage_requests_per_due_email_as_the_timer()
    {
        // Arrange: ten MQLs due for the timer and ten more, seeded the same way, for the raw baseline; steady-state storage.
        const int due = 10;
        var counter = new PerTableCounter();
        await using var harness = new NurtureHarness(azurite, programme: Daily, realLeads: true,
            services: s => s.AddSingleton(new StoragePipelinePolicy(counter)));
        await RowsLongInUseAsync(harness);
        var leads = harness.Services.GetRequiredService<LeadsTable>().Client;
        var tables = harness.Services.GetRequiredService<NurtureTables>();
        var store = harness.Services.GetRequiredService<NurtureStore>();
        var raw = new LeadFunctions.Benchmarks.Nurture.RawTimerBaseline(leads, tables.State, tables.Due,
            harness.Services.GetRequiredService<LeadFunctions.Infrastructure.Nurture.Results.NurtureResultsTable>().Client,
            harness.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LeadFunctions.Infrastructure.Nurture.Results.NurtureResultsOptions>>().Value.Shards,
            Path.Combine(harness.OutboxFolder, "raw"), harness.Time,
            new Dictionary<string, (string, TimeSpan)>(StringComparer.Ordinal) { ["daily-a"] = ("b", TimeSpan.FromDays(1)) });
        await DueMqlsAsync(harness, "timer", due);
        await store.BacklogAsync(harness.Time.GetUtcNow(), 10, CancellationToken.None); // warms the clients' first requests
        counter.Counts.Clear();
        var timerRun = await harness.RunAsync();
        var timer = new Dictionary<string, long>(counter.Counts, StringComparer.Ordinal);
        await DueMqlsAsync(harness, "raw", due);
        counter.Counts.Clear();

        // Act
        var rawItems = await raw.RunOnceAsync(CancellationToken.None);

        // Assert: the same requests by table and kind, within what a run or a process costs once (the layout marker, the model's
        // reads, a client's first table check); a request more or fewer per item would differ by ten. The raw loop wrote the rows
        // the timer writes: each lead's next step is due, as the timer's are.
        Assert.Equal(due, timerRun.Sent);
        Assert.Equal(due, rawItems);
        var shown = $"timer: {Show(timer)}; raw: {Show(counter.Counts)}";
        foreach (var key in timer.Keys.Union(counter.Counts.Keys).Where(k => timer.GetValueOrDefault(k) >= due || counter.Counts.GetValueOrDefault(k) >= due))
            Assert.True(Math.Abs(timer.GetValueOrDefault(key) - counter.Counts.GetValueOrDefault(key)) <= 2, $"{key} differs: {shown}");
        Assert.InRange(timer.Values.Sum() - counter.Total, -2, 4);
        var nextSteps = 0;
        await foreach (var row in tables.Due.QueryAsync<DueItemEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {DuePartitions.Default}")))
            nextSteps += row.Step == "b" ? 1 : 0;
        Assert.Equal(2 * due, nextSteps);
    }

    /// <summary>Lead rows of MQLs who became MQLs an hour ago, each with the daily programme's first step due.</summary>
    private static async Task DueMqlsAsync(NurtureHarness harness, string prefix, int count)
    {
        var leads = harness.Services.GetRequiredService<LeadsTable>().Client;
        var store = harness.Services.GetRequiredService<NurtureStore>();
        var mqlAt = harness.Time.GetUtcNow().AddHours(-1);
        for (var i = 0; i < count; i++)
        {
            var email = $"{prefix}{i}@example.com";
            var leadId = TestLeadIds.LeadIdFor(email);
            await leads.UpsertEntityAsync(LeadRow(leadId, email, mqlAt));
            await store.ScheduleAsync(DueItemEntity.Create(leadId, DueKinds.Nurture, mqlAt, mqlAt, "daily-a", "daily", "a"), CancellationToken.None);
        }
    }

    private static string Show(IEnumerable<KeyValuePair<string, long>> counts) =>
        string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"));

    private static LeadEntity LeadRow(string leadId, string email, DateTimeOffset mqlAt) => LeadMapping.ToEntity(new LeadScoreState
    {
        LeadId = leadId,
        Email = email,
        Stage = LifecycleStage.Mql,
        StageChangedAt = mqlAt,
        Profile = new Dictionary<string, string>(StringComparer.Ordinal) { ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Analytical Engines" },
        Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, mqlAt.AddDays(-1), "form")],
        EngagementValue = 90,
        EngagementAnchor = mqlAt,
        FitScore = 30,
        FitGrade = "B",
        ModelVersion = "it-1",
        CreatedAt = mqlAt.AddDays(-2),
        UpdatedAt = mqlAt,
        EventCount = 2,
    }, TimeSpan.FromDays(45), default);
}
