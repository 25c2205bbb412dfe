using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Tests.Leads;

[Collection(AzuriteCollection.Name)]
public sealed class RescoreLeadTests(AzuriteFixture azurite)
{
    private const string Email = "ada@example.com";

    [Fact]
    public async Task The_same_message_delivered_five_times_scores_once()
    {
        var harness = new ScoringHarness(azurite);
        var message = ScoringHarness.Message(Events.Json(Events.Download(Email, harness.Time.GetUtcNow())));

        for (var delivery = 1; delivery <= 5; delivery++)
            await harness.Function.Run(message, CancellationToken.None);

        var lead = await harness.LeadAsync(Email);
        Assert.Equal(30, lead.Lead.EngagementScore, 9);
        Assert.Equal("bottom-download", Assert.Single(lead.Ledger).RuleId);
        Assert.Equal(1, harness.AppliedEventRows(Email));
    }

    [Fact]
    public async Task A_hundred_events_for_one_lead_processed_concurrently_by_two_instances_lose_no_update()
    {
        var harness = new ScoringHarness(azurite);
        var otherInstance = harness.NewProcessor(); // another worker on the same table: only the ETag keeps them apart
        var now = harness.Time.GetUtcNow();
        var events = Enumerable.Range(0, 100).Select(i => Events.PageView(now, $"https://example.com/blog/{i}", Email)).ToList();

        await Task.WhenAll(events.Select((e, i) => Task.Run(() => (i % 2 == 0 ? harness.Processor : otherInstance).ProcessAsync(e, CancellationToken.None))));

        var lead = await harness.LeadAsync(Email);
        Assert.Equal(300, lead.Lead.EngagementScore, 6);
        Assert.Equal(100, lead.Ledger.Count);
        Assert.Equal(lead.Ledger.Sum(l => l.PointsNow), lead.Lead.EngagementScore, 6);
        Assert.Equal(100, harness.AppliedEventRows(Email));
    }

    [Fact]
    public async Task A_malformed_message_ends_in_the_poison_queue_after_five_deliveries_and_replay_brings_it_back()
    {
        var harness = new ScoringHarness(azurite);
        const string malformed = """{ "eventId": "x1", "type": "page-view" """;
        await harness.Queue.SendMessageAsync(malformed);

        var runs = await QueueTriggerSimulator.DrainAsync(harness.Queue, harness.Poison, m => harness.Function.Run(m, CancellationToken.None));

        Assert.Equal(QueueTriggerSimulator.MaxDequeueCountFromHostJson(), runs);
        Assert.Empty((await harness.Queue.PeekMessagesAsync(32)).Value);
        var poisoned = Assert.Single((await harness.Poison.PeekMessagesAsync(32)).Value);
        Assert.Equal(malformed, poisoned.Body.ToString());

        var replayed = await harness.Replayer.ReplayAsync(CancellationToken.None);

        Assert.Equal(1, replayed);
        Assert.Empty((await harness.Poison.PeekMessagesAsync(32)).Value);
        Assert.Equal(malformed, Assert.Single((await harness.Queue.PeekMessagesAsync(32)).Value).Body.ToString());
    }

    [Fact]
    public async Task A_malformed_message_is_rethrown_never_swallowed()
    {
        var harness = new ScoringHarness(azurite);

        await Assert.ThrowsAsync<MalformedLeadEventException>(() => harness.Function.Run(ScoringHarness.Message("not json"), CancellationToken.None));
    }

    [Fact]
    public async Task A_replayed_event_that_was_poisoned_is_applied_once_when_processed_again()
    {
        var harness = new ScoringHarness(azurite);
        var download = Events.Json(Events.Download(Email, harness.Time.GetUtcNow()));
        await harness.Poison.SendMessageAsync(download);
        await harness.Poison.SendMessageAsync(download);

        Assert.Equal(2, await harness.Replayer.ReplayAsync(CancellationToken.None));
        await QueueTriggerSimulator.DrainAsync(harness.Queue, harness.Poison, m => harness.Function.Run(m, CancellationToken.None));

        Assert.Single((await harness.LeadAsync(Email)).Ledger);
    }

