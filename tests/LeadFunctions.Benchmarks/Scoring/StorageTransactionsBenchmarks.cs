using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using BenchmarkDotNet.Attributes;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LeadFunctions.Benchmarks.Scoring;

/// <summary>
/// Storage requests per processed event, counted by an Azure.Core pipeline policy registered as a
/// <see cref="StoragePipelinePolicy"/> (the storage clients pick it up from DI). Runs against Azurite: set
/// LEADFUNCTIONS_TEST_STORAGE to its connection string (default: UseDevelopmentStorage=true). The counts are printed
/// at the end of each case as "requests per event"; the Mean is the latency per event against the emulator.
/// </summary>
public class StorageTransactionsBenchmarks
{
    private IHost _host = null!;
    private LeadEventProcessor _processor = null!;
    private readonly CountingPolicy _counter = new();
    private int _sequence;
    private long _events;

    public enum Scenario
    {
        /// <summary>An activity for a lead that exists: the common case.</summary>
        ExistingLead,
        /// <summary>The first form of a new lead.</summary>
        NewLead,
        /// <summary>A redelivered message: the event is already applied.</summary>
        Redelivery,
    }

    [Params(Scenario.ExistingLead, Scenario.NewLead, Scenario.Redelivery)]
    public Scenario Case { get; set; }

    private LeadEvent _redelivered = null!;

    [GlobalSetup]
    public void Setup()
    {
        var modelPath = Path.Combine(Path.GetTempPath(), "bench-scoring-model.json");
        File.WriteAllText(modelPath, BenchmarkModels.FiftyRules());
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageOptions.ConnectionName] = Environment.GetEnvironmentVariable("LEADFUNCTIONS_TEST_STORAGE") ?? "UseDevelopmentStorage=true",
            ["Storage:LeadsTable"] = "bench" + Guid.NewGuid().ToString("N")[..12],
            ["Scoring:ModelPath"] = modelPath,
            ["LeadIds:Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new StoragePipelinePolicy(_counter));
        builder.Services.AddLeadStorage();
        builder.Services.AddLeadScoring();
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult(); // creates the table
        _processor = _host.Services.GetRequiredService<LeadEventProcessor>();

        _processor.ProcessAsync(Form("existing@example.com"), CancellationToken.None).GetAwaiter().GetResult();
        _redelivered = PageView("existing@example.com");
        _processor.ProcessAsync(_redelivered, CancellationToken.None).GetAwaiter().GetResult();
        _counter.Reset();
        _events = 0;
    }

    [Benchmark]
    public Task<LeadEventResult> ProcessOneEvent()
    {
        _events++;
        var e = Case switch
        {
            Scenario.ExistingLead => PageView("existing@example.com"),
            Scenario.NewLead => Form($"new{Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture)}@example.com"),
            _ => _redelivered,
        };
        return _processor.ProcessAsync(e, CancellationToken.None);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var perEvent = (double)_counter.Total / Math.Max(1, _events);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// STORAGE {Case}: {_events} events, {_counter.Reads} reads, {_counter.Batches} entity-group transactions, {_counter.Others} other requests = {perEvent:0.00} requests per event (reads {(double)_counter.Reads / _events:0.00}, transactions {(double)_counter.Batches / _events:0.00})"));
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
    }

    private LeadEvent PageView(string email) => new()
    {
        EventId = "b" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6],
        Type = LeadEventTypes.PageView,
        OccurredAt = DateTimeOffset.UtcNow,
        Email = email,
        Properties = new Dictionary<string, string> { [LeadEventProperties.Url] = "https://example.com/section1/pricing" },
    };

    private LeadEvent Form(string email) => new()
    {
        EventId = "f" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6],
        Type = LeadEventTypes.FormSubmission,
        OccurredAt = DateTimeOffset.UtcNow,
        Email = email,
        Intent = FormIntent.ContentDownload,
        Profile = new Dictionary<string, string> { ["role"] = "CTO" },
    };
}
