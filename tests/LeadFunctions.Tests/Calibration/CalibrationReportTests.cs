using LeadFunctions.Admin;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Stages;
using LeadFunctions.Tests.Support;
using LeadFunctions.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Tests.Calibration;

/// <summary>The calibration report over leads the real processor moved through their stages, in Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CalibrationReportTests(AzuriteFixture azurite)
{
    private static readonly Dictionary<string, string> Cto = new() { ["role"] = "CTO" };

    [Fact]
    public async Task Leads_driven_through_the_processor_are_counted_by_the_band_and_grade_they_first_qualified_in()
    {
        // Arrange: two MQLs at 75 (grade B), one of them on to SQL, Opportunity and Customer; one SQL straight from a demo request.
        var harness = new ScoringHarness(azurite);
        var converted = await AnMqlAt75Async(harness, "won@example.com");
        await AnMqlAt75Async(harness, "stayed@example.com");
        await harness.ProcessAsync([Events.Download("won@example.com", harness.Time.GetUtcNow())]); // 105: SQL
        await harness.ProcessAsync([Advance(harness, converted, "opportunity"), Advance(harness, converted, "customer")]);
        await harness.ProcessAsync([Events.Form("demo@example.com", harness.Time.GetUtcNow(), FormIntent.DemoRequest)]);
        await harness.ProcessAsync([Events.Download("nobody@example.com", harness.Time.GetUtcNow())]); // never qualifies

        // Act: 75 falls in 70-80 only if it is read from the qualification; the demo request's 60 (from its ledger) in 0-70.
        var view = await ReportAsync(harness, "bands=0,70,80");

        // Assert
        Assert.False(view.Partial);
        Assert.Equal(4, view.LeadsScanned);
        var report = view.Report;
        Assert.Equal((3, 2, 1), (report.Leads, report.EnteredAtMql, report.EnteredAtSql));
        Assert.Equal(1, report.ScoresFromLedger);
        Assert.Equal(1, report.GradesCurrent);
        var mqls = Assert.Single(report.Bands, b => b.Label == "70-80");
        Assert.Equal((2, 2, 0), (mqls.Leads, mqls.EnteredAtMql, mqls.EnteredAtSql));
        Assert.Equal((1, 2), (mqls.Sql.Count, mqls.Sql.Of));
        Assert.Equal((1, 2), (mqls.Opportunity.Count, mqls.Opportunity.Of));
        Assert.Equal((1, 2), (mqls.Customer.Count, mqls.Customer.Of));
        var demo = Assert.Single(report.Bands, b => b.Label == "0-70");
        Assert.Equal((1, 0, 1), (demo.Leads, demo.EnteredAtMql, demo.EnteredAtSql));
        Assert.Equal((0, 0), (demo.Sql.Count, demo.Sql.Of));
        Assert.Equal(0, Assert.Single(report.Bands, b => b.Label == "80+").Leads);
        Assert.Equal(["B", "D"], report.Grades.Select(g => g.Label));
        Assert.Equal(2, Assert.Single(report.Grades, g => g.Label == "B").Leads);
        Assert.StartsWith("not enough data", report.Suggestion.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_rows_of_the_first_key_layout_are_read_in_time_order_like_the_new_ones()
    {
        // Arrange: a lead written before the newest-first keys, its moves under h|{ticks}.
        var harness = new ScoringHarness(azurite);
        var at = harness.Time.GetUtcNow().AddDays(-30);
        const string leadId = "legacy-lead";
        await harness.Table.Client.AddEntityAsync(new LeadEntity { PartitionKey = leadId, Stage = "Sql", FitGrade = "A", CreatedAt = at, UpdatedAt = at });
        await AddLegacyMoveAsync(harness, leadId, at, null, "Lead", "first event (page-view)", 0);
        await AddLegacyMoveAsync(harness, leadId, at.AddDays(1), "Lead", "Mql", "MQL: engagement 85.5 >= 50 and fit grade A >= C", 1);
        await AddLegacyMoveAsync(harness, leadId, at.AddDays(2), "Mql", "Sql", "SQL: engagement 120 >= 100 and fit grade A >= B", 2);

        // Act
        var report = (await ReportAsync(harness, "bands=0,80,100")).Report;

        // Assert
        var band = Assert.Single(report.Bands, b => b.Label == "80-100");
        Assert.Equal((1, 1), (band.Leads, band.EnteredAtMql));
        Assert.Equal((1, 1), (band.Sql.Count, band.Sql.Of));
        Assert.Equal("A", Assert.Single(report.Grades).Label);
        Assert.Equal(0, report.ScoresFromLedger);
    }

    private static Task AddLegacyMoveAsync(ScoringHarness harness, string leadId, DateTimeOffset at, string? from, string to, string reason, int n) =>
        harness.Table.Client.AddEntityAsync(new HistoryEntity
        {
            PartitionKey = leadId,
            RowKey = LeadRows.LegacyHistory(at, "legacy-" + n, 0),
            At = at,
            From = from,
            To = to,
            Reason = reason,
            CausedBy = "legacy-" + n,
            ModelVersion = "old",
        });

    [Fact]
    public async Task A_call_limited_to_fewer_leads_than_the_table_holds_says_it_is_partial()
    {
        var harness = new ScoringHarness(azurite);
        await AnMqlAt75Async(harness, "a@example.com");
        await AnMqlAt75Async(harness, "b@example.com");
        await AnMqlAt75Async(harness, "c@example.com");

        var view = await ReportAsync(harness, "maxLeads=2");

        Assert.True(view.Partial);
        Assert.Equal(2, view.LeadsScanned);
        Assert.Equal(2, view.Report.Leads);
    }

    [Fact]
    public async Task The_text_format_is_a_plain_table()
    {
        var harness = new ScoringHarness(azurite);
        await AnMqlAt75Async(harness, "a@example.com");

        var result = await new GetScoringCalibration(Reports(harness)).Run(Get("format=text"), CancellationToken.None);

        var content = Assert.IsType<ContentResult>(result);
        Assert.StartsWith("text/plain", content.ContentType, StringComparison.Ordinal);
        Assert.Contains("60-80", content.Content, StringComparison.Ordinal);
        Assert.Contains("Suggested MQL bar: not enough data", content.Content, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bands=0,abc", "bands")]
    [InlineData("bands=40,20", "bands")]
    [InlineData("recentDays=0", "recentDays")]
    [InlineData("recentDays=ninety", "recentDays")]
    [InlineData("maxLeads=100000", "maxLeads")]
    [InlineData("format=xml", "format")]
    public async Task A_bad_parameter_is_a_400_naming_it(string query, string field)
    {
        var harness = new ScoringHarness(azurite);

        var result = await new GetScoringCalibration(Reports(harness)).Run(Get(query), CancellationToken.None);

        var problem = Assert.IsType<BadRequestObjectResult>(result);
        Assert.Equal(400, problem.StatusCode);
        Assert.Equal([field], Assert.IsType<ValidationProblemDetails>(problem.Value).Errors.Keys);
    }

    [Fact]
    public async Task The_workspace_report_is_for_marketing_and_refuses_sales()
    {
        var harness = new ScoringHarness(azurite);
        await AnMqlAt75Async(harness, "a@example.com");
        var function = new ShowWorkspaceCalibration(Reports(harness), SignedIn.Access);

        var marketing = SignedIn.Unwrap(await function.Run(SignedIn.As(Get(""), WorkspaceRoles.Marketing), CancellationToken.None));
        var sales = SignedIn.Unwrap(await function.Run(SignedIn.As(Get(""), WorkspaceRoles.Sales), CancellationToken.None));

        Assert.Equal(1, Assert.IsType<CalibrationView>(Assert.IsType<OkObjectResult>(marketing).Value).Report.Leads);
        Assert.Equal(403, StageHarness.StatusOf(sales));
    }

    private static async Task<string> AnMqlAt75Async(ScoringHarness harness, string email)
    {
        var now = harness.Time.GetUtcNow();
        await harness.ProcessAsync([
            Events.Form(email, now, FormIntent.ContentDownload, profile: Cto), // 15, fit 50: grade B
            Events.Download(email, now), // 45
            Events.Download(email, now), // 75: MQL
        ]);
        return ScoringHarness.LeadIdOf(email);
    }

    private static LeadEvent Advance(ScoringHarness harness, string leadId, string toStage) => new()
    {
        EventId = Events.NewId(),
        Type = LeadEventTypes.SalesDecision,
        OccurredAt = harness.Time.GetUtcNow(),
        LeadId = leadId,
        Properties = new Dictionary<string, string>
        {
            [LeadEventProperties.Decision] = "advance",
            [LeadEventProperties.ToStage] = toStage,
            [LeadEventProperties.Actor] = "sam",
        },
    };

    private static CalibrationReports Reports(ScoringHarness harness) => new(new CalibrationSource(harness.Table, harness.Model), harness.Time);

    private static async Task<CalibrationView> ReportAsync(ScoringHarness harness, string query)
    {
        var result = await new GetScoringCalibration(Reports(harness)).Run(Get(query), CancellationToken.None);
        return Assert.IsType<CalibrationView>(Assert.IsType<OkObjectResult>(result).Value);
    }

    private static HttpRequest Get(string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/api/ops/scoring/calibration";
        context.Request.QueryString = new QueryString(query.Length == 0 ? "" : "?" + query);
        return context.Request;
    }
}

public sealed class CalibrationHistoryOrderTests
{
    [Fact]
    public void Moves_of_different_events_at_one_instant_are_ordered_by_where_each_starts_not_by_their_keys()
    {
        // Arrange: one clock tick saw the lead enter MQL and then SQL; the keys (by event id) sort the SQL move first.
        var at = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
        var history = new List<LeadFunctions.Infrastructure.Scoring.CalibrationSource.HistoryStep>
        {
            new(at.AddDays(-1), "h|a", null, LifecycleStage.Lead, "first event"),
            new(at, "h|b-sql", LifecycleStage.Mql, LifecycleStage.Sql, "SQL: …"),
            new(at, "h|c-mql", LifecycleStage.Lead, LifecycleStage.Mql, "MQL: …"),
        };

        // Act
        LeadFunctions.Infrastructure.Scoring.CalibrationSource.OrderHistory(history);

        // Assert
        Assert.Equal([LifecycleStage.Lead, LifecycleStage.Mql, LifecycleStage.Sql], history.Select(h => h.To));
    }
}
