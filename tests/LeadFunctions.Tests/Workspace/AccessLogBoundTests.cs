using System.ComponentModel.DataAnnotations;
using System.Net;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Workspace;

/// <summary>
/// The access log's bound: repeated accesses fold into one row per user, action and day, so no sequence of requests grows a
/// lead's rows without limit; the retention timer deletes rows past the period and a lead's rows beyond the cap, in bounded,
/// resumable runs; folded rows stay in the export and go with the erasure.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AccessLogBoundTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly WorkspaceUser Dana = new(Principals.DanaId, Principals.DanaName, [WorkspaceRoles.Sales]);
    private static readonly WorkspaceUser Sam = new("5a1e0c3b-9d2f-4c7a-8e61-2b3c4d5e6f70", "Sam Sales", [WorkspaceRoles.Sales]);

    [Fact]
    public async Task A_script_with_a_session_reading_a_lead_over_and_over_through_the_API_adds_one_row_not_one_per_request()
    {
        // Arrange
        var accessTable = AzuriteFixture.UniqueName("access");
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
            ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
            ["Workspace:AccessLogTable"] = accessTable,
            ["LocalHost:DevelopmentUser:Id"] = "00000000-0000-0000-0000-0000000000ad",
            ["LocalHost:DevelopmentUser:Name"] = "Test Admin",
            ["LocalHost:DevelopmentUser:Roles"] = "admin",
        });
        var email = AzuriteFixture.UniqueName("reader") + "@example.com";
        await host.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(Events.Download(email, DateTimeOffset.UtcNow), CancellationToken.None);
        var leadId = TestLeadIds.LeadIdFor(email);

        // Act
        for (var i = 0; i < 40; i++)
        {
            using var response = await host.Client.GetAsync(new Uri($"/api/leads/{leadId}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Assert
        var row = Assert.Single(await RowsAsync(host.Services.GetRequiredService<AccessLogTable>().Client), r => r.PartitionKey == leadId);
        Assert.Equal(40, row.GetInt32("Count"));
        Assert.Equal("00000000-0000-0000-0000-0000000000ad", row.GetString("UserId"));
        Assert.Equal(AccessActions.Read, row.GetString("Action"));
    }

    [Fact]
    public async Task Repeated_reads_on_one_day_fold_into_one_row_with_the_count_and_the_first_and_last_time()
    {
        // Arrange
        var (table, time) = await NewTableAsync();
        var log = Log(table, time);
        var leadId = LeadId();

        // Act
        for (var i = 0; i < 100; i++)
        {
            await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
            time.Advance(TimeSpan.FromMinutes(5));
        }

        // Assert
        var row = Assert.Single(await RowsAsync(table));
        Assert.Equal(100, row.GetInt32("Count"));
        Assert.Equal(Start, row.GetDateTimeOffset("At"));
        Assert.Equal(Start.AddMinutes(5 * 99), row.GetDateTimeOffset("LastAt"));
        Assert.Equal(leadId, row.PartitionKey);
        Assert.Equal(Principals.DanaId, row.GetString("UserId"));
    }

    [Fact]
    public async Task Each_user_action_function_and_day_has_its_own_row_newest_day_first()
    {
        // Arrange
        var (table, time) = await NewTableAsync();
        var log = Log(table, time);
        var leadId = LeadId();

        // Act
        await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
        await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
        await log.RecordAsync(Sam, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
        await log.RecordAsync(Dana, AccessActions.Change, "ChangeLeadStage", leadId, CancellationToken.None);
        time.Advance(TimeSpan.FromDays(1));
        await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);

        // Assert
        var rows = await RowsAsync(table);
        Assert.Equal(4, rows.Count);
        Assert.Equal(Start.AddDays(1), rows[0].GetDateTimeOffset("At"));
        Assert.Equal(
            [(Sam.Id, AccessActions.Read, 1), (Principals.DanaId, AccessActions.Change, 1), (Principals.DanaId, AccessActions.Read, 2)],
            rows.Skip(1).Select(r => (r.GetString("UserId"), r.GetString("Action"), r.GetInt32("Count") ?? 0)).OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal));
    }

    [Fact]
    public async Task List_pages_fold_per_user_and_day_with_the_pages_and_leads_returned_summed()
    {
        // Arrange
        var (table, time) = await NewTableAsync();
        var log = Log(table, time);

        // Act
        for (var i = 0; i < 30; i++)
            await log.RecordListAsync(Dana, "ListLeads", 25, CancellationToken.None);
        await log.RecordAsync(Dana, AccessActions.Search, "SearchLeads", leadId: null, CancellationToken.None);
        await log.RecordAsync(Dana, AccessActions.Search, "SearchLeads", leadId: null, CancellationToken.None);

        // Assert
        var rows = await RowsAsync(table);
        var list = Assert.Single(rows, r => r.PartitionKey == "list-20260302");
        Assert.Equal((30, 750), (list.GetInt32("Count"), list.GetInt32("LeadsReturned")));
        Assert.Equal(2, Assert.Single(rows, r => r.PartitionKey == "nolead-20260302").GetInt32("Count"));
    }

    [Fact]
    public async Task Concurrent_reads_fold_into_one_row_and_a_fold_that_loses_every_race_is_logged_not_dropped_silently()
    {
        // Arrange
        var (table, time) = await NewTableAsync();
        var logger = new ListLogger<AccessLog>();
        var log = new AccessLog(new AccessLogTable(table), time, logger);
        var leadId = LeadId();

        // Act
        await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None)));

        // Assert: every access is either counted or its gap is a warning with the ids.
        var row = Assert.Single(await RowsAsync(table));
        Assert.Equal(12, (row.GetInt32("Count") ?? 0) + logger.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains(leadId, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Retention_deletes_rows_older_than_the_period_and_keeps_recent_ones_in_every_kind_of_partition()
    {
        // Arrange: accesses on day 0 and on day 200, then the sweep on day 400 with a period of 365 days.
        var (table, time) = await NewTableAsync();
        var log = Log(table, time);
        var leadId = LeadId();
        await RecordEveryKindAsync(log, leadId);
        time.Advance(TimeSpan.FromDays(200));
        await RecordEveryKindAsync(log, leadId);
        time.Advance(TimeSpan.FromDays(200));

        // Act
        var result = await Sweep(table, time, new WorkspaceOptions { AccessLogDays = 365 }).RunOnceAsync(CancellationToken.None);

        // Assert
        Assert.True(result.PassCompleted);
        Assert.Equal((3, 0), (result.DeletedAsOld, result.DeletedOverCap));
        var rows = (await RowsAsync(table)).Where(r => r.PartitionKey != "!sweep").ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(Start.AddDays(200), r.GetDateTimeOffset("LastAt")));
        Assert.Contains(rows, r => r.PartitionKey == leadId);
        Assert.Contains(rows, r => r.PartitionKey == "list-20260918");
        Assert.Contains(rows, r => r.PartitionKey == "nolead-20260918");
    }

    [Fact]
    public async Task Rows_written_before_folding_age_out_by_their_time()
    {
        // Arrange: the old layout, one row per access with only At.
        var (table, time) = await NewTableAsync();
        var leadId = LeadId();
        await table.AddEntityAsync(new TableEntity(leadId, "access|" + AccessLog.InvertedTicks(Start) + "|0a1b2c3d4e5f")
        {
            ["UserId"] = Principals.DanaId, ["Action"] = AccessActions.Read, ["Function"] = "GetLead", ["LeadId"] = leadId, ["At"] = Start,
        });
        time.Advance(TimeSpan.FromDays(366));
        await Log(table, time).RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);

        // Act
        var result = await Sweep(table, time, new WorkspaceOptions { AccessLogDays = 365 }).RunOnceAsync(CancellationToken.None);

        // Assert
        Assert.Equal(1, result.DeletedAsOld);
        var row = Assert.Single(await RowsAsync(table), r => r.PartitionKey == leadId);
        Assert.Equal(1, row.GetInt32("Count"));
    }

    [Fact]
    public async Task A_leads_rows_beyond_the_cap_are_deleted_oldest_first_and_a_lead_under_the_cap_is_untouched()
    {
        // Arrange: one lead read on 15 days, another on 5, with a cap of 10 rows per lead.
        var (table, time) = await NewTableAsync();
        var log = Log(table, time);
        var busy = LeadId();
        var quiet = LeadId();
        for (var day = 0; day < 15; day++)
        {
            await log.RecordAsync(Dana, AccessActions.Read, "GetLead", busy, CancellationToken.None);
            if (day < 5)
                await log.RecordAsync(Dana, AccessActions.Read, "GetLead", quiet, CancellationToken.None);
            time.Advance(TimeSpan.FromDays(1));
        }

        // Act
        var result = await Sweep(table, time, new WorkspaceOptions { AccessLogRowsPerLead = 10 }).RunOnceAsync(CancellationToken.None);

        // Assert
        Assert.Equal((0, 5), (result.DeletedAsOld, result.DeletedOverCap));
        var rows = await RowsAsync(table);
        Assert.Equal([.. Enumerable.Range(5, 10).Reverse().Select(d => Start.AddDays(d))], rows.Where(r => r.PartitionKey == busy).Select(r => r.GetDateTimeOffset("At")!.Value));
        Assert.Equal(5, rows.Count(r => r.PartitionKey == quiet));
    }

    [Fact]
    public async Task A_sweep_reads_at_most_its_page_budget_and_the_next_run_resumes_counting_a_lead_that_spans_runs_once()
    {
        // Arrange: 23 rows of one lead, cap 10; pages of 4 rows, one page per run, so the lead spans six runs.
        var (table, time) = await NewTableAsync();
        var log = Log(table, time);
        var leadId = LeadId();
        for (var day = 0; day < 23; day++)
        {
            await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
            time.Advance(TimeSpan.FromDays(1));
        }
        var sweep = Sweep(table, time, new WorkspaceOptions { AccessLogRowsPerLead = 10, AccessLogPagesPerRun = 1 }, pageSize: 4);

        // Act
        var runs = new List<AccessLogRetentionResult>();
        while (runs.Count < 20 && (runs.Count == 0 || !runs[^1].PassCompleted))
            runs.Add(await sweep.RunOnceAsync(CancellationToken.None));

        // Assert
        Assert.True(runs[^1].PassCompleted);
        Assert.All(runs, r => Assert.True(r.PagesRead <= 1 && r.RowsRead <= 4, $"a run read {r.PagesRead} pages, {r.RowsRead} rows"));
        Assert.All(runs.SkipLast(1), r => Assert.Equal("page budget", r.StoppedBy));
        Assert.Equal(13, runs.Sum(r => r.DeletedOverCap));
        var kept = (await RowsAsync(table)).Where(r => r.PartitionKey == leadId).Select(r => r.GetDateTimeOffset("At")!.Value).ToList();
        Assert.Equal([.. Enumerable.Range(13, 10).Reverse().Select(d => Start.AddDays(d))], kept);
    }

    [Fact]
    public async Task Two_sweeps_at_once_leave_the_lead_at_the_cap_and_one_of_them_stops()
    {
        // Arrange
        var (table, time) = await NewTableAsync();
        var log = Log(table, time);
        var leadId = LeadId();
        for (var day = 0; day < 30; day++)
        {
            await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
            time.Advance(TimeSpan.FromDays(1));
        }
        var options = new WorkspaceOptions { AccessLogRowsPerLead = 10 };

        // Act
        var results = await Task.WhenAll(Sweep(table, time, options, pageSize: 5).RunOnceAsync(CancellationToken.None), Sweep(table, time, options, pageSize: 5).RunOnceAsync(CancellationToken.None));
        var after = await Sweep(table, time, options, pageSize: 5).RunOnceAsync(CancellationToken.None);

        // Assert
        Assert.Equal(10, (await RowsAsync(table)).Count(r => r.PartitionKey == leadId));
        Assert.True(results.Any(r => r.PassCompleted) || after.PassCompleted);
    }

    [Fact]
    public async Task A_folded_row_is_in_the_leads_export_with_its_count_and_goes_with_its_erasure_while_the_sweeps_state_stays()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Workspace:AccessLogTable"] = AzuriteFixture.UniqueName("access"),
        });
        var email = AzuriteFixture.UniqueName("folded") + "@example.com";
        await host.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(Events.Download(email, DateTimeOffset.UtcNow), CancellationToken.None);
        var leadId = TestLeadIds.LeadIdFor(email);
        var log = host.Services.GetRequiredService<IAccessLog>();
        for (var i = 0; i < 3; i++)
            await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
        await host.Services.GetRequiredService<IAccessLogRetention>().RunOnceAsync(CancellationToken.None);

        // Act
        var export = await host.Services.GetRequiredService<ILeadExporter>().ExportAsync(leadId, CancellationToken.None);
        await host.Services.GetRequiredService<ILeadEraser>().EraseAsync(leadId, CancellationToken.None);

        // Assert
        var exported = Assert.Single(export!["rows"]!["accessLog"]!.AsArray());
        Assert.Equal(3, exported!["properties"]!["Count"]!.GetValue<int>());
        var remaining = await RowsAsync(host.Services.GetRequiredService<AccessLogTable>().Client);
        Assert.DoesNotContain(remaining, r => r.PartitionKey == leadId);
        var state = Assert.Single(remaining);
        Assert.Equal("!sweep", state.PartitionKey);
        Assert.DoesNotContain(state, p => p.Value?.ToString()?.Contains(leadId, StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task The_retention_timer_sweeps_the_access_log_even_with_lead_retention_off()
    {
        // Arrange: the host's defaults (Retention:* all off, Workspace:AccessLogDays 365); a row last touched 400 days ago.
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Workspace:AccessLogTable"] = AzuriteFixture.UniqueName("access"),
        });
        var table = host.Services.GetRequiredService<AccessLogTable>().Client;
        var old = DateTimeOffset.UtcNow.AddDays(-400);
        var leadId = LeadId();
        await table.AddEntityAsync(new TableEntity(leadId, AccessLog.RowKeyFor(old, Principals.DanaId, AccessActions.Read, "GetLead"))
        {
            ["UserId"] = Principals.DanaId, ["Action"] = AccessActions.Read, ["Function"] = "GetLead", ["LeadId"] = leadId, ["At"] = old, ["LastAt"] = old, ["Count"] = 3,
        });
        await host.Services.GetRequiredService<IAccessLog>().RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);

        // Act
        await host.Services.GetRequiredService<LeadFunctions.Retention.ApplyRetention>().Run(new Microsoft.Azure.Functions.Worker.TimerInfo(), CancellationToken.None);

        // Assert
        var row = Assert.Single(await RowsAsync(table), r => r.PartitionKey == leadId);
        Assert.Equal(1, row.GetInt32("Count"));
    }

    [Theory]
    [InlineData(0, 1000, "Workspace:AccessLogDays")]
    [InlineData(3651, 1000, "Workspace:AccessLogDays")]
    [InlineData(365, 0, "Workspace:AccessLogRowsPerLead")]
    public void The_access_log_bound_cannot_be_switched_off_or_set_past_its_range(int days, int rowsPerLead, string setting)
    {
        var options = new WorkspaceOptions { AccessLogDays = days, AccessLogRowsPerLead = rowsPerLead };
        var results = new List<ValidationResult>();

        var valid = Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.False(valid);
        Assert.Contains(results, r => r.ErrorMessage!.Contains(setting, StringComparison.Ordinal));
    }

    [Fact]
    public void The_defaults_keep_a_year_and_a_thousand_rows_per_lead()
    {
        var options = new WorkspaceOptions();

        Assert.Equal((365, 1000), (options.AccessLogDays, options.AccessLogRowsPerLead));
        Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), null, validateAllProperties: true));
    }

    private static async Task RecordEveryKindAsync(AccessLog log, string leadId)
    {
        await log.RecordAsync(Dana, AccessActions.Read, "GetLead", leadId, CancellationToken.None);
        await log.RecordListAsync(Dana, "ListLeads", 25, CancellationToken.None);
        await log.RecordAsync(Dana, AccessActions.Search, "SearchLeads", leadId: null, CancellationToken.None);
    }

    private static int _leads;

    private static string LeadId() => TestLeadIds.LeadIdFor($"bound{Interlocked.Increment(ref _leads)}-{Guid.NewGuid():N}@example.com");

    private async Task<(TableClient Table, FakeTimeProvider Time)> NewTableAsync()
    {
        var table = new TableServiceClient(azurite.ConnectionString).GetTableClient(AzuriteFixture.UniqueName("access"));
        await table.CreateIfNotExistsAsync();
        return (table, new FakeTimeProvider(Start));
    }

    private static AccessLog Log(TableClient table, TimeProvider time) => new(new AccessLogTable(table), time, NullLogger<AccessLog>.Instance);

    private static AccessLogRetention Sweep(TableClient table, TimeProvider time, WorkspaceOptions options, int pageSize = AccessLogRetention.PageSize) =>
        new(new AccessLogTable(table), Options.Create(options), time, NullLogger<AccessLogRetention>.Instance, pageSize);

    private static async Task<List<TableEntity>> RowsAsync(TableClient table)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(maxPerPage: 1000))
            rows.Add(row);
        return rows;
    }
}
