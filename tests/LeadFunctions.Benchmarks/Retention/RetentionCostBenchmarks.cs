using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using RunStrategy = BenchmarkDotNet.Engines.RunStrategy;
using LeadFunctions.Benchmarks.Scoring;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Retention;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LeadFunctions.Benchmarks.Retention;

/// <summary>
/// Storage requests of one whole retention pass over <see cref="Leads"/> leads, counted by an Azure.Core pipeline policy
/// (<see cref="StoragePipelinePolicy"/>), against Azurite (LEADFUNCTIONS_TEST_STORAGE, default UseDevelopmentStorage=true).
/// Each lead has 3 applied events and 3 ledger rows (two rules) past the periods and one recent event.
/// <see cref="Scenario.FirstPass"/> deletes and folds all of them; <see cref="Scenario.SteadyState"/> is the next pass, with nothing
/// left to do. The counts are printed at the end as "STORAGE …"; the time is one cold pass against the emulator.
/// </summary>
[SimpleJob(RunStrategy.ColdStart, launchCount: 1, warmupCount: 0, iterationCount: 1)]
public class RetentionCostBenchmarks
{
    private const int EventsPerLead = 3;
    private IHost _host = null!;
    private IRetentionRunner _runner = null!;
    private readonly CountingPolicy _counter = new();
    private RetentionRunResult _last = null!;
    private int _runs;

    public enum Scenario
    {
        /// <summary>The first pass after retention is switched on: every lead has rows to delete and fold.</summary>
        FirstPass,
        /// <summary>A later pass: the scan finds nothing.</summary>
        SteadyState,
    }

    [Params(Scenario.FirstPass, Scenario.SteadyState)]
    public Scenario Case { get; set; }

    [Params(10_000)]
    public int Leads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var modelPath = Path.Combine(Path.GetTempPath(), "bench-retention-model.json");
        File.WriteAllText(modelPath, BenchmarkModels.FiftyRules());
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageOptions.ConnectionName] = Environment.GetEnvironmentVariable("LEADFUNCTIONS_TEST_STORAGE") ?? "UseDevelopmentStorage=true",
            ["Storage:LeadsTable"] = "benchret" + Guid.NewGuid().ToString("N")[..12],
            ["Scoring:ModelPath"] = modelPath,
            ["Retention:AppliedEventDays"] = "90",
            ["Retention:LedgerDays"] = "30",
            ["Retention:MaxPagesPerRun"] = "10000",
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new StoragePipelinePolicy(_counter));
        builder.Services.AddLeadStorage();
        builder.Services.AddLeadScoring();
        builder.Services.AddRetention();
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult(); // creates the table
        SeedAsync(_host.Services.GetRequiredService<LeadsTable>().Client).GetAwaiter().GetResult();
        _runner = _host.Services.GetRequiredService<IRetentionRunner>();
        if (Case == Scenario.SteadyState)
            PassAsync().GetAwaiter().GetResult();
        _counter.Reset();
    }

    [Benchmark]
    public Task OnePass() => PassAsync();

    [GlobalCleanup]
    public void Cleanup()
    {
        var per10K = 10_000.0 / Leads;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// STORAGE {Case}: {Leads} leads, {_runs} run(s), {_last.PagesRead} scan pages in the last run, {_counter.Reads} reads (scan pages, point reads, fold queries), {_counter.Batches} entity-group transactions, {_counter.Others} other requests = {_counter.Total * per10K:0} requests per 10,000 leads"));
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
    }

    private async Task PassAsync()
    {
        do
        {
            _last = await _runner.RunOnceAsync(CancellationToken.None);
            _runs++;
        }
        while (!_last.PassCompleted && _last.StoppedBy is not null);
    }

    private static readonly LeadIdentity Identity = new(LeadIdentity.DefaultKeyId, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));

    /// <summary>Rows as the processor writes them (one transaction per lead), dated in the past.</summary>
    private async Task SeedAsync(TableClient table)
    {
        var now = DateTimeOffset.UtcNow;
        var old = now.AddDays(-200);
        await Parallel.ForEachAsync(Enumerable.Range(0, Leads), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var leadId = Identity.LeadIdFor($"retention{i.ToString(CultureInfo.InvariantCulture)}@example.com");
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Add, new LeadEntity { PartitionKey = leadId, Stage = "Lead", HalfLifeSeconds = TimeSpan.FromDays(45).TotalSeconds, CreatedAt = old, UpdatedAt = now, EngagementAnchor = now }),
            };
            for (var e = 0; e <= EventsPerLead; e++)
            {
                var eventId = $"ev{i.ToString(CultureInfo.InvariantCulture)}-{e.ToString(CultureInfo.InvariantCulture)}";
                var at = e < EventsPerLead ? old.AddDays(e) : now;
                actions.Add(new(TableTransactionActionType.Add, new AppliedEventEntity { PartitionKey = leadId, RowKey = LeadRows.Applied(eventId), EventId = eventId, EventType = "page-view", OccurredAt = at, AppliedAt = at, ModelVersion = "bench" }));
                actions.Add(new(TableTransactionActionType.Add, new LedgerEntity { PartitionKey = leadId, RowKey = LeadRows.Ledger(at, eventId, 0), EventId = eventId, EventType = "page-view", RuleId = e % 2 == 0 ? "page-view" : "pricing", Score = "engagement", Points = 5, At = at, ModelVersion = "bench" }));
            }
            await table.SubmitTransactionAsync(actions, ct);
        });
    }
}
