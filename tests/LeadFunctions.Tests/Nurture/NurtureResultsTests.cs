using System.Text.Json;
using Azure.Data.Tables;
using LeadFunctions.Admin;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Nurture.Results;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Tests.Stages;
using LeadFunctions.Tests.Support;
using LeadFunctions.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// Per-step results of nurture e-mails, kept as the facts happen (docs/nurture-results.md): the nurture feature as the app wires
/// it over fresh tables in Azurite, the real tracker, delivery-report recorder and goal projection, and the report endpoints.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class NurtureResultsTests(AzuriteFixture azurite)
{
    private const string Scanner = "Mozilla/5.0 (compatible; Barracuda Sentinel; +https://www.barracuda.com)";

    [Fact]
    public async Task A_scripted_journey_counts_sends_reports_human_hits_unsubscribes_and_goals_within_the_window_once_each()
    {
        // Arrange: four MQLs get step "first"; a (opens twice, clicks twice, delivered), b (bounces), c (delivered, unsubscribes),
        // d (delivered, qualifies 31 days later: outside the 30-day window of "first", inside that of "second").
        await using var harness = new NurtureHarness(azurite);
        var journey = new Journey(harness);
        var (a, b, c, d) = (await journey.EnrolAsync("a"), await journey.EnrolAsync("b"), await journey.EnrolAsync("c"), await journey.EnrolAsync("d"));
        var start = harness.Time.GetUtcNow();
        Assert.Equal(4, (await harness.RunAsync()).Sent);

        // Act
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        var opened = journey.Token(a, "first", TrackingKind.Open, start);
        Assert.True(await harness.Tracker.RecordOpenAsync(opened, "GET", TrackingLinks.Browser, CancellationToken.None));
        Assert.True(await harness.Tracker.RecordOpenAsync(opened, "GET", TrackingLinks.Browser, CancellationToken.None));
        Assert.True(await harness.Tracker.RecordOpenAsync(opened, "GET", Scanner, CancellationToken.None)); // a scanner: not counted
        Assert.True(await harness.Tracker.RecordOpenAsync(journey.Token(b, "first", TrackingKind.Open, start), "HEAD", TrackingLinks.Browser, CancellationToken.None)); // a prefetch: not counted
        var clicked = journey.Token(a, "first", TrackingKind.Click, start, "https://contoso.example/pricing");
        Assert.NotNull(await harness.Tracker.RecordClickAsync(clicked, "GET", TrackingLinks.Browser, CancellationToken.None));
        Assert.NotNull(await harness.Tracker.RecordClickAsync(clicked, "GET", TrackingLinks.Browser, CancellationToken.None));
        Assert.NotNull(await harness.Tracker.RecordClickAsync(clicked, "HEAD", TrackingLinks.Browser, CancellationToken.None)); // not counted

        var delivered = Report(journey, a, "first", "Delivered", "evt-a-delivered");
        Assert.Equal(DeliveryReportResult.Counted, await journey.Recorder.RecordAsync(delivered, CancellationToken.None));
        Assert.Equal(DeliveryReportResult.Duplicate, await journey.Recorder.RecordAsync(delivered, CancellationToken.None)); // Event Grid redelivers
        await journey.Recorder.RecordAsync(Report(journey, a, "first", "Expanded", "evt-a-expanded"), CancellationToken.None);
        await journey.Recorder.RecordAsync(Report(journey, b, "first", "Bounced", "evt-b-bounced"), CancellationToken.None);
        await journey.Recorder.RecordAsync(Report(journey, c, "first", "Delivered", "evt-c-delivered"), CancellationToken.None);
        await journey.Recorder.RecordAsync(Report(journey, d, "first", "Delivered", "evt-d-delivered"), CancellationToken.None);

        var unsubscribe = journey.Token(c, "first", TrackingKind.Unsubscribe, start);
        Assert.True(await harness.Tracker.UnsubscribeAsync(unsubscribe, "one-click", CancellationToken.None));
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await harness.Tracker.UnsubscribeAsync(unsubscribe, "page", CancellationToken.None)); // pressed again

        harness.Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(2, (await harness.RunAsync()).Sent); // "second" to a and d; b is suppressed by its bounce, c unsubscribed
        await harness.RunAsync(); // an overlapping or repeated run sends and counts nothing more

        harness.Time.Advance(TimeSpan.FromDays(3));
        var aQualifies = journey.Sql(a, harness.Time.GetUtcNow());
        await journey.Goals.ProjectAsync(aQualifies, CancellationToken.None);
        await journey.Goals.ProjectAsync(aQualifies, CancellationToken.None); // the processor runs the work again on a redelivery
        harness.Time.Advance(TimeSpan.FromDays(26));
        await journey.Goals.ProjectAsync(journey.Sql(d, start.AddDays(31)), CancellationToken.None);
        var results = await journey.ReportAsync();

        // Assert
        var trio = Assert.Single(results.Programmes, p => p.Programme == "trio");
        Assert.Equal(["first", "second", "third"], trio.Steps.Select(s => s.Step));
        Assert.Equal(new NurtureStepResult("first", Sent: 4, Delivered: 3, Bounced: 1, Opened: 1, HumanOpens: 2, Clicked: 1, HumanClicks: 2,
            Unsubscribed: 1, Goals: 1, GoalWindowDays: 30), trio.Steps[0]);
        Assert.Equal(new NurtureStepResult("second", Sent: 2, Delivered: 0, Bounced: 0, Opened: 0, HumanOpens: 0, Clicked: 0, HumanClicks: 0,
            Unsubscribed: 0, Goals: 2, GoalWindowDays: 30), trio.Steps[1]);
        Assert.Equal(new NurtureStepResult("third", 0, 0, 0, 0, 0, 0, 0, 0, 0, 30), trio.Steps[2]);
    }

    [Fact]
    public async Task The_processor_counts_a_goal_for_the_nurture_step_when_the_lead_moves_from_mql_to_sql()
    {
        // Arrange: the real processor. A demo request makes an SQL, the rep sends it back to MQL, nurture sends step "first".
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var directory = harness.Services.GetRequiredService<ILeadDirectory>();
        var email = AzuriteFixture.UniqueName("goal") + "@example.com";
        var leadId = TestLeadIds.LeadIdFor(email);
        await processor.ProcessAsync(DemoRequest(harness, email, "form-1"), CancellationToken.None);
        await processor.ProcessAsync(new LeadEvent
        {
            EventId = "reject-1",
            Type = LeadEventTypes.SalesDecision,
            OccurredAt = harness.Time.GetUtcNow(),
            LeadId = leadId,
            Properties = new Dictionary<string, string>
            {
                [LeadEventProperties.Decision] = "reject",
                [LeadEventProperties.ToStage] = "mql",
                [LeadEventProperties.Reason] = "not yet",
                [LeadEventProperties.Actor] = "sam",
            },
        }, CancellationToken.None);
        Assert.Equal(LifecycleStage.Mql, (await directory.FindSummaryAsync(leadId, CancellationToken.None))!.Stage);
        harness.Time.Advance(TimeSpan.FromMinutes(15));
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromDays(1));
        await harness.RunAsync();
        Assert.Contains((await harness.MessagesAsync()).Select(m => m.Subject ?? ""), s => s.StartsWith("First for", StringComparison.Ordinal));

        // Act: a day later the lead asks for a demo again and is an SQL once more; the event is delivered twice.
        harness.Time.Advance(TimeSpan.FromDays(1));
        var again = DemoRequest(harness, email, "form-2");
        await processor.ProcessAsync(again, CancellationToken.None);
        await processor.ProcessAsync(again, CancellationToken.None);
        var step = (await new Journey(harness).ReportAsync()).Programmes.Single(p => p.Programme == "trio").Steps[0];

        // Assert
        Assert.Equal(LifecycleStage.Sql, (await directory.FindSummaryAsync(leadId, CancellationToken.None))!.Stage);
        Assert.Equal((1L, 1L), (step.Sent, step.Goals));
    }

    [Fact]
    public async Task Counting_a_message_again_and_again_in_parallel_adds_nothing_after_the_first_time()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var journey = new Journey(harness);
        var a = await journey.EnrolAsync("a");
        var start = harness.Time.GetUtcNow();
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        await harness.Tracker.RecordOpenAsync(journey.Token(a, "first", TrackingKind.Open, start), "GET", TrackingLinks.Browser, CancellationToken.None);
        var results = harness.Services.GetRequiredService<INurtureResults>();
        var messageId = Journey.MessageId(a, "first");

        // Act: the timer, a report and a hit all counting the same message at once, several times over.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => results.CountAsync(a, messageId, CancellationToken.None)));
        await results.CountAsync(a, messageId, CancellationToken.None);
        var step = (await journey.ReportAsync()).Programmes.Single(p => p.Programme == "trio").Steps[0];

        // Assert
        Assert.Equal((1L, 1L, 1L), (step.Sent, step.Opened, step.HumanOpens));
    }

    [Fact]
    public async Task When_counting_fails_after_the_send_the_email_is_not_sent_again_and_the_retried_item_counts_it()
    {
        // Arrange: the results table is gone (storage trouble) when the timer sends.
        await using var harness = new NurtureHarness(azurite);
        var journey = new Journey(harness);
        await journey.EnrolAsync("a");
        await journey.ResultsTable.Client.DeleteAsync();

        // Act
        var failed = await harness.RunAsync();
        await journey.ResultsTable.Client.CreateIfNotExistsAsync();
        harness.Time.Advance(TimeSpan.FromHours(1));
        var retried = await harness.RunAsync();
        var step = (await journey.ReportAsync()).Programmes.Single(p => p.Programme == "trio").Steps[0];

        // Assert: one e-mail went; the first run's item failed (to be retried), the retry found it sent and counted it once.
        Assert.Single(harness.EmlFiles());
        Assert.Equal((0, 1), (failed.Sent, failed.Failed));
        Assert.Equal((0, 0, 0), (retried.Sent, retried.Failed, retried.Parked));
        Assert.Equal(1, step.Sent);
    }

    [Fact]
    public async Task The_results_table_names_no_lead_and_no_message()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var journey = new Journey(harness);
        var a = await journey.EnrolAsync("a");
        await harness.RunAsync();
        await journey.Recorder.RecordAsync(Report(journey, a, "first", "Delivered", "evt-1"), CancellationToken.None);

        // Act
        var rows = await journey.ResultsTable.Client.QueryAsync<TableEntity>().ToListAsync();

        // Assert: a counter row and a marker, neither with the lead id (a message id contains it) in a key or a value.
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row =>
        {
            Assert.DoesNotContain(a, row.RowKey, StringComparison.Ordinal);
            Assert.All(row, p => Assert.DoesNotContain(a, p.Value?.ToString() ?? "", StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task A_message_older_than_the_marker_days_is_not_counted_and_its_marker_is_pruned()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var journey = new Journey(harness);
        var a = await journey.EnrolAsync("a");
        var start = harness.Time.GetUtcNow();
        await harness.RunAsync();
        var maintenance = harness.Services.GetRequiredService<NurtureResultsMaintenance>();
        var markerDays = harness.Services.GetRequiredService<IOptions<NurtureResultsOptions>>().Value.MarkerDays;

        // Act
        harness.Time.Advance(TimeSpan.FromDays(markerDays) + TimeSpan.FromHours(1));
        await harness.Tracker.RecordOpenAsync(journey.Token(a, "first", TrackingKind.Open, start), "GET", TrackingLinks.Browser, CancellationToken.None);
        var keptWhileRecent = await maintenance.PruneAsync(CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromDays(2));
        var pruned = await maintenance.PruneAsync(CancellationToken.None);
        await harness.Tracker.RecordOpenAsync(journey.Token(a, "first", TrackingKind.Open, start), "GET", TrackingLinks.Browser, CancellationToken.None);
        var step = (await journey.ReportAsync()).Programmes.Single(p => p.Programme == "trio").Steps[0];

        // Assert
        Assert.Equal((0, 1), (keptWhileRecent, pruned));
        Assert.Equal((1L, 0L, 0L), (step.Sent, step.Opened, step.HumanOpens));
    }

    [Fact]
    public async Task The_admin_endpoint_answers_the_report_as_json_with_the_documented_names()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var journey = new Journey(harness);
        await journey.EnrolAsync("a");
        await harness.RunAsync();
        var function = new GetNurtureResults(harness.Services.GetRequiredService<INurtureResultsReport>());

        // Act
        var result = await function.Run(Get("/api/ops/nurture/results"), CancellationToken.None);

        // Assert
        var body = JsonSerializer.SerializeToElement(Assert.IsType<OkObjectResult>(result).Value, JsonSerializerOptions.Web);
        var step = body.GetProperty("programmes")[0].GetProperty("steps")[0];
        Assert.Equal("trio", body.GetProperty("programmes")[0].GetProperty("programme").GetString());
        Assert.Equal("first", step.GetProperty("step").GetString());
        Assert.Equal(1, step.GetProperty("sent").GetInt64());
        Assert.Equal(
            ["step", "sent", "delivered", "bounced", "opened", "humanOpens", "clicked", "humanClicks", "unsubscribed", "goals", "goalWindowDays"],
            step.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task The_workspace_endpoint_is_for_marketing_and_admin_and_refuses_sales_and_the_signed_out()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var journey = new Journey(harness);
        await journey.EnrolAsync("a");
        await harness.RunAsync();
        var function = new ShowWorkspaceNurtureResults(harness.Services.GetRequiredService<INurtureResultsReport>(), SignedIn.Access);

        // Act
        var marketing = SignedIn.Unwrap(await function.Run(SignedIn.As(Get("/api/workspace/nurture/results"), WorkspaceRoles.Marketing), CancellationToken.None));
        var admin = SignedIn.Unwrap(await function.Run(SignedIn.As(Get("/api/workspace/nurture/results"), WorkspaceRoles.Admin), CancellationToken.None));
        var sales = SignedIn.Unwrap(await function.Run(SignedIn.As(Get("/api/workspace/nurture/results"), WorkspaceRoles.Sales), CancellationToken.None));
        var nobody = SignedIn.Unwrap(await function.Run(Get("/api/workspace/nurture/results"), CancellationToken.None));

        // Assert
        Assert.Equal(1, Assert.IsType<NurtureResultsView>(Assert.IsType<OkObjectResult>(marketing).Value).Programmes.Single(p => p.Programme == "trio").Steps[0].Sent);
        Assert.IsType<OkObjectResult>(admin);
        Assert.Equal(403, StageHarness.StatusOf(sales));
        Assert.Equal(401, StageHarness.StatusOf(nobody));
    }

    private static LeadEvent DemoRequest(NurtureHarness harness, string email, string eventId) => new()
    {
        EventId = eventId,
        Type = LeadEventTypes.FormSubmission,
        OccurredAt = harness.Time.GetUtcNow(),
        Email = email,
        FormId = "demo",
        Intent = FormIntent.DemoRequest,
        Profile = new Dictionary<string, string> { ["firstName"] = "Dora", ["lastName"] = "Demo", ["country"] = "FR" },
        Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, harness.Time.GetUtcNow(), "demo form")],
    };

    private static DeliveryReport Report(Journey journey, string leadId, string step, string status, string eventId) =>
        new(eventId, MessageIdentity.RequestId(Journey.MessageId(leadId, step)).ToString("D"), journey.EmailOf(leadId), status, status == "Bounced" ? "550 5.1.1" : "250 OK", journey.Harness.Time.GetUtcNow());

    private static HttpRequest Get(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        return context.Request;
    }

    /// <summary>Leads of one test, their links and reports, and the parts of the results feature the journey drives.</summary>
    private sealed class Journey(NurtureHarness harness)
    {
        private readonly Dictionary<string, string> _emails = [];

        public NurtureHarness Harness => harness;

        public DeliveryReportRecorder Recorder { get; } = new(
            harness.Services.GetRequiredService<NurtureTables>(), harness.Services.GetRequiredService<NurtureStore>(), TestLeadIds.Identity, harness.Time,
            NullLogger<DeliveryReportRecorder>.Instance, harness.Services.GetRequiredService<INurtureResults>());

        public ILeadProjection Goals => harness.Services.GetServices<ILeadProjection>().OfType<NurtureGoalProjection>().Single();

        public NurtureResultsTable ResultsTable => harness.Services.GetRequiredService<NurtureResultsTable>();

        public static string MessageId(string leadId, string step) => $"{leadId}-nurture-trio-{step}";

        public string EmailOf(string leadId) => _emails[leadId];

        public async Task<string> EnrolAsync(string name)
        {
            var email = AzuriteFixture.UniqueName(name) + "@example.com";
            var lead = NurtureLeads.New(email, harness.Time.GetUtcNow());
            harness.Leads.Put(lead);
            await harness.MoveAsync(lead, LifecycleStage.Mql);
            _emails[lead.LeadId] = email;
            return lead.LeadId;
        }

        /// <summary>A link of the lead's e-mail of that step, signed as the composer signs it.</summary>
        public string Token(string leadId, string step, TrackingKind kind, DateTimeOffset sentAt, string? url = null) => TrackingLinks.Sign(harness, new TrackingClaims
        {
            Kind = kind,
            LeadId = leadId,
            MessageId = MessageId(leadId, step),
            Programme = "trio",
            Step = step,
            SentAtUnixSeconds = sentAt.ToUnixTimeSeconds(),
            Url = url,
        });

        /// <summary>What the processor hands its projections when the lead moves from MQL to SQL at <paramref name="at"/>.</summary>
        public LeadProjectionWork Sql(string leadId, DateTimeOffset at)
        {
            var snapshot = new LeadSnapshot(LifecycleStage.Sql, at, null, 80, at, 86400, "B", at.AddDays(-60), at, EventCount: 9);
            return new LeadProjectionWork(leadId, "sql-" + leadId, at, snapshot with { Stage = LifecycleStage.Mql }, snapshot,
                [new ProjectedTransition(0, at, LifecycleStage.Mql, at.AddDays(-40), LifecycleStage.Sql, "score", BySales: false)]);
        }

        public Task<NurtureResultsView> ReportAsync() => harness.Services.GetRequiredService<INurtureResultsReport>().BuildAsync(CancellationToken.None);
    }
}
