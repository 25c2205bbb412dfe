using System.Text.Json;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Funnel;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Testing;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Funnel;

/// <summary>The funnel projection, report, cleanup and function over a fresh counters table in Azurite.</summary>
internal sealed class FunnelHarness
{
    /// <param name="counter">Counts every request of the projections' and report's table client, when given.</param>
    public FunnelHarness(AzuriteFixture azurite, int shards = 4, DateTimeOffset? now = null, CountingPolicy? counter = null)
    {
        var clientOptions = new TableClientOptions();
        if (counter is not null)
            clientOptions.AddPolicy(counter, Azure.Core.HttpPipelinePosition.PerRetry);
        var tableService = new TableServiceClient(azurite.ConnectionString, clientOptions);
        var name = AzuriteFixture.UniqueName("funnel");
        tableService.CreateTableIfNotExists(name);
        Table = new FunnelCountersTable(tableService.GetTableClient(name));
        Options = Microsoft.Extensions.Options.Options.Create(new FunnelOptions { CountersTable = name, Shards = shards });
        Time = new FakeTimeProvider(now ?? new DateTimeOffset(2026, 11, 8, 12, 0, 0, TimeSpan.Zero));
        Report = new FunnelReport(Table, Options, Microsoft.Extensions.Options.Options.Create(new SalesAlertOptions()), Time);
        Maintenance = new FunnelMaintenance(Table, Options, Time, NullLogger<FunnelMaintenance>.Instance);
        Function = new LeadFunctions.Funnel.GetFunnel(Report, SignedIn.Access);
        Projection = NewProjection();
    }

    /// <summary>The projection of one host (a singleton there): it keeps its per-shard locks and remembered rows across works.</summary>
    public ILeadProjection Projection { get; }

    public FunnelCountersTable Table { get; }
    public IOptions<FunnelOptions> Options { get; }
    public FakeTimeProvider Time { get; }
    public FunnelReport Report { get; }
    public FunnelMaintenance Maintenance { get; }
    public LeadFunctions.Funnel.GetFunnel Function { get; }

    /// <summary>A projection as another worker instance would have.</summary>
    public ILeadProjection NewProjection() => new FunnelProjection(Table, Options, NullLogger<FunnelProjection>.Instance);

    public Task ProjectAsync(LeadProjectionWork work) => Projection.ProjectAsync(work, CancellationToken.None);

    public async Task<FunnelReportResult> ReportAsync(string from, string to, string period = "day")
    {
        var query = Report.Parse(from, to, period, out var error);
        Assert.Null(error);
        return await Report.BuildAsync(query, CancellationToken.None);
    }

    /// <summary>Calls the function as the host would, with the query string given.</summary>
    public async Task<IActionResult> GetAsync(string queryString)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/api/funnel";
        context.Request.QueryString = new QueryString(queryString);
        return SignedIn.Unwrap(await Function.Run(SignedIn.As(context.Request, "marketing"), CancellationToken.None));
    }

    public List<TableEntity> Rows() => [.. Table.Client.Query<TableEntity>()];

    public static string Json(object value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);
}

/// <summary>Builds the works the processor hands a projection: one event of one lead with its transitions.</summary>
internal static class Works
{
    public static LeadProjectionWork Of(string leadId, string eventId, params ProjectedTransition[] transitions)
    {
        var last = transitions[^1];
        var snapshot = new LeadSnapshot(last.To, last.At, null, 0, last.At, 864000, "C", transitions[0].At, last.At);
        return new LeadProjectionWork(leadId, eventId, last.At, null, snapshot, transitions);
    }

    public static ProjectedTransition Move(int index, DateTimeOffset at, LifecycleStage? from, DateTimeOffset? fromEnteredAt, LifecycleStage to, bool bySales = false) =>
        new(index, at, from, fromEnteredAt, to, bySales ? "rep@sales.example.com" : "scoring", bySales);
}
