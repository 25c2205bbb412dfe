using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Workspace;

/// <summary>
/// The access log: who read or changed which lead, by object id only; kept with the lead, so erasure takes it and the export
/// shows it; and never in the way of the read it records.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AccessLogTests(AzuriteFixture azurite)
{
    private static readonly WorkspaceUser Dana = new(Principals.DanaId, Principals.DanaName, [WorkspaceRoles.Sales]);

    [Fact]
    public async Task An_access_row_holds_the_object_id_action_function_lead_and_time_and_nothing_personal()
    {
        // Arrange
        await using var host = await StartAsync();
        var (leadId, email) = await CaptureLeadAsync(host);
        var log = host.Services.GetRequiredService<IAccessLog>();

        // Act
        await log.RecordAsync(Dana, AccessActions.Read, "GetLeadDetail", leadId, CancellationToken.None);
        await log.RecordAsync(Dana, AccessActions.Change, "ChangeLeadStage", leadId, CancellationToken.None);
        await log.RecordListAsync(Dana, "ListLeads", 25, CancellationToken.None);

        // Assert
        var rows = await RowsAsync(host);
        var leadRows = rows.Where(r => r.PartitionKey == leadId).ToList();
        Assert.Equal(2, leadRows.Count);
        // One row per user, action and day (folded); within a day the order is the key's hash, not the time.
        Assert.Equal([AccessActions.Change, AccessActions.Read], leadRows.Select(r => r.GetString("Action")).Order(StringComparer.Ordinal));
        Assert.All(leadRows, r =>
        {
            Assert.Equal(Principals.DanaId, r.GetString("UserId"));
            Assert.Equal(leadId, r.GetString("LeadId"));
            Assert.NotNull(r.GetDateTimeOffset("At"));
        });
        var list = Assert.Single(rows, r => r.PartitionKey.StartsWith("list-", StringComparison.Ordinal));
        Assert.Equal(25, list.GetInt32("LeadsReturned"));
        foreach (var value in rows.SelectMany(r => r).Select(p => p.Value?.ToString() ?? ""))
        {
            Assert.DoesNotContain(Principals.DanaName, value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Principals.DanaEmail, value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(email, value, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task The_access_rows_of_a_lead_are_in_its_export_and_go_with_its_erasure()
    {
        // Arrange
        await using var host = await StartAsync();
        var (leadId, _) = await CaptureLeadAsync(host);
        var (otherId, _) = await CaptureLeadAsync(host);
        var log = host.Services.GetRequiredService<IAccessLog>();
        await log.RecordAsync(Dana, AccessActions.Read, "GetLeadDetail", leadId, CancellationToken.None);
        await log.RecordAsync(Dana, AccessActions.Read, "GetLeadDetail", otherId, CancellationToken.None);

        // Act
        var export = await host.Services.GetRequiredService<ILeadExporter>().ExportAsync(leadId, CancellationToken.None);
        await host.Services.GetRequiredService<ILeadEraser>().EraseAsync(leadId, CancellationToken.None);

        // Assert
        var exported = Assert.Single(export!["rows"]!["accessLog"]!.AsArray());
        Assert.Equal(Principals.DanaId, exported!["properties"]!["UserId"]!.GetValue<string>());
        var remaining = await RowsAsync(host);
        Assert.DoesNotContain(remaining, r => r.PartitionKey == leadId);
        Assert.Single(remaining, r => r.PartitionKey == otherId);
    }

    [Fact]
    public async Task A_failure_to_write_the_log_does_not_fail_the_access_and_is_logged_as_a_warning()
    {
        // Arrange: a table that does not exist, so every write is refused by storage.
        var service = new TableServiceClient(azurite.ConnectionString);
        var logger = new ListLogger<AccessLog>();
        var log = new AccessLog(new AccessLogTable(service.GetTableClient(AzuriteFixture.UniqueName("missing"))), new FakeTimeProvider(DateTimeOffset.UtcNow), logger);

        // Act
        await log.RecordAsync(Dana, AccessActions.Read, "GetLeadDetail", TestLeadIds.LeadIdFor("someone@example.com"), CancellationToken.None);

        // Assert
        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(Principals.DanaId, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Principals.DanaName, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_id_that_is_not_a_lead_id_never_becomes_a_partition()
    {
        await using var host = await StartAsync();

        await host.Services.GetRequiredService<IAccessLog>().RecordAsync(Dana, AccessActions.Search, "SearchLead", "not-a-lead/../x", CancellationToken.None);

        var row = Assert.Single(await RowsAsync(host));
        Assert.StartsWith("nolead-", row.PartitionKey, StringComparison.Ordinal);
        Assert.Null(row.GetString("LeadId"));
    }

    private Task<RunningLocalHost> StartAsync() => RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
    {
        ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
        ["Workspace:AccessLogTable"] = AzuriteFixture.UniqueName("access"),
    });

    private static async Task<(string LeadId, string Email)> CaptureLeadAsync(RunningLocalHost host)
    {
        var email = AzuriteFixture.UniqueName("access") + "@example.com";
        await host.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(Events.Download(email, DateTimeOffset.UtcNow), CancellationToken.None);
        return (TestLeadIds.LeadIdFor(email), email);
    }

    private static async Task<List<TableEntity>> RowsAsync(RunningLocalHost host)
    {
        var table = host.Services.GetRequiredService<AccessLogTable>().Client;
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(maxPerPage: 1000))
            rows.Add(row);
        return rows;
    }
}

internal sealed class ListLogger<T> : ILogger<T>
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Entries.Add((logLevel, formatter(state, exception)));
    }
}
