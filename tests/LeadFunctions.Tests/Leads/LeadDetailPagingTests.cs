using System.Globalization;
using System.Text.Json;
using Azure.Core;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Leads;
using LeadFunctions.Testing;
using LeadFunctions.Tests.Privacy;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Leads;

/// <summary>
/// The lead detail over Azurite, for a busy lead (3,001 ledger rows): a page costs a bounded number of storage requests and
/// bytes, its continuations walk every row once, newest first, rows of the first key layout still appear, a continuation
/// that was edited or belongs to another lead is refused, and the timer's read of a lead is one request.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadDetailPagingTests(AzuriteFixture azurite)
{
    private const int BusyLedgerRows = 3001;
    private const string Busy = "busy.reader@example.com";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_busy_leads_detail_costs_a_bounded_number_of_storage_requests_and_bytes()
    {
        // Arrange: 3,001 ledger rows and 30 stage changes; the directory's client counts its requests.
        var (harness, counter, directory) = Counted();
        var leadId = await BusyLeadAsync(harness, BusyLedgerRows, historyRows: 30);
        var function = new GetLead(directory, new NoSuppressions(), new NoEmails(), SignedIn.Access, SignedIn.NoAccessLog);

        // Act
        IActionResult? result = null;
        var requests = await counter.CountAsync(async () => result = SignedIn.Unwrap(await function.Run(Query(), leadId, CancellationToken.None)));
        var full = await counter.CountAsync(() => directory.FindAsync(leadId, CancellationToken.None));

        // Assert: the lead row and one range read per list, whatever the ledger holds; a default page is 20 + 20 rows.
        Assert.Equal((3, 0, 0), requests);
        var body = Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Equal(20, body.Ledger.Items.Count);
        Assert.Equal(20, body.History.Items.Count);
        Assert.NotNull(body.Ledger.Continuation);
        Assert.NotNull(body.History.Continuation);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, Web).Length;
        Assert.True(bytes < 16 * 1024, $"{bytes} bytes for one page");
        // What every read cost before: the whole partition, in pages of 1,000 rows.
        Assert.True(full.Reads > 4, $"the full read took {full.Reads} requests");
        Assert.True(JsonSerializer.SerializeToUtf8Bytes(LeadResponse.From((await directory.FindAsync(leadId, CancellationToken.None))!, null), Web).Length > 20 * bytes);
    }

    [Fact]
    public async Task Continuations_walk_every_ledger_and_history_row_once_newest_first_and_rows_of_the_first_layout_follow()
    {
        // Arrange: the busy lead, plus rows an earlier version wrote (event-keyed ledger rows, oldest-first history) and a
        // carried-forward row retention folded.
        var (harness, counter, directory) = Counted();
        var leadId = await BusyLeadAsync(harness, BusyLedgerRows, historyRows: 7);
        var oldest = harness.Time.GetUtcNow().AddDays(-400);
        var legacy = new List<TableTransactionAction>();
        for (var i = 0; i < 5; i++)
        {
            var at = oldest.AddDays(i);
            legacy.Add(new(TableTransactionActionType.Add, Ledger(leadId, LeadRows.LegacyLedger($"old-{i}", 0), $"old-{i}", at)));
            legacy.Add(new(TableTransactionActionType.Add, History(leadId, LeadRows.LegacyHistory(at, $"old-{i}", 0), $"old-{i}", at)));
        }
        var fold = Ledger(leadId, LeadRows.LedgerFoldPrefix + "page-view", "", oldest.AddDays(-1));
        fold.EventType = "folded";
        legacy.Add(new(TableTransactionActionType.Add, fold));
        await harness.Table.Client.SubmitTransactionAsync(legacy);

        // Act: walk both lists a hundred rows at a time.
        var ledger = new List<LedgerView>();
        var history = new List<StageChangeView>();
        string? ledgerNext = null, historyNext = null;
        var pages = 0;
        var worst = 0;
        var historyDone = false;
        do
        {
            IActionResult? result = null;
            var query = new Dictionary<string, string> { ["ledger"] = "100", ["history"] = "3" };
            if (ledgerNext is not null)
                query["ledgerContinuation"] = ledgerNext;
            if (historyNext is not null)
                query["historyContinuation"] = historyNext;
            var cost = await counter.CountAsync(async () => result = SignedIn.Unwrap(await new GetLead(directory, new NoSuppressions(), new NoEmails(), SignedIn.Access, SignedIn.NoAccessLog).Run(Query(query), leadId, CancellationToken.None)));
            worst = Math.Max(worst, cost.Reads + cost.Batches + cost.Others);
            var page = Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(result).Value);
            Assert.True(page.Ledger.Items.Count <= 100 && page.History.Items.Count <= 3);
            ledger.AddRange(page.Ledger.Items);
            if (!historyDone)
                history.AddRange(page.History.Items);
            ledgerNext = page.Ledger.Continuation;
            historyNext = page.History.Continuation;
            historyDone |= historyNext is null;
            pages++;
        }
        while (ledgerNext is not null && pages < 100);

        // Assert: every row once; this layout's rows newest first, then the first layout's (newest first), then the fold.
        Assert.Null(ledgerNext);
        Assert.Equal(BusyLedgerRows + 5 + 1, ledger.Count);
        Assert.Equal(ledger.Count, ledger.Select(l => (l.EventId, l.At)).Distinct().Count());
        Assert.Equal(ledger.Select(l => l.At).OrderDescending(), ledger.Select(l => l.At));
        Assert.Equal(["old-4", "old-3", "old-2", "old-1", "old-0"], ledger.Skip(BusyLedgerRows).Take(5).Select(l => l.EventId));
        Assert.NotNull(ledger[^1].Folded);
        Assert.Equal(7 + 5, history.Count);
        Assert.Equal(history.Take(7).Select(h => h.At).OrderDescending(), history.Take(7).Select(h => h.At));
        Assert.Equal(["old-0", "old-1", "old-2", "old-3", "old-4"], history.Skip(7).Select(h => h.EventId!).Order(StringComparer.Ordinal));
        // One lead read and at most three range reads per list, however far the walk has gone.
        Assert.True(worst <= 1 + 3 + 2, $"a page cost {worst} requests");

        // The full read (sales alerts, retention) still sees both layouts in time order.
        var details = (await directory.FindAsync(leadId, CancellationToken.None))!;
        Assert.Equal(BusyLedgerRows + 6, details.Ledger.Count);
        Assert.Equal(details.History.Select(h => h.At).Order(), details.History.Select(h => h.At));
    }

    [Fact]
    public async Task A_continuation_that_was_edited_or_belongs_to_another_lead_or_list_is_a_400_naming_the_parameter()
    {
        // Arrange
        var (harness, _, directory) = Counted();
        var leadId = await BusyLeadAsync(harness, 30, historyRows: 30);
        var other = await BusyLeadAsync(harness, 30, historyRows: 30, email: "other.reader@example.com");
        var function = new GetLead(directory, new NoSuppressions(), new NoEmails(), SignedIn.Access, SignedIn.NoAccessLog);
        var first = Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(SignedIn.Unwrap(await function.Run(Query(new() { ["ledger"] = "5", ["history"] = "5" }), leadId, CancellationToken.None))).Value);
        var token = first.Ledger.Continuation!;
        var edited = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        var payload = token[..token.IndexOf('.', StringComparison.Ordinal)];
        var forged = payload[..^1] + (payload[^1] == 'A' ? 'B' : 'A') + token[token.IndexOf('.', StringComparison.Ordinal)..];

        // Act
        async Task<IActionResult> GetAsync(string id, string name, string value) =>
            SignedIn.Unwrap(await function.Run(Query(new() { [name] = value }), id, CancellationToken.None));

        // Assert: refused, named; the genuine token goes on where the first page stopped.
        Assert.Equal("ledgerContinuation", ProblemField(await GetAsync(leadId, "ledgerContinuation", edited)));
        Assert.Equal("ledgerContinuation", ProblemField(await GetAsync(leadId, "ledgerContinuation", forged)));
        Assert.Equal("ledgerContinuation", ProblemField(await GetAsync(other, "ledgerContinuation", token)));
        Assert.Equal("historyContinuation", ProblemField(await GetAsync(leadId, "historyContinuation", token)));
        Assert.Equal("ledgerContinuation", ProblemField(await GetAsync(leadId, "ledgerContinuation", "not-a-token")));
        var next = Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(SignedIn.Unwrap(await function.Run(Query(new() { ["ledger"] = "5", ["ledgerContinuation"] = token }), leadId, CancellationToken.None))).Value);
        Assert.True(next.Ledger.Items[0].At < first.Ledger.Items[^1].At);
    }

    [Theory]
    [InlineData("ledger", "0")]
    [InlineData("ledger", "101")]
    [InlineData("ledger", "ten")]
    [InlineData("history", "-1")]
    [InlineData("history", "")]
    public async Task A_page_size_outside_1_to_100_is_a_400_naming_the_parameter(string name, string value)
    {
        // Arrange
        var (harness, _, directory) = Counted();
        var leadId = await BusyLeadAsync(harness, 3, historyRows: 1);

        // Act
        var result = SignedIn.Unwrap(await new GetLead(directory, new NoSuppressions(), new NoEmails(), SignedIn.Access, SignedIn.NoAccessLog).Run(Query(new() { [name] = value }), leadId, CancellationToken.None));

        // Assert
        Assert.Equal(name, ProblemField(result));
    }

    [Fact]
    public async Task The_timer_reads_a_lead_with_one_request_and_sees_a_decayed_MQL_as_a_Lead_like_the_full_read()
    {
        // Arrange: a download form, a bottom-of-funnel download and the pricing page make an MQL (55); a month later the
        // score has decayed below the bar.
        var (harness, counter, directory) = Counted();
        const string email = "decayed.mql@example.com";
        var start = harness.Time.GetUtcNow();
        await harness.Processor.ProcessAsync(Events.Form(email, start, FormIntent.ContentDownload, profile: new() { ["role"] = "CTO" }), CancellationToken.None);
        await harness.Processor.ProcessAsync(Events.Download(email, start), CancellationToken.None);
        await harness.Processor.ProcessAsync(Events.PageView(start, "https://example.com/pricing", email), CancellationToken.None);
        var leadId = ScoringHarness.LeadIdOf(email);
        Assert.Equal(LifecycleStage.Mql, (await directory.FindSummaryAsync(leadId, CancellationToken.None))!.Stage);
        harness.Time.Advance(TimeSpan.FromDays(30));
        await BusyLeadAsync(harness, BusyLedgerRows, historyRows: 0, email: Busy);

        // Act
        LeadSummary? summary = null, busy = null;
        var cost = await counter.CountAsync(async () => summary = await directory.FindSummaryAsync(leadId, CancellationToken.None));
        var busyCost = await counter.CountAsync(async () => busy = await directory.FindSummaryAsync(ScoringHarness.LeadIdOf(Busy), CancellationToken.None));

        // Assert
        Assert.Equal((1, 0, 0), cost);
        Assert.Equal((1, 0, 0), busyCost);
        var full = (await directory.FindAsync(leadId, CancellationToken.None))!.Lead;
        Assert.Equal(LifecycleStage.Lead, summary!.Stage);
        Assert.Equal(full with { Profile = summary.Profile, FitFactors = summary.FitFactors, Consents = summary.Consents }, summary);
        Assert.NotNull(busy);
        Assert.Null(await directory.FindSummaryAsync(ScoringHarness.LeadIdOf("nobody.here@example.com"), CancellationToken.None));
    }

    [Fact]
    public async Task The_detail_lists_the_e_mails_sent_to_the_lead_with_their_human_opens_and_clicks_and_erasure_removes_them()
    {
        // Arrange: the privacy journey sends the lead its first nurture e-mail, which is opened and clicked.
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        var services = journey.Harness.Services;

        // Act
        var result = SignedIn.Unwrap(await ActivatorUtilities.CreateInstance<GetLead>(services, SignedIn.Access, SignedIn.NoAccessLog).Run(Query(), journey.LeadId, CancellationToken.None));
        await journey.EraseAsync();
        var afterErasure = SignedIn.Unwrap(await ActivatorUtilities.CreateInstance<GetLead>(services, SignedIn.Access, SignedIn.NoAccessLog).Run(Query(), journey.LeadId, CancellationToken.None));

        // Assert: only e-mails to the lead are listed (the alert went to a rep), with what the reader did.
        var body = Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(result).Value);
        var sent = Assert.Single(body.Emails);
        Assert.Equal(("nurture", "trio", "first", "First for Dora", "sent"), (sent.Kind, sent.Programme, sent.Step, sent.Subject, sent.Status));
        Assert.Equal((1, 1), (sent.HumanOpens, sent.HumanClicks));
        Assert.StartsWith(journey.LeadId, sent.MessageId, StringComparison.Ordinal);
        Assert.Equal(404, Assert.IsType<ObjectResult>(afterErasure).StatusCode);
        var state = services.GetRequiredService<Infrastructure.Nurture.NurtureTables>().State;
        Assert.Empty(state.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {journey.LeadId} and RowKey ge {"mail"} and RowKey lt {"mailz"}")));
    }

    private (ScoringHarness Harness, CountingPolicy Counter, TableLeadDirectory Directory) Counted()
    {
        var harness = new ScoringHarness(azurite);
        var counter = new CountingPolicy();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        var table = new LeadsTable(new TableClient(azurite.ConnectionString, harness.Table.Client.Name, options));
        return (harness, counter, new TableLeadDirectory(table, harness.Model, harness.Time));
    }

    /// <summary>
    /// A lead row and <paramref name="ledgerRows"/> ledger rows a minute apart (the newest now), as the processor keys them, and
    /// <paramref name="historyRows"/> stage changes; written straight to the table, a hundred to a transaction.
    /// </summary>
    private static async Task<string> BusyLeadAsync(ScoringHarness harness, int ledgerRows, int historyRows, string email = Busy)
    {
        var leadId = ScoringHarness.LeadIdOf(email);
        var now = harness.Time.GetUtcNow();
        var rows = new List<ITableEntity>
        {
            new LeadEntity
            {
                PartitionKey = leadId, Email = email, Stage = "Lead", StageChangedAt = now, EngagementValue = 40, EngagementAnchor = now,
                HalfLifeSeconds = TimeSpan.FromDays(10).TotalSeconds, ModelVersion = "it-1", CreatedAt = now.AddDays(-30), UpdatedAt = now, EventCount = ledgerRows,
            },
        };
        for (var i = 0; i < ledgerRows; i++)
        {
            var at = now.AddMinutes(-i);
            var eventId = "busy-" + i.ToString(CultureInfo.InvariantCulture);
            rows.Add(Ledger(leadId, LeadRows.Ledger(at, eventId, 0), eventId, at));
        }
        for (var i = 0; i < historyRows; i++)
        {
            var at = now.AddHours(-i);
            rows.Add(History(leadId, LeadRows.History(at, "busy-" + i.ToString(CultureInfo.InvariantCulture), 0), "busy-h" + i.ToString(CultureInfo.InvariantCulture), at));
        }
        foreach (var chunk in rows.Chunk(100))
            await harness.Table.Client.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
        return leadId;
    }

    private static LedgerEntity Ledger(string leadId, string rowKey, string eventId, DateTimeOffset at) => new()
    {
        PartitionKey = leadId,
        RowKey = rowKey,
        EventId = eventId,
        EventType = LeadEventTypes.PageView,
        RuleId = "page-view",
        Score = "engagement",
        Points = 3,
        At = at,
        ModelVersion = "it-1",
        Note = "a page of the pricing section, with a note as long as a real one gets to be",
    };

    private static HistoryEntity History(string leadId, string rowKey, string eventId, DateTimeOffset at) => new()
    {
        PartitionKey = leadId,
        RowKey = rowKey,
        At = at,
        From = "Lead",
        To = "Mql",
        Reason = "engagement reached the MQL bar",
        CausedBy = "event",
        ModelVersion = "it-1",
        EventId = eventId,
    };

    private static HttpRequest Query(Dictionary<string, string>? values = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        if (values is not null)
            context.Request.QueryString = QueryString.Create(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)));
        return SignedIn.As(context.Request, "sales");
    }

    private static string ProblemField(IActionResult result)
    {
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Equal(StatusCodes.Status400BadRequest, problem.Status);
        return Assert.Single(problem.Errors).Key;
    }
}
