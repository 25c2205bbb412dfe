using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Testing;
using LeadFunctions.Tests.Capture;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Leads;

/// <summary>
/// Visitor stitching over the open internet: the capture functions take the posts, the real processor stitches in Azurite.
/// A visitor id is only a claim; these tests pin what it can and cannot do.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class VisitorStitchingTests(AzuriteFixture azurite)
{
    private const string Victim = "victim@example.com";
    private const string Other = "someone.else@example.com";

    [Fact]
    public async Task A_visitor_id_stays_with_the_first_lead_it_was_stitched_to_and_a_form_for_another_lead_gets_none_of_its_history()
    {
        // Arrange: a visitor browses, then converts as the victim.
        var harness = NewHarness();
        await using var pipeline = await StartAsync(harness);
        var visitor = CapturePipeline.NewVisitorId();
        for (var i = 0; i < 3; i++)
            await pipeline.PageViewAsync(visitor, $"https://www.example.com/blog/{i}");
        await pipeline.DrainAsync();
        await pipeline.PostFormAsync("whitepaper-lead-scoring", Whitepaper(Victim, visitor));
        await pipeline.DrainAsync();

        // Act: someone else's form names the same visitor id, then the visitor browses on.
        await pipeline.PostFormAsync("whitepaper-lead-scoring", Whitepaper(Other, visitor));
        await pipeline.DrainAsync();
        await pipeline.PageViewAsync(visitor, "https://www.example.com/pricing");
        await pipeline.DrainAsync();

        // Assert: the victim has the history and the later view; the other lead only its own form.
        Assert.Equal(3 + 1 + 1, harness.AppliedEventRows(Victim));
        Assert.Equal(1, harness.AppliedEventRows(Other));
        Assert.Equal(ScoringHarness.LeadIdOf(Victim), CapturePipeline.VisitorRow(harness.Table.Client, visitor)!.GetString("LeadId"));
        Assert.Equal(0, pipeline.Failures);
    }

    [Fact]
    public async Task A_form_naming_a_visitor_seeded_with_3000_events_attaches_only_its_newest_200_and_the_visitor_never_keeps_more()
    {
        // Arrange: an attacker seeds one visitor id with 3,000 page views.
        var harness = NewHarness();
        await using var pipeline = await StartAsync(harness);
        var visitor = CapturePipeline.NewVisitorId();
        var posted = new List<string>();
        var seeding = Task.Run(async () =>
        {
            for (var i = 0; i < 3000; i++)
                posted.Add(await pipeline.PageViewAsync(visitor, $"https://www.example.com/p/{i}"));
        });
        await pipeline.ProcessUntilAsync(seeding);
        var pending = CapturePipeline.PendingRows(harness.Table.Client, visitor);
        var pendingCount = CapturePipeline.VisitorRow(harness.Table.Client, visitor)!.GetInt32("PendingCount");

        // Act: a form with the victim's address and that visitor id.
        await pipeline.PostFormAsync("whitepaper-lead-scoring", Whitepaper(Victim, visitor));
        await pipeline.DrainAsync();

        // Assert: the visitor kept the newest 200; the stitch moved exactly those, and left nothing behind.
        var newest = posted.TakeLast(200).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(200, pending.Count);
        Assert.Equal(200, pendingCount);
        Assert.Equal(201, harness.AppliedEventRows(Victim));
        var attached = (await harness.LeadAsync(Victim)).Ledger.Where(l => l.EventType == "page-view").Select(l => l.EventId).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(newest.Order(StringComparer.Ordinal), attached.Order(StringComparer.Ordinal));
        Assert.Empty(CapturePipeline.PendingRows(harness.Table.Client, visitor));
        Assert.Equal(0, pipeline.Failures);
    }

    [Fact]
    public async Task Anonymous_activity_older_than_the_history_window_is_never_kept_nor_attached()
    {
        // Arrange: views kept under the visitor, and one more still on the queue when the window has passed.
        var harness = NewHarness();
        await using var pipeline = await StartAsync(harness);
        var visitor = CapturePipeline.NewVisitorId();
        await pipeline.PageViewAsync(visitor, "https://www.example.com/a");
        await pipeline.PageViewAsync(visitor, "https://www.example.com/b");
        await pipeline.DrainAsync();
        await pipeline.PageViewAsync(visitor, "https://www.example.com/late");
        harness.Time.Advance(TimeSpan.FromDays(31));
        await pipeline.DrainAsync();
        var pendingBefore = CapturePipeline.PendingRows(harness.Table.Client, visitor).Count;

        // Act: the visitor converts 31 days later.
        pipeline.CaptureTime.Advance(TimeSpan.FromDays(31));
        await pipeline.PostFormAsync("whitepaper-lead-scoring", Whitepaper(Victim, visitor));
        await pipeline.DrainAsync();

        // Assert: only the form is on the lead, and the stale rows are gone.
        Assert.Equal(2, pendingBefore);
        Assert.Equal(1, harness.AppliedEventRows(Victim));
        Assert.Empty(CapturePipeline.PendingRows(harness.Table.Client, visitor));
    }

    [Fact]
    public async Task A_redelivered_anonymous_event_is_kept_once_and_scored_once_after_the_stitch()
    {
        // Arrange
        var harness = NewHarness();
        var visitor = CapturePipeline.NewVisitorId();
        var view = Events.Json(Events.PageView(harness.Time.GetUtcNow(), "https://www.example.com/x", visitorId: visitor));

        // Act: delivered twice before the visitor converts, once more after.
        await harness.Function.Run(ScoringHarness.Message(view), CancellationToken.None);
        await harness.Function.Run(ScoringHarness.Message(view), CancellationToken.None);
        var pending = CapturePipeline.PendingRows(harness.Table.Client, visitor).Count;
        await harness.Processor.ProcessAsync(Events.Form(Victim, harness.Time.GetUtcNow(), Domain.Events.FormIntent.ContentDownload, visitor), CancellationToken.None);
        var after = await harness.Processor.ProcessMessageAsync(view, CancellationToken.None);

        // Assert
        Assert.Equal(1, pending);
        Assert.Equal(0, CapturePipeline.VisitorRow(harness.Table.Client, visitor)!.GetInt32("PendingCount"));
        Assert.Equal(LeadEventOutcome.AlreadyApplied, after.Outcome);
        Assert.Equal(2, harness.AppliedEventRows(Victim));
    }

    [Fact]
    public async Task An_anonymous_event_captured_twice_under_one_key_at_two_receipt_times_is_applied_once_when_the_visitor_converts()
    {
        // Arrange: track.js resent a page view after a lost answer; capture stamped each post with its own receipt time, so the
        // visitor keeps two pending rows of one event id.
        var harness = NewHarness();
        var visitor = CapturePipeline.NewVisitorId();
        var first = Events.PageView(harness.Time.GetUtcNow(), "https://www.example.com/pricing", visitorId: visitor);
        var resent = first with { OccurredAt = first.OccurredAt.AddSeconds(5) };
        await harness.Processor.ProcessAsync(first, CancellationToken.None);
        await harness.Processor.ProcessAsync(resent, CancellationToken.None);
        var pending = CapturePipeline.PendingRows(harness.Table.Client, visitor).Count;

        // Act: the visitor sends a form.
        var converted = await harness.Processor.ProcessAsync(Events.Form(Victim, harness.Time.GetUtcNow().AddMinutes(1), Domain.Events.FormIntent.ContentDownload, visitor), CancellationToken.None);

        // Assert: the form and the view are applied, the view once; nothing is left under the visitor.
        Assert.Equal(2, pending);
        Assert.Equal(LeadEventOutcome.Applied, converted.Outcome);
        Assert.Equal(2, harness.AppliedEventRows(Victim));
        var awarded = (await harness.LeadAsync(Victim)).Ledger.Where(l => l.EventId == first.EventId).Select(l => l.RuleId).ToList();
        Assert.NotEmpty(awarded);
        Assert.Equal(awarded.Distinct(StringComparer.Ordinal).Count(), awarded.Count);
        Assert.Empty(CapturePipeline.PendingRows(harness.Table.Client, visitor));
    }

    [Fact]
    public async Task Storage_requests_stay_one_read_and_one_transaction_per_event_and_a_stitch_costs_what_it_moves_not_what_was_seeded()
    {
        // Arrange: a processor whose table client counts requests; a visitor keeps at most 20, and is sent 60.
        var harness = NewHarness();
        var counter = new CountingPolicy();
        var clientOptions = new Azure.Data.Tables.TableClientOptions();
        clientOptions.AddPolicy(counter, Azure.Core.HttpPipelinePosition.PerCall);
        var table = new LeadsTable(new Azure.Data.Tables.TableClient(azurite.ConnectionString, harness.Table.Client.Name, clientOptions));
        var options = Microsoft.Extensions.Options.Options.Create(new ScoringOptions { MaxPendingVisitorEvents = 20 });
        var processor = new LeadEventProcessor(table, new Domain.Scoring.ScoringEngine(harness.Model), [], TestLeadIds.Identity, harness.Time, options,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<LeadEventProcessor>.Instance);
        var now = harness.Time.GetUtcNow();
        await processor.ProcessAsync(Events.Form(Victim, now, Domain.Events.FormIntent.ContentDownload), CancellationToken.None);
        var visitor = CapturePipeline.NewVisitorId();
        for (var i = 0; i < 60; i++)
            await processor.ProcessAsync(Events.PageView(now.AddSeconds(i), $"https://www.example.com/{i}", visitorId: visitor), CancellationToken.None);

        // Act
        var existing = await counter.CountAsync(() => processor.ProcessAsync(Events.PageView(now, "https://www.example.com/x", Victim), CancellationToken.None));
        var stitch = await counter.CountAsync(() => processor.ProcessAsync(Events.Form(Victim, now.AddMinutes(2), Domain.Events.FormIntent.ContentDownload, visitor), CancellationToken.None));
        var returning = await counter.CountAsync(() => processor.ProcessAsync(Events.Form(Victim, now.AddMinutes(3), Domain.Events.FormIntent.ContentDownload, visitor), CancellationToken.None));

        // Assert: the stitch moved the newest 20 of 60; its requests do not depend on the 60: the form's read and
        // transaction, the visitor's read and claim, two range reads, two lead reads and transactions for the 20, one
        // deletion transaction and the visitor's update.
        Assert.Equal((1, 1, 0), existing);
        Assert.Equal((1, 1, 0), returning);
        Assert.Equal(1 + 1 + 1 + 20 + 1, harness.AppliedEventRows(Victim));
        Assert.Equal((1 + 1 + 2 + 2, 1 + 2 + 1, 1 + 1), stitch);
    }

    [Fact]
    public async Task The_browser_time_zone_of_a_stitched_visitor_becomes_the_leads_time_zone_but_never_replaces_one_already_known()
    {
        // Arrange: a visitor whose browser says New York converts; later the same browser says Tokyo.
        var harness = NewHarness();
        await using var pipeline = await StartAsync(harness);
        var visitor = CapturePipeline.NewVisitorId();
        await pipeline.PostEventAsync(new Dictionary<string, string> { ["type"] = "page-view", ["visitorId"] = visitor, ["url"] = "https://www.example.com/a", ["timeZone"] = "America/New_York" });
        await pipeline.DrainAsync();

        // Act
        await pipeline.PostFormAsync("whitepaper-lead-scoring", Whitepaper(Victim, visitor));
        await pipeline.DrainAsync();
        var first = (await harness.LeadAsync(Victim)).Lead.Profile.GetValueOrDefault("timeZone");
        await pipeline.PostEventAsync(new Dictionary<string, string> { ["type"] = "page-view", ["visitorId"] = visitor, ["url"] = "https://www.example.com/b", ["timeZone"] = "Asia/Tokyo" });
        await pipeline.DrainAsync();

        // Assert
        Assert.Equal("America/New_York", first);
        Assert.Equal("America/New_York", (await harness.LeadAsync(Victim)).Lead.Profile.GetValueOrDefault("timeZone"));
        Assert.Equal(0, pipeline.Failures);
    }

    private ScoringHarness NewHarness()
    {
        var harness = new ScoringHarness(azurite);
        harness.Time.SetUtcNow(CaptureHarness.Now);
        return harness;
    }

    private Task<CapturePipeline> StartAsync(ScoringHarness harness) =>
        CapturePipeline.StartAsync(azurite, m => harness.Function.Run(m, CancellationToken.None), CaptureHarness.Now);

    private static Dictionary<string, string> Whitepaper(string email, string visitorId) => new()
    {
        ["email"] = email,
        ["firstName"] = "Ada",
        ["lastName"] = "Lovelace",
        ["company"] = "Analytical Engines",
        ["role"] = "developer",
        ["visitorId"] = visitorId,
    };
}