    [Fact]
    public async Task Three_anonymous_page_views_then_a_form_with_that_visitor_id_make_one_lead_with_all_four_events_scored_once()
    {
        var harness = new ScoringHarness(azurite);
        var visitor = Guid.NewGuid().ToString();
        var start = harness.Time.GetUtcNow();
        var views = Enumerable.Range(0, 3).Select(i => Events.PageView(start.AddMinutes(i), $"https://example.com/blog/{i}", visitorId: visitor)).ToList();
        var form = Events.Form(Email, start.AddMinutes(5), FormIntent.ContentDownload, visitor);
        var messages = views.Append(form).Select(Events.Json).ToList();

        foreach (var view in messages.Take(3))
            await harness.Function.Run(ScoringHarness.Message(view), CancellationToken.None);
        Assert.Null(await harness.Directory.FindAsync(ScoringHarness.LeadIdOf(Email), CancellationToken.None));
        // The form, then every message again, as redeliveries would.
        foreach (var message in messages.Skip(3).Concat(messages))
            await harness.Function.Run(ScoringHarness.Message(message), CancellationToken.None);

        var lead = await harness.LeadAsync(Email);
        Assert.Equal(4, harness.AppliedEventRows(Email));
        Assert.Equal(views.Select(v => v.EventId).Append(form.EventId).Order(StringComparer.Ordinal), lead.Ledger.Select(l => l.EventId).Order(StringComparer.Ordinal));
        Assert.Equal(3 * 3 + 15, lead.Ledger.Sum(l => l.Points));
        Assert.Equal(LifecycleStage.Lead, lead.Lead.Stage);

        // Later anonymous activity of the same visitor goes straight to the lead.
        var later = await harness.Processor.ProcessAsync(Events.PageView(start.AddMinutes(10), "https://example.com/blog/x", visitorId: visitor), CancellationToken.None);
        Assert.Equal((ScoringHarness.LeadIdOf(Email), LeadEventOutcome.Applied), (later.LeadId, later.Outcome));
        Assert.Equal(5, harness.AppliedEventRows(Email));
    }

    [Fact]
    public async Task Get_lead_shows_an_engagement_equal_to_the_decayed_ledger_sum()
    {
        var harness = new ScoringHarness(azurite);
        var start = harness.Time.GetUtcNow();
        await harness.Processor.ProcessAsync(Events.Form(Email, start, FormIntent.ContentDownload, profile: new() { ["role"] = "CTO", ["firstName"] = "Ada" }), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromDays(3));
        await harness.Processor.ProcessAsync(Events.Download(Email, harness.Time.GetUtcNow()), CancellationToken.None);
        await harness.Processor.ProcessAsync(Events.PageView(harness.Time.GetUtcNow(), "https://example.com/pricing", Email), CancellationToken.None);
        await harness.Processor.ProcessAsync(Events.PageView(harness.Time.GetUtcNow(), "https://example.com/pricing", Email), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromDays(17));

        var result = SignedIn.Unwrap(await new GetLead(harness.Directory, new NoSuppressions(), new NoEmails(), SignedIn.Access, SignedIn.NoAccessLog).Run(SignedIn.As(new DefaultHttpContext().Request), ScoringHarness.LeadIdOf(Email), CancellationToken.None));

        var body = Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Null(body.Ledger.Continuation); // the whole ledger fits the first page, so its sum is the score
        Assert.Equal(body.Ledger.Items.Sum(l => l.PointsNow), body.Engagement.Score, 9);
        Assert.Equal(15 + 30 + 3 + 10 + 3, body.Ledger.Items.Sum(l => l.Points)); // the second pricing view is capped
        Assert.True(body.Engagement.Score < 30);
        Assert.Contains(body.Ledger.Items, l => l.Rule == "pricing" && l.Points == 0 && l.Note!.Contains("capped", StringComparison.Ordinal));
        Assert.Equal(("B", 50, "it-1"), (body.Fit.Grade, body.Fit.Score, body.ModelVersion));
        Assert.Equal("Ada", body.Profile["firstName"]);
        // MQL at 60 after the download, then decayed below 50: the history says when and why.
        // Newest first: the decay back to Lead, the MQL, the first Lead.
        Assert.Equal(["Lead", "MQL", "Lead"], body.History.Items.Select(h => h.To));
        Assert.Equal("decay", body.History.Items[0].CausedBy);
        Assert.Equal(body.History.Items.Select(h => h.At).OrderDescending(), body.History.Items.Select(h => h.At));
        Assert.Equal("Lead", body.Stage);
    }

