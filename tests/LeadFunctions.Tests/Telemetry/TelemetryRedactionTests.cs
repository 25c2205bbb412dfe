using System.Text.Json.Nodes;
using LeadFunctions.Telemetry;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Telemetry;

/// <summary>Telemetry carries ids, never addresses: what the worker reports loses its query strings, and the host records no HTTP details.</summary>
public sealed class TelemetryRedactionTests
{
    [Fact]
    public void A_request_with_an_address_in_its_query_string_is_reported_without_the_query()
    {
        // Arrange
        var request = new RequestTelemetry { Url = new Uri("https://app.example.net/api/leads?email=zebulon.quixotic%40unobtainium.example&code=k"), Name = "GET /api/leads?email=zebulon" };

        // Act
        WorkerInitializer().Initialize(request);

        // Assert
        Assert.Equal("https://app.example.net/api/leads", request.Url.ToString());
        Assert.Equal("GET /api/leads", request.Name);
    }

    [Fact]
    public void A_dependency_call_is_reported_without_its_query_string()
    {
        // Arrange
        var dependency = new DependencyTelemetry("Azure table", "acct.table.core.windows.net", "GET /Leads()", "https://acct.table.core.windows.net/Leads()?$filter=PartitionKey%20eq%20'l1'&sig=secret");

        // Act
        WorkerInitializer().Initialize(dependency);

        // Assert
        Assert.Equal("https://acct.table.core.windows.net/Leads()", dependency.Data);
    }

    [Fact]
    public void The_host_records_no_extended_http_details_of_requests()
    {
        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")))!;

        var options = hostJson["logging"]!["applicationInsights"]!["httpAutoCollectionOptions"]!;

        Assert.False(options["enableHttpTriggerExtendedInfoCollection"]!.GetValue<bool>());
    }

    /// <summary>The initializer as the app registers it (Program.cs calls AddLeadTelemetry).</summary>
    private static ITelemetryInitializer WorkerInitializer()
    {
        var services = new ServiceCollection().AddLeadTelemetry().BuildServiceProvider();
        return Assert.Single(services.GetServices<ITelemetryInitializer>().OfType<RedactQueryStrings>());
    }
}
