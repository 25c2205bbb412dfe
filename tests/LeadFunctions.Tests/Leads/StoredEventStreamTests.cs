using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using LeadFunctions.Testing;
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

        // Assert: exactly the processor's order of everything, never more than 500 rows held.
        Assert.Equal(ReplayOrder.Sort(events).Select(e => e.Event.EventId), streamed.Select(e => e.Event.EventId));
        Assert.Equal(500, stream.Stats.MaxHeld);
        Assert.Equal((3_500, 3), (stream.Stats.Streamed, stream.Stats.Unreplayable));
    }

    [Fact]
    public async Task Streaming_a_lead_of_n_events_a_window_at_a_time_reads_about_n_rows_not_n_squared_over_the_window()
    {
        // Arrange: 3,504 stored rows streamed 500 at a time. Re-reading all that is left on each of 7 passes returns about
        // 3,504 + 3,000 + 2,500 + … + 500 = 14,000 rows; reading each row in the first pass and once more in its slice, at most 2n.
        var rows = new RowCountingPolicy();
        var requests = new CountingPolicy();
        var (table, leadId, events) = await ALeadWithStoredEventsAsync(3_500, rows, requests);
        var stream = new StoredEventStream(table, window: 500);

        // Act
        var streamed = new List<ReplayEvent>();
        await foreach (var e in stream.ReadAsync(leadId, CancellationToken.None))
            streamed.Add(e);

        // Assert: the same order, rows counted by the storage responses themselves (and by the stream), requests bounded.
        Assert.Equal(ReplayOrder.Sort(events).Select(e => e.Event.EventId), streamed.Select(e => e.Event.EventId));
        Assert.Equal(500, stream.Stats.MaxHeld);
        Assert.Equal(rows.Rows, stream.Stats.RowsRead);
        Assert.InRange(rows.Rows, 3_504, 2 * 3_504);
        // The first pass's 4 pages, then one page per slice of at most 500 rows (3,000 rows left: at least 6 slices).
        Assert.InRange(requests.Reads, 10, 4 + 12);
    }

    [Fact]
    public async Task A_burst_denser_than_the_window_and_ties_beyond_it_still_stream_in_applied_order()
    {
        // Arrange: 1,400 events in one second (a millisecond apart, seven to an AppliedAt) and then 700 applied at one
        // instant, among events a day apart: slices of the first histogram cannot cut them, finer ones and the ties must.
        var (table, leadId, events) = await ALeadWithStoredEventsAsync(2_400, appliedAt: i => i switch
        {
            < 150 => Start.AddDays(i),
            < 1_550 => Start.AddDays(150).AddMilliseconds(i / 7),
            < 2_250 => Start.AddDays(151),
            _ => Start.AddDays(i - 2_000),
        });
        var stream = new StoredEventStream(table, window: 300);

        // Act
        var streamed = new List<ReplayEvent>();
        await foreach (var e in stream.ReadAsync(leadId, CancellationToken.None))
            streamed.Add(e);

        // Assert
        Assert.Equal(ReplayOrder.Sort(events).Select(e => e.Event.EventId), streamed.Select(e => e.Event.EventId));
        Assert.Equal(300, stream.Stats.MaxHeld);
        Assert.Equal((2_400, 3), (stream.Stats.Streamed, stream.Stats.Unreplayable));
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
    private Task<(TableClient Table, string LeadId, List<ReplayEvent> Events)> ALeadWithStoredEventsAsync(int count, params HttpPipelinePolicy[] readPolicies) =>
        ALeadWithStoredEventsAsync(count, null, readPolicies);

    private async Task<(TableClient Table, string LeadId, List<ReplayEvent> Events)> ALeadWithStoredEventsAsync(int count, Func<int, DateTimeOffset>? appliedAt, params HttpPipelinePolicy[] readPolicies)
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
            var applied = appliedAt?.Invoke(i) ?? Start.AddMinutes(17 * (i / 7));
            var occurredAt = applied.AddSeconds(-random.Next(0, 600));
            var e = i == 0
                ? Events.Form(name + "@example.com", occurredAt, FormIntent.ContentDownload, profile: new() { ["role"] = "CTO" })
                : Events.PageView(occurredAt, i % 5 == 0 ? "https://example.com/pricing" : "https://example.com/blog/" + i, name + "@example.com");
            e = e with { EventId = Guid.NewGuid().ToString("N") };
            events.Add(new ReplayEvent(e, applied));
            rows.Add(Row(leadId, e.EventId, e.Type, occurredAt, applied, Events.Json(e)));
        }
        rows.Add(Row(leadId, "too-large-1", LeadEventTypes.PageView, Start, Start, null));
        rows.Add(Row(leadId, "too-large-2", LeadEventTypes.PageView, Start.AddDays(3), Start.AddDays(3), null));
        rows.Add(Row(leadId, "too-large-3", LeadEventTypes.PageView, Start.AddDays(9), Start.AddDays(9), null));
        var old = LeadRescore.Event("job-0", leadId, Model.Version, Start.AddDays(2));
        rows.Add(Row(leadId, old.EventId, old.Type, old.OccurredAt, old.OccurredAt, Events.Json(old)));
        foreach (var batch in rows.Chunk(100))
            await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
        if (readPolicies.Length == 0)
            return (table, leadId, events);
        var options = new TableClientOptions();
        foreach (var policy in readPolicies)
            options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        return (new TableClient(azurite.ConnectionString, name, options), leadId, events);
    }

    /// <summary>Counts the entities table queries return, from the response bodies: what the service sent, not what a reader says.</summary>
    private sealed class RowCountingPolicy : HttpPipelinePolicy
    {
        public long Rows { get; private set; }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            Count(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            Count(message);
        }

        private void Count(HttpMessage message)
        {
            if (message.Request.Method != RequestMethod.Get || message.Response.Status != 200 || message.Response.Content is not { } content)
                return;
            using var body = JsonDocument.Parse(content.ToMemory());
            if (body.RootElement.TryGetProperty("value", out var value))
                Rows += value.GetArrayLength();
        }
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