    [Fact]
    public async Task Lookup_by_email_in_the_body_ignores_case_and_spaces_and_answers_404_for_no_lead()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        await harness.Processor.ProcessAsync(Events.Download(Email, harness.Time.GetUtcNow()), CancellationToken.None);
        var function = new LookupLead(new LeadLookup(harness.Directory, TestLeadIds.Identity), new NoSuppressions(), new NoEmails());

        // Act
        var found = await function.Run(JsonRequest("""{"email":" Ada@EXAMPLE.com "}"""), CancellationToken.None);
        var missing = await function.Run(JsonRequest("""{"email":"nobody@example.com"}"""), CancellationToken.None);

        // Assert
        Assert.Equal(ScoringHarness.LeadIdOf(Email), Assert.IsType<LeadDetailResponse>(Assert.IsType<OkObjectResult>(found).Value).LeadId);
        Assert.IsType<NotFoundResult>(missing);
    }

    [Theory]
    [InlineData("""{"email":"not-an-address"}""")]
    [InlineData("""{"mail":"ada@example.com"}""")]
    [InlineData("""{"email":42}""")]
    [InlineData("""["ada@example.com"]""")]
    [InlineData("email=ada@example.com")]
    [InlineData("")]
    public async Task Lookup_with_a_bad_body_is_a_400_problem_naming_the_email_field(string body)
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        var function = new LookupLead(new LeadLookup(harness.Directory, TestLeadIds.Identity), new NoSuppressions(), new NoEmails());

        // Act
        var result = await function.Run(JsonRequest(body), CancellationToken.None);

        // Assert
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Equal(StatusCodes.Status400BadRequest, problem.Status);
        Assert.Contains(LeadLookup.EmailField, problem.Errors.Keys);
    }

    [Fact]
    public async Task Lookup_with_a_body_larger_than_one_address_needs_is_a_413()
    {
        var harness = new ScoringHarness(azurite);
        var function = new LookupLead(new LeadLookup(harness.Directory, TestLeadIds.Identity), new NoSuppressions(), new NoEmails());

        var result = await function.Run(JsonRequest("{\"email\":\"" + new string('a', 10_000) + "@example.com\"}"), CancellationToken.None);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, Assert.IsType<ObjectResult>(result).StatusCode);
    }

    [Fact]
    public async Task A_later_submission_with_empty_fields_keeps_the_stored_profile()
    {
        var harness = new ScoringHarness(azurite);
        var now = harness.Time.GetUtcNow();
        await harness.Processor.ProcessAsync(Events.Form(Email, now, profile: new() { ["firstName"] = "Ada", ["company"] = "Acme" }), CancellationToken.None);

        await harness.Processor.ProcessAsync(Events.Form(Email, now, profile: new() { ["firstName"] = "", ["company"] = "Acme Ltd" }), CancellationToken.None);

        var profile = (await harness.LeadAsync(Email)).Lead.Profile;
        Assert.Equal(("Ada", "Acme Ltd"), (profile["firstName"], profile["company"]));
    }

    [Fact]
    public async Task Stage_observers_hear_of_a_transition_before_it_is_committed()
    {
        var observer = new RecordingObserver { FailFirst = true };
        var harness = new ScoringHarness(azurite, observer);
        var demo = Events.Form(Email, harness.Time.GetUtcNow(), FormIntent.DemoRequest);

        await Assert.ThrowsAsync<InvalidOperationException>(() => harness.Processor.ProcessAsync(demo, CancellationToken.None));
        Assert.Null(await harness.Directory.FindAsync(ScoringHarness.LeadIdOf(Email), CancellationToken.None));

        await harness.Processor.ProcessAsync(demo, CancellationToken.None);

        var seen = observer.Seen.Last();
        Assert.Equal((LifecycleStage.Sql, LifecycleStage.Sql, demo.EventId), (seen.Lead.Stage, seen.Change.To, seen.Change.EventId));
        Assert.Equal(LifecycleStage.Sql, (await harness.LeadAsync(Email)).Lead.Stage);
    }

    private static HttpRequest JsonRequest(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
        return context.Request;
    }

    private sealed class RecordingObserver : IStageChangeObserver
    {
        public bool FailFirst { get; set; }
        public List<(LeadSummary Lead, StageChange Change)> Seen { get; } = [];

        public Task OnStageChangingAsync(LeadSummary lead, StageChange change, CancellationToken cancellationToken)
        {
            Seen.Add((lead, change));
            if (FailFirst)
            {
                FailFirst = false;
                throw new InvalidOperationException("The observer could not schedule its work.");
            }
            return Task.CompletedTask;
        }
    }
}
