using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using LeadFunctions.Admin;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.Acs;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Email;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Outbox;

/// <summary>
/// The outbox under failure, quota and time pressure: the real runner over Azurite, sending through the ACS sender to the
/// fake ACS service (which enforces the repeatability window) or through the folder sender wrapped to fail or count.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OutboxDeliveryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private FakeAcsEmailService _acs = null!;

    public async Task InitializeAsync() => _acs = await FakeAcsEmailService.StartAsync();

    public async Task DisposeAsync() => await _acs.DisposeAsync();

    [Fact]
    public async Task A_send_that_failed_is_retried_ten_minutes_later_as_a_new_attempt_that_acs_accepts_and_sends_once()
    {
        // Arrange: ACS is down for the first request; its clock is ours.
        NurtureHarness? h = null;
        await using var harness = h = new NurtureHarness(azurite, wrapSender: _ => Acs(h!.Time));
        _acs.Time = harness.Time;
        _acs.ThenAnswer(503);
        var lead = NurtureLeads.New("retry@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Sql);

        // Act
        var failed = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var retried = await harness.RunAsync();

        // Assert: the retry was a new request (new id, fresh first-sent), which ACS accepted, and one e-mail went out.
        Assert.Equal((1, 0), (failed.Failed, failed.Parked));
        Assert.Equal(1, retried.Sent);
        var requests = _acs.Requests.ToArray();
        Assert.Equal([503, 202], requests.Select(r => r.Status));
        Assert.NotEqual(requests[0].Headers["Repeatability-Request-Id"], requests[1].Headers["Repeatability-Request-Id"]);
        Assert.Equal(AcsHmacSigner.FormatDate(harness.Time.GetUtcNow()), requests[1].Headers["Repeatability-First-Sent"]);
        Assert.Single(_acs.Sent);
    }

    [Fact]
    public async Task An_accepted_send_whose_answer_was_lost_is_repeated_by_the_next_run_inside_the_window_and_not_sent_twice()
    {
        // Arrange: ACS accepts the first request but the answer never arrives.
        NurtureHarness? h = null;
        await using var harness = h = new NurtureHarness(azurite, wrapSender: _ => Acs(h!.Time));
        _acs.Time = harness.Time;
        _acs.ThenAcceptAndDropTheConnection();
        var lead = NurtureLeads.New("lost@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Sql);

        // Act: the back-off after a first failure is at most Nurture:RetryDelaySeconds (60 s), well inside the window.
        var failed = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(61));
        var retried = await harness.RunAsync();

        // Assert: the same request again, answered as the original; the lead's rep got one alert.
        Assert.Equal(1, failed.Failed);
        Assert.Equal(1, retried.Sent);
        var requests = _acs.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(requests[0].Headers["Repeatability-Request-Id"], requests[1].Headers["Repeatability-Request-Id"]);
        Assert.Equal(requests[0].Headers["Repeatability-First-Sent"], requests[1].Headers["Repeatability-First-Sent"]);
        Assert.Single(_acs.Sent);
    }

    [Fact]
    public async Task A_permanent_refusal_is_parked_at_once_listed_without_addresses_and_sent_when_re_queued()
    {
        // Arrange: ACS refuses the recipient.
        NurtureHarness? h = null;
        await using var harness = h = new NurtureHarness(azurite, wrapSender: _ => Acs(h!.Time));
        _acs.Time = harness.Time;
        _acs.ThenAnswer(400);
        var lead = NurtureLeads.New("refused@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Sql);

        // Act
        var first = await harness.RunAsync();
        // Well past the transient back-off, before the SLA ladder's first reminder (15 min) falls due.
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var later = await harness.RunAsync();
        var listed = await ListAsync(harness);

        // Assert: parked with its reason, not retried, and listed with ids only.
        Assert.Equal((1, 1), (first.Failed, first.Parked));
        Assert.Equal(0, later.Due);
        Assert.Single(_acs.Requests);
        var item = Assert.Single(listed.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("alert", item.GetProperty("kind").GetString());
        Assert.Equal(lead.LeadId, item.GetProperty("leadId").GetString());
        Assert.StartsWith("ACS 400", item.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(item.GetProperty("permanent").GetBoolean());
        Assert.Equal(1, item.GetProperty("attempts").GetInt32());
        Assert.DoesNotContain("@", listed.RootElement.GetRawText(), StringComparison.Ordinal);

        // Act: re-queue it by id, once the cause is fixed.
        var retry = await RetryAsync(harness, $$"""{"ids":["{{item.GetProperty("id").GetString()}}"]}""");
        var replayed = await harness.RunAsync();

        // Assert
        Assert.Equal(1, Assert.IsType<RequeueResult>(Assert.IsType<OkObjectResult>(retry).Value).Requeued);
        Assert.Equal(1, replayed.Sent);
        Assert.Single(_acs.Sent);
        Assert.Empty((await ListAsync(harness)).RootElement.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_retry_request_naming_neither_ids_nor_all_is_a_400_naming_the_field()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);

        // Act
        var result = await RetryAsync(harness, """{"ids":[]}""");

        // Assert
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Contains("ids", problem.Errors.Keys);
    }

    [Fact]
    public async Task A_transient_failure_moves_later_with_back_off_and_is_parked_after_the_attempt_limit()
    {
        // Arrange: the mail server never answers.
        await using var harness = new NurtureHarness(azurite, wrapSender: _ => new FailingSender(_ => new IOException("unreachable")),
            settings: new Dictionary<string, string?> { ["Nurture:MaxSendAttempts"] = "3", ["Nurture:RetryDelaySeconds"] = "60" });
        var lead = NurtureLeads.New("flaky@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        // Act
        var first = await harness.RunAsync();
        var atOnce = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(60));
        var second = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(120));
        var third = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromDays(1));
        var afterwards = await harness.RunAsync();

        // Assert: not retried at once, retried after each back-off, parked at the third failure, then left alone.
        Assert.Equal((1, 0), (first.Failed, first.Parked));
        Assert.Equal(0, atOnce.Due);
        Assert.Equal((1, 0), (second.Failed, second.Parked));
        Assert.Equal((1, 1), (third.Failed, third.Parked));
        Assert.Equal(0, afterwards.Due);
        var item = Assert.Single((await ListAsync(harness)).RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal(3, item.GetProperty("attempts").GetInt32());
        Assert.False(item.GetProperty("permanent").GetBoolean());
        Assert.Contains("IOException", item.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_header_error_is_parked_at_once_instead_of_being_retried_every_run()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, wrapSender: _ => new FailingSender(_ => new EmailHeaderException("The To display name contains CR or LF; header injection refused.")));
        var lead = NurtureLeads.New("header@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        // Act
        var first = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromHours(1));
        var later = await harness.RunAsync();

        // Assert
        Assert.Equal(1, first.Parked);
        Assert.Equal(0, later.Due);
    }

    [Fact]
    public async Task A_thousand_parked_failures_do_not_stop_the_next_sales_alert()
    {
        // Arrange: 1,000 nurture e-mails that fail permanently, then a fresh SQL.
        var failing = new FailingSender(message => message.Marketing ? new EmailHeaderException("refused") : null);
        await using var harness = new NurtureHarness(azurite, wrapSender: inner => failing.Around(inner),
            settings: new Dictionary<string, string?> { ["Nurture:MaxItemsPerRun"] = "1000" });
        await SeedNurtureAsync(harness, 1000);
        var parkingRun = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var sql = NurtureLeads.New("buyer@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(sql);
        await harness.MoveAsync(sql, LifecycleStage.Sql);

        // Act
        var next = await harness.RunAsync();

        // Assert
        Assert.Equal(1000, parkingRun.Parked);
        Assert.Equal(1, next.Sent);
        var alert = Assert.Single(await harness.MessagesAsync());
        Assert.StartsWith("New SQL", alert.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sales_alerts_go_first_and_a_spent_quota_stops_the_run_leaving_the_rest_due_without_an_attempt()
    {
        // Arrange: a quota of 5 a minute; ten nurture e-mails fell due before the SQL did.
        EmailRateLimiter? limiter = null;
        NurtureHarness? h = null;
        await using var harness = h = new NurtureHarness(azurite,
            wrapSender: inner => new ThrottledEmailSender(inner, limiter = new EmailRateLimiter(5, 100, h!.Time, new ListLogger<EmailRateLimiter>())));
        using var gauges = new GaugeRecorder(harness.Services.GetRequiredService<IMeterFactory>());
        await SeedNurtureAsync(harness, 10);
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        var sql = NurtureLeads.New("first@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(sql);
        await harness.MoveAsync(sql, LifecycleStage.Sql);

        // Act
        var run = await harness.RunAsync();

        // Assert: the alert is among the five sent; the rest is due, not failed, and no attempt was counted against it.
        Assert.Equal((5, 0, "quota"), (run.Sent, run.Failed, run.StoppedBy));
        Assert.Contains(await harness.MessagesAsync(), m => m.Subject?.StartsWith("New SQL", StringComparison.Ordinal) == true);
        var due = await DueRowsAsync(harness);
        Assert.Equal(6, due.Count);
        Assert.All(due, row => Assert.Equal(0, row.GetInt32("Attempts") ?? 0));
        Assert.Equal(6, gauges.Last(OutboxMetrics.DueGaugeName, "default"));
        Assert.Equal(0, gauges.Last(OutboxMetrics.DueGaugeName, "sales"));
        Assert.Equal(0, gauges.Last(OutboxMetrics.ParkedGaugeName, null));

        // Act: the next minute's runs send the rest.
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var next = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var last = await harness.RunAsync();

        // Assert
        Assert.Equal((5, 1), (next.Sent, last.Sent));
        Assert.Equal(11, harness.EmlFiles().Length);
        Assert.NotNull(limiter);
    }

    [Fact]
    public async Task A_run_stops_at_its_time_budget_and_leaves_the_rest_due()
    {
        // Arrange: every send takes a minute; the run budget is four.
        NurtureHarness? h = null;
        await using var harness = h = new NurtureHarness(azurite, wrapSender: inner => new FailingSender(_ => null, () => h!.Time.Advance(TimeSpan.FromMinutes(1))).Around(inner),
            settings: new Dictionary<string, string?> { ["Nurture:RunBudgetSeconds"] = "240" });
        await SeedNurtureAsync(harness, 10);

        // Act
        var run = await harness.RunAsync();

        // Assert
        Assert.Equal((4, 6, "run budget"), (run.Sent, run.Left, run.StoppedBy));
        Assert.Equal(6, (await DueRowsAsync(harness)).Count);
    }

    private AcsEmailSender Acs(TimeProvider time) => new(
        new AcsSenderOptions { ConnectionString = _acs.ConnectionString, MaxRetries = 0 },
        time,
        new ListLogger<AcsEmailSender>(),
        clientOptions: _acs.ClientOptions());

    private static async Task SeedNurtureAsync(NurtureHarness harness, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var lead = NurtureLeads.New($"bulk{i}@example.com", harness.Time.GetUtcNow());
            harness.Leads.Put(lead);
            await harness.MoveAsync(lead, LifecycleStage.Mql);
        }
    }

    /// <summary>Due-index rows due now (not the next steps scheduled for later, not parked ones).</summary>
    private static async Task<List<TableEntity>> DueRowsAsync(NurtureHarness harness)
    {
        var tables = harness.Services.GetRequiredService<NurtureTables>();
        var upper = DueItemEntity.UpperBound(harness.Time.GetUtcNow());
        var rows = new List<TableEntity>();
        await foreach (var row in tables.Due.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey ne {ParkedEntity.Partition} and RowKey lt {upper}")))
            rows.Add(row);
        return rows;
    }

    private static async Task<JsonDocument> ListAsync(NurtureHarness harness)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        var result = await new ListFailedEmails(harness.Services.GetRequiredService<IParkedEmails>()).Run(context.Request, CancellationToken.None);
        return JsonDocument.Parse(JsonSerializer.Serialize(Assert.IsType<OkObjectResult>(result).Value, JsonSerializerOptions.Web));
    }

    private static async Task<IActionResult> RetryAsync(NurtureHarness harness, string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        return await new RetryFailedEmails(harness.Services.GetRequiredService<IParkedEmails>()).Run(context.Request, CancellationToken.None);
    }

    /// <summary>Fails the messages <c>failure</c> picks (or all of them, when used as the sender), and passes the rest on.</summary>
    private sealed class FailingSender(Func<EmailMessage, Exception?> failure, Action? onSend = null) : IEmailSender
    {
        private IEmailSender? _inner;

        public IEmailSender Around(IEmailSender inner)
        {
            _inner = inner;
            return this;
        }

        public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
        {
            if (failure(message) is { } exception)
                throw exception;
            if (_inner is null)
                throw new InvalidOperationException("No inner sender.");
            await _inner.SendAsync(message, cancellationToken);
            onSend?.Invoke();
        }
    }

    /// <summary>The last value each outbox gauge recorded, from this harness's meter factory only.</summary>
    private sealed class GaugeRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<(string, string?), long> _last = [];

        public GaugeRecorder(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == OutboxMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                string? priority = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "priority")
                        priority = tag.Value as string;
                }
                lock (_last)
                    _last[(instrument.Name, priority)] = value;
            });
            _listener.Start();
        }

        public long? Last(string name, string? priority)
        {
            lock (_last)
                return _last.TryGetValue((name, priority), out var value) ? value : null;
        }

        public void Dispose() => _listener.Dispose();
    }
}
