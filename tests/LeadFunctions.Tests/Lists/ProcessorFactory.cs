using Azure.Core;
using Azure.Data.Tables;
using LeadFunctions.Testing;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Lists;

/// <summary>
/// Real processors over a fresh leads table in Azurite, with the given projections, through table clients whose requests
/// <see cref="Counter"/> counts.
/// </summary>
internal sealed class ProcessorFactory
{
    public ProcessorFactory(AzuriteFixture azurite, params ILeadProjection[] projections)
    {
        Counter = new CountingPolicy();
        var clientOptions = new TableClientOptions();
        clientOptions.AddPolicy(Counter, HttpPipelinePosition.PerCall);
        Service = new TableServiceClient(azurite.ConnectionString, clientOptions);
        var name = AzuriteFixture.UniqueName("leads");
        Service.CreateTableIfNotExists(name);
        Table = new LeadsTable(Service.GetTableClient(name));
        Model = ScoringModelLoader.Load(ScoringHarness.ModelJson);
        Projections = projections;
    }

    public CountingPolicy Counter { get; }
    public TableServiceClient Service { get; }
    public LeadsTable Table { get; }
    public ScoringModel Model { get; }
    public ILeadProjection[] Projections { get; set; }
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));

    /// <summary>A processor as another worker instance would have: same tables, its own in-process state.</summary>
    public LeadEventProcessor New() =>
        new(Table, new ScoringEngine(Model), [], TestLeadIds.Identity, Time, Options.Create(new ScoringOptions()), NullLogger<LeadEventProcessor>.Instance, Projections);

    /// <summary>Another instance that remembers the leads it wrote last, in <paramref name="cache"/> (its own memory).</summary>
    public LeadEventProcessor New(LeadStateCache cache, params IStageChangeObserver[] observers) =>
        new(Table, new ScoringEngine(Model), observers, TestLeadIds.Identity, Time, Options.Create(new ScoringOptions()), NullLogger<LeadEventProcessor>.Instance, Projections, cache: cache);

    public static LeadStateCache Cache(int maxLeads = 4096) => new(Options.Create(new LeadCacheOptions { MaxLeads = maxLeads }));

    /// <summary>The lead's pending projection-work rows.</summary>
    public List<TableEntity> WorkRows(string email)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ScoringHarness.LeadIdOf(email)} and RowKey ge {"x|"} and RowKey lt {"x}"}");
        return [.. Table.Client.Query<TableEntity>(filter)];
    }
}
