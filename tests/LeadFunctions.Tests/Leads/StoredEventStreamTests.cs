using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Leads;

/// <summary>The re-score's stored-event reader: applied order, bounded memory, the same result as reading everything.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class StoredEventStreamTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);
    private static readonly ScoringModel Model = ScoringModelLoader.Load(ScoringHarness.ModelJson);
    private static readonly ScoringModel Target = ScoringModelLoader.Load(ScoringHarness.ModelJson
        .Replace("\"version\": \"it-1\"", "\"version\": \"it-2\"", StringComparison.Ordinal)
        .Replace("\"points\": 3,", "\"points\": 4,", StringComparison.Ordinal));

    [Fact]
    public async Task A_lead_with_thousands_of_stored_events_is_streamed_in_applied_order_holding_no_more_than_the_window()
    {
        // Arrange: 3,500 replayable events whose row keys (random ids) are in no time order, with ties in AppliedAt,
        // plus rows a replay must leave out (no JSON, a re-score).
        var (table, leadId, events) = await ALeadWithStoredEventsAsync(3_500);
        var stream = new StoredEventStream(table, window: 500);

        // Act
        var streamed = new List<ReplayEvent>();
        await foreach (var e in stream.ReadAsync(leadId, CancellationToken.None))
            streamed.Add(e);

        // Assert: exactly the processor's order of everything, never more than 500 rows held, 7 passes of what is left.
        Assert.Equal(ReplayOrder.Sort(events).Select(e => e.Event.EventId), streamed.Select(e => e.Event.EventId));
        Assert.Equal(500, stream.Stats.MaxHeld);
        Assert.Equal(7, stream.Stats.Passes);
        Assert.Equal((3_500, 3), (stream.Stats.Streamed, stream.Stats.Unreplayable));
        // Each pass reads only what is left (and the rows of the last streamed second): far fewer than 7 whole reads of 4 pages.
        Assert.InRange(stream.Stats.Pages, 7, 20);
    }

    [Fact]
    public async Task A_lead_with_fewer_events_than_the_window_is_one_pass_of_the_pages_a_whole_read_costs()
    {
        var (table, leadId, events) = await ALeadWithStoredEventsAsync(1_500);
        var stream = new StoredEventStream(table);

        var count = 0;
        await foreach (var _ in stream.ReadAsync(leadId, CancellationToken.None))
            count++;

        Assert.Equal(events.Count, count);
        Assert.Equal((1, 2), (stream.Stats.Passes, stream.Stats.Pages));
    }

    [Fact]
    public async Task A_rescore_folded_from_the_bounded_stream_equals_the_rescore_of_every_event_held_in_memory()
    {
        // Arrange: the same stored lead, re-scored once from all its events in memory (the old way) and once streamed.
        var (table, leadId, events) = await ALeadWithStoredEventsAsync(3_000);
        var now = Start.AddDays(40);
        var rescore = LeadRescore.Event("job-1", leadId, Target.Version, now);
        var unbounded = StoredLead(leadId, events);
        var unboundedOutcome = new ScoringOutcome();
        LeadRescore.Apply(unbounded, rescore, ReplayOrder.Sort(events), Target, Model.HalfLife, now, unboundedOutcome);
        var stream = new StoredEventStream(table, window: 400);

        // Act
        var replay = await LeadRescore.FoldAsync(leadId, Target, stream.ReadAsync(leadId, CancellationToken.None), CancellationToken.None);
        var bounded = StoredLead(leadId, events);
        var boundedOutcome = new ScoringOutcome();
        LeadRescore.Apply(bounded, rescore, replay, Target, Model.HalfLife, now, boundedOutcome);

        // Assert: the same scores, cap counters, stage, grade and ledger row, from at most 400 events held.
        Assert.Equal(unbounded.EngagementValue, bounded.EngagementValue);
        Assert.Equal(unbounded.Caps, bounded.Caps);
        Assert.Equal((unbounded.Stage, unbounded.FitGrade), (bounded.Stage, bounded.FitGrade));
        Assert.Equal(unboundedOutcome.Awards.Select(a => (a.RuleId, a.Points, a.Note)), boundedOutcome.Awards.Select(a => (a.RuleId, a.Points, a.Note)));
        Assert.Contains("3000 stored event(s) replayed", boundedOutcome.Awards[0].Note, StringComparison.Ordinal);
        Assert.Equal(400, stream.Stats.MaxHeld);
    }

    /// <summary>The lead as the processor stored it under <see cref="Model"/>, from the same events.</summary>
    private static LeadScoreState StoredLead(string leadId, List<ReplayEvent> events)
    {
        var state = new LeadScoreState { LeadId = leadId };
        var engine = new ScoringEngine(Model);
        var outcome = new ScoringOutcome();
        foreach (var e in ReplayOrder.Sort(events))
            engine.Apply(state, e.Event, e.AppliedAt, outcome);
        return state;
    }

    /// <summary>
    /// Applied-event rows written as the processor writes them: a CTO's form, then page views (a fifth on the capped pricing
    /// page, so order decides the points) applied seven to a batch (one AppliedAt), over weeks. Plus three rows without JSON
    /// and one re-score row, which a replay leaves out.
    /// </summary>
    private async Task<(TableClient Table, string LeadId, List<ReplayEvent> Events)> ALeadWithStoredEventsAsync(int count)
    {
        var name = AzuriteFixture.UniqueName("stream");
        var service = azurite.TableService();
        await service.CreateTableIfNotExistsAsync(name);
        var table = service.GetTableClient(name);
        var leadId = ScoringHarness.LeadIdOf(name + "@example.com");
        var random = new Random(12);
        var events = new List<ReplayEvent>(count);
        var rows = new List<TableEntity>(count + 4);
        for (var i = 0; i < count; i++)
        {
            var appliedAt = Start.AddMinutes(17 * (i / 7));
            var occurredAt = appliedAt.AddSeconds(-random.Next(0, 600));
            var e = i == 0
                ? Events.Form(name + "@example.com", occurredAt, FormIntent.ContentDownload, profile: new() { ["role"] = "CTO" })
                : Events.PageView(occurredAt, i % 5 == 0 ? "https://example.com/pricing" : "https://example.com/blog/" + i, name + "@example.com");
            e = e with { EventId = Guid.NewGuid().ToString("N") };
            events.Add(new ReplayEvent(e, appliedAt));
            rows.Add(Row(leadId, e.EventId, e.Type, occurredAt, appliedAt, Events.Json(e)));
        }
        rows.Add(Row(leadId, "too-large-1", LeadEventTypes.PageView, Start, Start, null));
        rows.Add(Row(leadId, "too-large-2", LeadEventTypes.PageView, Start.AddDays(3), Start.AddDays(3), null));
        rows.Add(Row(leadId, "too-large-3", LeadEventTypes.PageView, Start.AddDays(9), Start.AddDays(9), null));
        var old = LeadRescore.Event("job-0", leadId, Model.Version, Start.AddDays(2));
        rows.Add(Row(leadId, old.EventId, old.Type, old.OccurredAt, old.OccurredAt, Events.Json(old)));
        foreach (var batch in rows.Chunk(100))
            await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
        return (table, leadId, events);
    }

    private static TableEntity Row(string leadId, string eventId, string type, DateTimeOffset occurredAt, DateTimeOffset appliedAt, string? json)
    {
        var row = new TableEntity(leadId, LeadRows.Applied(eventId))
        {
            ["EventId"] = eventId,
            ["EventType"] = type,
            ["OccurredAt"] = occurredAt,
            ["AppliedAt"] = appliedAt,
            ["ModelVersion"] = Model.Version,
        };
        if (json is not null)
            row["EventJson"] = json;
        return row;
    }
}
