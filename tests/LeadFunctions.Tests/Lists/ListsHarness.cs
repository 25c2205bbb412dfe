using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Lists;

/// <summary>The real processor with the lead-index projection, and the list service, over fresh tables in Azurite; every request counted.</summary>
internal sealed class ListsHarness
{
    public ListsHarness(AzuriteFixture azurite, Func<ILeadProjection, ILeadProjection>? wrap = null)
    {
        Processors = new ProcessorFactory(azurite);
        var name = AzuriteFixture.UniqueName("index");
        Processors.Service.CreateTableIfNotExists(name);
        Index = new LeadIndexTable(Processors.Service.GetTableClient(name));
        Projection = new LeadIndexProjection(Index, NullLogger<LeadIndexProjection>.Instance);
        Processors.Projections = [wrap is null ? Projection : wrap(Projection)];
        Processor = Processors.New();
        Lists = new LeadListService(Index, Processors.Model, Options.Create(new SalesAlertOptions()), Processors.Time);
    }

    public ProcessorFactory Processors { get; }
    public LeadIndexTable Index { get; }
    public LeadIndexProjection Projection { get; }
    public LeadEventProcessor Processor { get; }
    public LeadListService Lists { get; }
    public DateTimeOffset Now => Processors.Time.GetUtcNow();

    public async Task<LeadListPage> ListAsync(LeadListRequest request)
    {
        var result = await Lists.ListAsync(request, CancellationToken.None);
        return result.Page ?? throw new InvalidOperationException($"{result.InvalidField}: {result.Problem}");
    }

    /// <summary>Every page of the query, following the continuation to the end.</summary>
    public async Task<List<LeadListItem>> WalkAsync(LeadListRequest request)
    {
        var all = new List<LeadListItem>();
        for (var guard = 0; guard < 10_000; guard++)
        {
            var page = await ListAsync(request);
            all.AddRange(page.Items);
            if (page.Continuation is null)
                return all;
            request = request with { Continuation = page.Continuation };
        }
        throw new InvalidOperationException("The continuation never ended.");
    }

    /// <summary>The index rows (not anchors) of a lead, as (partition, row key).</summary>
    public List<(string Partition, string RowKey)> IndexRowsOf(string email)
    {
        var filter = TableClient.CreateQueryFilter($"LeadId eq {ScoringHarness.LeadIdOf(email)}");
        return [.. Index.Client.Query<TableEntity>(filter).Where(r => !r.RowKey.StartsWith("l|", StringComparison.Ordinal)).Select(r => (r.PartitionKey, r.RowKey))];
    }
}
