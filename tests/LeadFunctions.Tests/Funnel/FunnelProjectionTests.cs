using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Funnel;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Mvc;
using static LeadFunctions.Domain.Leads.LifecycleStage;

namespace LeadFunctions.Tests.Funnel;

[Collection(AzuriteCollection.Name)]
public sealed class FunnelProjectionTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Nov2 = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Ten leads over a week (now is 2026-11-08 12:00 UTC, the SLA deadline the default 24 h). All are created as leads on Nov 2
    /// at 09:00; L1..L8 become MQLs 2, 4, … 16 h later; L1..L6 become SQLs on Nov 4 at 10:00. L1 and L2 are accepted after 30 and
    /// 60 minutes and advanced to Opportunity and Customer; L3 is accepted after 2 h and stays an SQL; L4 is rejected back to MQL
    /// after 8 h; L5 is recycled to Lead after 28 h; nobody acts on L6. L7 becomes an SQL on Nov 8 at 11:00 (inside its SLA);
    /// L9 skips MQL with a demo request on Nov 7 at 09:00; L8 stays an MQL, L10 a lead.
    /// </summary>
    internal static List<LeadProjectionWork> History()
    {
        var script = new Script();
        for (var i = 1; i <= 10; i++)
            script.Move(i, Nov2.AddHours(9), Lead);
        for (var i = 1; i <= 8; i++)
            script.Move(i, Nov2.AddHours(9 + 2 * i), Mql);
        var sqlAt = Nov2.AddDays(2).AddHours(10);
        for (var i = 1; i <= 6; i++)
            script.Move(i, sqlAt, Sql);
        script.Move(1, sqlAt.AddMinutes(30), Sql, bySales: true);
        script.Move(2, sqlAt.AddMinutes(60), Sql, bySales: true);
        script.Move(3, sqlAt.AddMinutes(120), Sql, bySales: true);
        script.Move(4, sqlAt.AddHours(8), Mql, bySales: true);
        script.Move(1, sqlAt.AddDays(1), Opportunity, bySales: true);
        script.Move(5, sqlAt.AddHours(28), LifecycleStage.Lead, bySales: true);
        script.Move(1, sqlAt.AddDays(2), Customer, bySales: true);
        script.Move(2, sqlAt.AddDays(2), Opportunity, bySales: true);
        script.Move(9, Nov2.AddDays(5).AddHours(9), Sql);
        script.Move(2, sqlAt.AddDays(4), Customer, bySales: true);
        script.Move(7, Nov2.AddDays(6).AddHours(11), Sql);
        return script.Works;
    }

    [Fact]
    public async Task A_scripted_history_gives_every_number_of_the_report()
    {
        // Arrange
        var harness = new FunnelHarness(azurite);
        foreach (var work in History())
            await harness.ProjectAsync(work);

        // Act
        var report = await harness.ReportAsync("2026-11-02", "2026-11-09");

        // Assert
        AssertScriptedReport(report);
    }

    /// <summary>Every number the scripted history must give, worked out by hand (docs/funnel.md: percentiles are bucket upper bounds).</summary>
    internal static void AssertScriptedReport(FunnelReportResult report)
    {
        Assert.Equal(("2026-11-02", "2026-11-09", "day"), (report.From, report.To, report.Period));
        Assert.Equal(["Subscriber", "Lead", "MQL", "SQL", "Opportunity", "Customer", "Evangelist"], report.Stages.Select(s => s.Stage));
        var stages = report.Stages.ToDictionary(s => s.Stage);

        // Now: L5 and L10 leads; L4 and L8 MQLs; L3, L6, L7, L9 SQLs; L1 and L2 customers.
        Assert.Equal([0L, 2, 2, 4, 0, 2, 0], report.Stages.Select(s => s.Now));
        // Entries: ten new leads and L5's recycle; eight MQLs and L4's reject; six SQLs, L9 and L7; L1 and L2 twice more.
        Assert.Equal([0L, 11, 9, 8, 2, 2, 0], report.Stages.Select(s => s.Entries));
        // Conversion, per entry: 9 of 11 leads moved on (L1..L8, and L9 skipping MQL); 7 of 9 MQLs; 2 of 8 SQLs; both opportunities.
        Assert.Null(stages["Subscriber"].ConversionToNext);
        Assert.Equal(0.8182, stages["Lead"].ConversionToNext);
        Assert.Equal(0.7778, stages["MQL"].ConversionToNext);
        Assert.Equal(0.25, stages["SQL"].ConversionToNext);
        Assert.Equal(1.0, stages["Opportunity"].ConversionToNext);
        Assert.Equal(0.0, stages["Customer"].ConversionToNext);
        Assert.Null(stages["Evangelist"].ConversionToNext);

        // Time in Lead of the nine that left: 2, 4, … 16 h and 120 h (L9). Median 10 h -> bucket bound 2^37/4 min = 10.15 h; p90 120 h -> 136.53 h.
        Assert.Equal((10.15, 136.53), (stages["Lead"].MedianHoursInStage, stages["Lead"].P90HoursInStage));
        // In MQL: 37, 39, 41, 43, 45, 47 h (L6..L1) and 132 h (L7). Median 43 h -> 48.27 h; p90 132 h -> 136.53 h.
        Assert.Equal((48.27, 136.53), (stages["MQL"].MedianHoursInStage, stages["MQL"].P90HoursInStage));
        // In SQL, from the SQL entry even after an accept: 8 h (L4), 24 h (L1), 28 h (L5), 48 h (L2). Median 24 h -> 24.14 h; p90 48 h -> 48.27 h.
        Assert.Equal((24.14, 48.27), (stages["SQL"].MedianHoursInStage, stages["SQL"].P90HoursInStage));
        // In Opportunity: 24 h (L1), 48 h (L2).
        Assert.Equal((24.14, 48.27), (stages["Opportunity"].MedianHoursInStage, stages["Opportunity"].P90HoursInStage));
        Assert.Equal(((double?)null, (double?)null), (stages["Customer"].MedianHoursInStage, stages["Customer"].P90HoursInStage));
        Assert.Null(stages["Subscriber"].MedianHoursInStage);

        // Per day.
        Assert.Equal(["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08"], report.Periods.Select(p => p.Start));
        Assert.Equal(Day(lead: 10, mql: 7), report.Periods[0].Entries);
        Assert.Equal(Day(mql: 1), report.Periods[1].Entries);
        Assert.Equal(Day(mql: 1, sql: 6), report.Periods[2].Entries);
        Assert.Equal(Day(lead: 1, opportunity: 1), report.Periods[3].Entries);
        Assert.Equal(Day(opportunity: 1, customer: 1), report.Periods[4].Entries);
        Assert.Equal(Day(sql: 1), report.Periods[5].Entries);
        Assert.Equal(Day(sql: 1, customer: 1), report.Periods[6].Entries);

        // SLA: L6 (Nov 4 10:00) and L9 (Nov 7 09:00) are open past 24 h; L3 was accepted; L7 is inside its SLA.
        Assert.Equal(2, report.Sla.SqlsPastSla);
        // First actions: 30, 60, 120 (accepts), 480 (reject), 1680 (recycle) minutes; L1's and L2's advances are not first.
        Assert.Equal(5, report.Sla.FirstActions);
        Assert.Equal(128.0, report.Sla.MedianMinutesToFirstAction);
        Assert.Equal(1722.2, report.Sla.P90MinutesToFirstAction);
    }

    [Fact]
    public async Task Weeks_start_on_Monday_and_the_periods_are_clipped_to_the_range()
    {
        // Arrange
        var harness = new FunnelHarness(azurite);
        foreach (var work in History())
            await harness.ProjectAsync(work);

        // Act: from Wednesday Nov 4 to Tuesday Nov 10.
        var weeks = await harness.ReportAsync("2026-11-04", "2026-11-10", "week");
        var month = await harness.ReportAsync("2026-10-15", "2026-11-09", "month");

        // Assert
        Assert.Equal(["2026-11-04", "2026-11-09"], weeks.Periods.Select(p => p.Start));
        Assert.Equal(Day(lead: 1, mql: 1, sql: 8, opportunity: 2, customer: 2), weeks.Periods[0].Entries);
        Assert.Equal(Day(), weeks.Periods[1].Entries);
        // The SQL cohort of Nov 4..9: the six of Nov 4 (two converted), L9 and L7.
        Assert.Equal(0.25, weeks.Stages.Single(s => s.Stage == "SQL").ConversionToNext);
        Assert.Equal(["2026-10-15", "2026-11-01"], month.Periods.Select(p => p.Start));
        Assert.Equal(Day(), month.Periods[0].Entries);
        Assert.Equal(Day(lead: 11, mql: 9, sql: 8, opportunity: 2, customer: 2), month.Periods[1].Entries);
    }

    [Fact]
    public async Task A_redelivered_work_counts_nothing_again()
    {
        // Arrange
        var harness = new FunnelHarness(azurite);
        var history = History();
        foreach (var work in history)
            await harness.ProjectAsync(work);
        var before = FunnelHarness.Json(await harness.ReportAsync("2026-11-02", "2026-11-09"));
        var rows = harness.Rows().Count;

        // Act: every work delivered again, to the instance that counted it (its counter rows remembered) in the same order, and
        // to another instance in reverse.
        foreach (var work in history)
            await harness.ProjectAsync(work);
        var other = harness.NewProjection();
        foreach (var work in Enumerable.Reverse(history))
            await other.ProjectAsync(work, CancellationToken.None);

        // Assert
        Assert.Equal(before, FunnelHarness.Json(await harness.ReportAsync("2026-11-02", "2026-11-09")));
        Assert.Equal(rows, harness.Rows().Count);
    }

    [Fact]
    public async Task Two_instances_projecting_on_one_shard_at_once_lose_no_increment()
    {
        // Arrange: one shard, so every work writes the same rows.
        var harness = new FunnelHarness(azurite, shards: 1);
        var at = Nov2.AddHours(9);
        LeadProjectionWork Created(string worker, int i) =>
            Works.Of($"lead-{worker}-{i}", $"ev-{worker}-{i}", Works.Move(0, at, null, null, Lead), Works.Move(1, at.AddMinutes(i), Lead, at, Mql));

        // Act: two instances (each its own locks and memory), as two hosts.
        var a = harness.NewProjection();
        var b = harness.NewProjection();
        await Task.WhenAll(
            Task.Run(async () => { for (var i = 0; i < 15; i++) await a.ProjectAsync(Created("a", i), CancellationToken.None); }),
            Task.Run(async () => { for (var i = 0; i < 15; i++) await b.ProjectAsync(Created("b", i), CancellationToken.None); }));

        // Assert
        var report = await harness.ReportAsync("2026-11-02", "2026-11-03");
        var stages = report.Stages.ToDictionary(s => s.Stage);
        Assert.Equal((0L, 30L), (stages["Lead"].Now, stages["MQL"].Now));
        Assert.Equal((30L, 30L), (stages["Lead"].Entries, stages["MQL"].Entries));
        Assert.Equal(1.0, stages["Lead"].ConversionToNext);
    }

    [Fact]
    public async Task Counters_spread_over_the_shards_and_hold_no_lead_data()
    {
        // Arrange
        var harness = new FunnelHarness(azurite);

        // Act
        foreach (var work in History())
            await harness.ProjectAsync(work);

        // Assert: more than one partition written, and no row carries anything but counts, times and flags.
        var rows = harness.Rows();
        Assert.True(rows.Select(r => r.PartitionKey).Distinct().Count() > 1);
        Assert.All(rows, r => Assert.All(r.Keys.Except(["PartitionKey", "RowKey", "odata.etag", "Timestamp"]),
            k => Assert.Matches("^(Count|[EC][1-7]|b[0-9]{2}|Entered|Acted|Closed|ClosedAt)$", k)));
    }

    [Fact]
    public async Task Markers_older_than_the_marker_days_are_deleted_and_counters_and_open_episodes_kept()
    {
        // Arrange
        var harness = new FunnelHarness(azurite);
        foreach (var work in History())
            await harness.ProjectAsync(work);
        var before = FunnelHarness.Json(await harness.ReportAsync("2026-11-02", "2026-11-09"));
        var markers = harness.Rows().Count(r => r.RowKey.StartsWith("m|", StringComparison.Ordinal));

        // Act: 91 days on; then the rest of the history's markers are past 90 days too.
        harness.Time.SetUtcNow(new DateTimeOffset(2027, 2, 5, 12, 0, 0, TimeSpan.Zero));
        var first = await harness.Maintenance.PruneAsync(CancellationToken.None);
        var rows = harness.Rows();

        // Assert: the markers of Nov 2..6 are gone (cut-off day Nov 7), the closed SQL episode markers too (L1 and L2: the entry and
        // the accept; L3's entry, closed by its accept; L4, L5); L3's open one (since its accept) stays.
        Assert.Equal(markers - rows.Count(r => r.RowKey.StartsWith("m|", StringComparison.Ordinal)), first.MarkersDeleted);
        Assert.All(rows.Where(r => r.RowKey.StartsWith("m|", StringComparison.Ordinal)), r => Assert.StartsWith("m|2026110", r.RowKey));
        Assert.DoesNotContain(rows, r => string.CompareOrdinal(r.RowKey, "m|20261107") < 0 && r.RowKey.StartsWith("m|", StringComparison.Ordinal));
        Assert.True(first.MarkersDeleted > 0);
        Assert.Equal(7, first.EpisodesDeleted);
        Assert.Single(rows, r => r.RowKey.StartsWith("f|", StringComparison.Ordinal));
        var after = await harness.ReportAsync("2026-11-02", "2026-11-09");
        Assert.Equal(before, FunnelHarness.Json(after with { Sla = after.Sla with { SqlsPastSla = 2 } }));
        // Months later L7 is past its SLA too.
        Assert.Equal(3, after.Sla.SqlsPastSla);
    }

    [Theory]
    [InlineData("?from=2026-11-09&to=2026-11-02", "to")]
    [InlineData("?from=2026-11-02&to=2026-11-02", "to")]
    [InlineData("?from=2025-01-01&to=2026-11-02", "to")]
    [InlineData("?from=yesterday&to=2026-11-02", "from")]
    [InlineData("?from=2026-11-01&to=2026-11-31", "to")]
    [InlineData("?from=2026-11-01&to=2026-11-08&period=year", "period")]
    [InlineData("?period=Day", "period")]
    public async Task A_bad_parameter_is_a_400_problem_naming_it(string query, string field)
    {
        // Arrange
        var harness = new FunnelHarness(azurite);

        // Act
        var result = await harness.GetAsync(query);

        // Assert
        var bad = Assert.IsType<BadRequestObjectResult>(result);
        var problem = Assert.IsType<ValidationProblemDetails>(bad.Value);
        Assert.Equal(400, problem.Status);
        Assert.Equal([field], problem.Errors.Keys);
    }

    [Fact]
    public async Task The_function_answers_the_contract_shape_in_camel_case_with_stage_names()
    {
        // Arrange
        var harness = new FunnelHarness(azurite);
        foreach (var work in History())
            await harness.ProjectAsync(work);

        // Act
        var result = await harness.GetAsync("?from=2026-11-02&to=2026-11-09&period=week");

        // Assert
        var ok = Assert.IsType<OkObjectResult>(result);
        using var json = System.Text.Json.JsonDocument.Parse(FunnelHarness.Json(ok.Value!));
        var root = json.RootElement;
        Assert.Equal(["from", "to", "period", "stages", "periods", "sla"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["stage", "now", "entries", "conversionToNext", "medianHoursInStage", "p90HoursInStage"],
            root.GetProperty("stages")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(["start", "entries"], root.GetProperty("periods")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(11, root.GetProperty("periods")[0].GetProperty("entries").GetProperty("Lead").GetInt32());
        Assert.Equal(8, root.GetProperty("periods")[0].GetProperty("entries").GetProperty("SQL").GetInt32());
        Assert.Equal(["sqlsPastSla", "medianMinutesToFirstAction", "p90MinutesToFirstAction", "firstActions"],
            root.GetProperty("sla").EnumerateObject().Select(p => p.Name));
        Assert.Equal("week", root.GetProperty("period").GetString());
    }

    [Fact]
    public async Task Without_parameters_the_report_covers_the_last_30_days_by_day()
    {
        // Arrange
        var harness = new FunnelHarness(azurite);

        // Act
        var result = Assert.IsType<OkObjectResult>(await harness.GetAsync(""));

        // Assert
        var report = Assert.IsType<FunnelReportResult>(result.Value);
        Assert.Equal(("2026-10-10", "2026-11-09", "day", 30), (report.From, report.To, report.Period, report.Periods.Count));
        Assert.All(report.Stages, s => Assert.Equal((0L, 0L), (s.Now, s.Entries)));
    }

    internal static Dictionary<string, long> Day(long lead = 0, long mql = 0, long sql = 0, long opportunity = 0, long customer = 0) => new()
    {
        ["Subscriber"] = 0,
        ["Lead"] = lead,
        ["MQL"] = mql,
        ["SQL"] = sql,
        ["Opportunity"] = opportunity,
        ["Customer"] = customer,
        ["Evangelist"] = 0,
    };

    /// <summary>Keeps each lead's stage and stage-changed time as the lead row does (an accept resets the time), one event per move.</summary>
    private sealed class Script
    {
        private readonly Dictionary<int, (LifecycleStage Stage, DateTimeOffset Since)> _leads = [];
        private int _events;

        public List<LeadProjectionWork> Works { get; } = [];

        public void Move(int lead, DateTimeOffset at, LifecycleStage to, bool bySales = false)
        {
            var known = _leads.TryGetValue(lead, out var current);
            var transition = Funnel.Works.Move(0, at, known ? current.Stage : null, known ? current.Since : null, to, bySales);
            Works.Add(Funnel.Works.Of($"L{lead}", $"ev-{++_events}", transition));
            _leads[lead] = (to, at);
        }
    }
}
