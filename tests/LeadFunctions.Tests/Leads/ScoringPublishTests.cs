using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Leads;
using LeadFunctions.Scoring;
using LeadFunctions.Tests.Support;
using LeadFunctions.Tests.Workspace;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Leads;

[Collection(AzuriteCollection.Name)]
public sealed class ScoringPublishTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private PublishHarness _app = null!;

    public Task InitializeAsync()
    {
        _app = new PublishHarness(azurite);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Publishing_records_who_when_and_why_and_new_events_are_scored_with_the_new_version()
    {
        // Arrange: a lead scored by the model file.
        var leadId = await _app.ALeadAsync("ada@example.com", pageViews: 1);
        var publishedAt = _app.Time.GetUtcNow();

        // Act
        var result = await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12), "page views predict demos"));
        _app.Time.Advance(TimeSpan.FromMinutes(1));
        await _app.Processor.ProcessAsync(Events.PageView(_app.Time.GetUtcNow(), "https://www.example.com/pricing", "ada@example.com"), CancellationToken.None);

        // Assert: the publication names the signed-in user, the time, the reason and what it replaced.
        var created = Assert.IsType<ObjectResult>(result);
        Assert.Equal(201, created.StatusCode);
        var publication = Assert.IsType<PublishScoringModel.PublishedView>(created.Value).Publication;
        Assert.Equal(("pub-2", "pub-1", Principals.DanaId, Principals.DanaName, publishedAt, "page views predict demos"),
            (publication.Version, publication.PreviousVersion, publication.PublishedById, publication.PublishedByName, publication.PublishedAt, publication.Reason));
        var list = Assert.IsType<ScoringModelsView>(Assert.IsType<OkObjectResult>(SignedIn.Unwrap(await _app.List.Run(SignedIn.As(PublishHarness.Get(), WorkspaceRoles.Marketing), CancellationToken.None))).Value);
        Assert.Equal(("pub-2", true, "pub-1"), (list.Active.Version, list.Active.Published, list.BaselineVersion));
        Assert.Equal(publication, Assert.Single(list.Publications));

        // The new event earned the new points and its ledger row names the new version; the lead's older points are still pub-1's.
        var lead = await _app.LeadAsync(leadId);
        var newest = lead.Ledger.Items[0];
        Assert.Equal(("page-view", 12.0, "pub-2"), (newest.RuleId, newest.Points, newest.ModelVersion));
        Assert.Equal("pub-2", lead.Lead.ModelVersion);
        var view = LeadDetailResponse.From(lead, null, []);
        Assert.Equal((PointsVersion.Mixed, "pub-2", false), (view.PointsModelVersion, view.ActiveModelVersion, view.OnActiveModel));
    }

    [Fact]
    public async Task After_a_publish_the_dry_run_compares_against_the_published_model_not_the_file()
    {
        // Arrange
        await _app.ALeadAsync("ada@example.com", pageViews: 2);
        await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12)));

        // Act
        var report = await _app.Services.GetRequiredService<LeadFunctions.Infrastructure.Scoring.ScoringDryRunService>()
            .RunAsync(PublishHarness.Variant("pub-3", 1), new Domain.Scoring.DryRun.ReplayFilter(), CancellationToken.None);

        // Assert
        Assert.Equal(("pub-2", "pub-3"), (report.CurrentModelVersion, report.ProposedModelVersion));
    }

    [Theory]
    [InlineData("\"points\": 3,", "\"points\": \"many\",", "model")]
    [InlineData("\"equals\": \"executive\"", "\"equals\": \"CTO\"", "model.fitRules[executive].values")]
    public async Task Publishing_an_invalid_model_is_a_400_naming_the_field_and_nothing_changes(string from, string to, string field)
    {
        // Arrange
        var invalid = PublishHarness.Variant("pub-2", 3).Replace(from, to, StringComparison.Ordinal);

        // Act
        var result = await _app.PublishAsync(PublishHarness.PublishBody(invalid));

        // Assert
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Equal([field], problem.Errors.Keys);
        var list = await _app.Services.GetRequiredService<ScoringModelPublisher>().ListAsync(CancellationToken.None);
        Assert.Equal(("pub-1", false), (list.Active.Version, list.Active.Published));
        Assert.Empty(list.Publications);
        Assert.Empty(_app.Models.Query<TableEntity>().ToList());
    }

    [Fact]
    public async Task A_model_too_large_for_one_table_property_is_a_400_naming_the_model()
    {
        // Arrange: valid JSON, padded past what a 64 KiB property holds.
        var padded = PublishHarness.Variant("pub-2", 12).Replace("\"version\"", new string(' ', ScoringModelPublisher.MaxModelChars) + "\"version\"", StringComparison.Ordinal);

        // Act
        var result = await _app.PublishAsync(PublishHarness.PublishBody(padded));

        // Assert
        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Contains("64 KiB", Assert.Single(problem.Errors["model"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_publish_without_a_reason_is_a_400_naming_the_reason()
    {
        var result = await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12), reason: " "));

        Assert.Equal(["reason"], Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value).Errors.Keys);
    }

    [Fact]
    public async Task A_published_version_is_immutable_so_the_same_version_with_other_content_is_a_409()
    {
        // Arrange
        Assert.Equal(201, Status(await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12)))));
        Assert.Equal(201, Status(await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-3", 5)))));

        // Act: pub-2 again, with other points.
        var result = await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 20)));

        // Assert
        Assert.Equal(409, Status(result));
        Assert.Contains("immutable", Assert.IsType<ProblemDetails>(Assert.IsType<ObjectResult>(result).Value).Detail, StringComparison.Ordinal);
        var list = await _app.Services.GetRequiredService<ScoringModelPublisher>().ListAsync(CancellationToken.None);
        Assert.Equal("pub-3", list.Active.Version);
        Assert.Equal(12, (await _app.Services.GetRequiredService<IActiveScoringModel>().GetVersionAsync("pub-2", CancellationToken.None))!.EngagementRules[0].Points);
    }

    [Fact]
    public async Task Of_two_concurrent_publishes_against_the_same_active_version_one_wins_and_the_other_is_a_409()
    {
        // Act: both reviewed against pub-1.
        var results = await Task.WhenAll(
            _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-a", 7), expected: "pub-1")),
            _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-b", 9), expected: "pub-1")));

        // Assert
        Assert.Equal([201, 409], results.Select(Status).Order());
        var list = await _app.Services.GetRequiredService<ScoringModelPublisher>().ListAsync(CancellationToken.None);
        var winner = Assert.Single(list.Publications);
        Assert.Equal((winner.Version, "pub-1"), (list.Active.Version, winner.PreviousVersion));
    }

    [Fact]
    public async Task Only_admins_publish_a_marketer_gets_403_and_nobody_signed_in_gets_401()
    {
        // Act
        var marketer = await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12)), WorkspaceRoles.Marketing);
        var anonymous = SignedIn.Unwrap(await _app.Publish.Run(PublishHarness.Post(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12))), CancellationToken.None));
        var salesRescore = SignedIn.Unwrap(await _app.StartRescore.Run(SignedIn.As(PublishHarness.Post("{}"), WorkspaceRoles.Sales), CancellationToken.None));

        // Assert
        Assert.Equal((403, 401, 403), (Status(marketer), Status(anonymous), Status(salesRescore)));
        Assert.Empty(_app.Models.Query<TableEntity>().ToList());
    }

    [Fact]
    public async Task A_rescore_walks_every_lead_exactly_once_even_when_the_runner_dies_after_enqueueing_a_page_and_reports_progress()
    {
        // Arrange: three leads of the model file (page size 2, one page per run); then pub-2 with a re-score.
        var leads = new[]
        {
            await _app.ALeadAsync("a@example.com", pageViews: 1),
            await _app.ALeadAsync("b@example.com", pageViews: 2),
            await _app.ALeadAsync("c@example.com", pageViews: 3),
        };
        var published = Assert.IsType<PublishScoringModel.PublishedView>(Assert.IsType<ObjectResult>(
            await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12), rescore: true))).Value);
        var jobId = published.Rescore!.JobId;
        _app.Time.Advance(TimeSpan.FromSeconds(31)); // past the switch-over delay

        // Act: the first run enqueues a page, then "dies" before saving its cursor (the job row is put back as it was).
        var before = (await _app.Models.GetEntityAsync<TableEntity>("published", "job|" + jobId)).Value;
        var first = await _app.Runner.RunOnceAsync(CancellationToken.None);
        var afterFirst = (await _app.Models.GetEntityAsync<TableEntity>("published", "job|" + jobId)).Value;
        await _app.Models.UpdateEntityAsync(before, afterFirst.ETag, TableUpdateMode.Replace);

        // Until the events are applied, the lead view says the lead is still on the old version.
        var waiting = LeadDetailResponse.From(await _app.LeadAsync(leads[0]), null, []);

        var runs = 0;
        var enqueued = first.Enqueued;
        RescoreJobView progress;
        do
        {
            enqueued += (await _app.Runner.RunOnceAsync(CancellationToken.None)).Enqueued;
            await _app.DrainAsync();
            progress = Assert.IsType<RescoreJobView>(Assert.IsType<OkObjectResult>(SignedIn.Unwrap(
                await _app.Progress.Run(SignedIn.As(PublishHarness.Get(), WorkspaceRoles.Marketing), jobId, CancellationToken.None))).Value);
        }
        while (progress.State != RescoreStates.Finished && ++runs < 20);

        // Assert: the page was enqueued twice, yet each lead has one re-score row, and all are on pub-2.
        Assert.Equal(2, first.Enqueued);
        Assert.Equal(5, enqueued);
        Assert.Equal(("pub-1", "pub-2", false), (waiting.PointsModelVersion, waiting.ActiveModelVersion, waiting.OnActiveModel));
        foreach (var leadId in leads)
        {
            Assert.Single(_app.RescoreRows(leadId));
            var view = LeadDetailResponse.From(await _app.LeadAsync(leadId), null, []);
            Assert.Equal(("pub-2", "pub-2", true), (view.PointsModelVersion, view.ModelVersion, view.OnActiveModel));
        }
        Assert.Equal((RescoreStates.Finished, 3L, 3L, 0L, 3L, 0L), (progress.State, progress.LeadsSeen, progress.LeadsEnqueued, progress.LeadsAlreadyCurrent, progress.LeadsApplied, progress.LeadsRemaining));
        Assert.NotNull(progress.FinishedAt);

        // A second run of a finished job does nothing.
        Assert.Equal(0, (await _app.Runner.RunOnceAsync(CancellationToken.None)).Enqueued);
    }

    [Fact]
    public async Task A_rescored_lead_that_now_qualifies_becomes_an_MQL_through_the_normal_lifecycle_with_one_ledger_row_explaining_it()
    {
        // Arrange: five page views are 15 points under the model file (a Lead); under pub-2 they are 60, past the MQL bar of 50.
        var leadId = await _app.ALeadAsync("grace@example.com", pageViews: 5);
        Assert.Equal(LifecycleStage.Lead, (await _app.LeadAsync(leadId)).Lead.Stage);
        await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12), rescore: true));
        _app.Time.Advance(TimeSpan.FromSeconds(31));

        // Act
        await _app.Runner.RunOnceAsync(CancellationToken.None);
        await _app.DrainAsync();

        // Assert
        var lead = await _app.LeadAsync(leadId);
        Assert.Equal((LifecycleStage.Mql, "pub-2"), (lead.Lead.Stage, lead.Lead.ModelVersion));
        Assert.Equal(60, lead.Lead.EngagementScore, 1);
        var change = lead.History.Items[0];
        Assert.Equal((LifecycleStage.Lead, LifecycleStage.Mql, "pub-2"), (change.From, change.To, change.ModelVersion));
        Assert.StartsWith("rescore-", change.EventId, StringComparison.Ordinal);
        var row = Assert.Single(_app.RescoreRows(leadId));
        Assert.Equal(45, row.GetDouble("Points")!.Value, 1);
        Assert.Contains("engagement 15 -> 60", row.GetString("Note"), StringComparison.Ordinal);
        Assert.Equal("pub-2", row.GetString("ModelVersion"));
        // The ledger still sums to the score.
        Assert.Equal(lead.Lead.EngagementScore, lead.Ledger.Items.Sum(e => e.PointsNow), 3);
    }

    [Fact]
    public async Task A_rescore_of_a_lead_with_more_stored_events_than_one_window_equals_the_replay_of_all_of_them_held_in_memory()
    {
        // Arrange: a lead through the processor, then 2,500 more applied-event rows (past one 2,000-event window), in no
        // time order by row key; then pub-2 with a re-score.
        var leadId = await _app.ALeadAsync("busy@example.com", pageViews: 2);
        var start = _app.Time.GetUtcNow().AddDays(-20);
        var rows = Enumerable.Range(0, 2_500).Select(i =>
        {
            var at = start.AddMinutes(7 * (i / 3));
            var e = Events.PageView(at.AddSeconds(-(i % 50)), "https://www.example.com/docs/" + i, "busy@example.com") with { EventId = Guid.NewGuid().ToString("N") };
            return new TableEntity(leadId, "e|" + e.EventId)
            {
                ["EventId"] = e.EventId, ["EventType"] = e.Type, ["OccurredAt"] = e.OccurredAt, ["AppliedAt"] = at,
                ["ModelVersion"] = "pub-1", ["EventJson"] = Events.Json(e),
            };
        });
        foreach (var batch in rows.Chunk(100))
            await _app.Leads.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
        var target = Domain.Scoring.ScoringModelLoader.Load(PublishHarness.Variant("pub-2", 12));
        await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12), rescore: true));
        _app.Time.Advance(TimeSpan.FromSeconds(31));
        // What re-scoring from every stored event held in memory and sorted gives (the unbounded way).
        var stored = _app.Leads.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {"e|"} and RowKey lt {"e}"}"))
            .Select(r => new Domain.Scoring.DryRun.ReplayEvent(Domain.Events.LeadEventJson.Deserialize(r.GetString("EventJson")), r.GetDateTimeOffset("AppliedAt")!.Value))
            .ToList();
        var unbounded = new Domain.Scoring.RescoreReplay(leadId, target);
        foreach (var e in Domain.Scoring.DryRun.ReplayOrder.Sort(stored))
            unbounded.Add(e);

        // Act
        await _app.Runner.RunOnceAsync(CancellationToken.None);
        await _app.DrainAsync();

        // Assert
        var lead = await _app.LeadAsync(leadId);
        Assert.Equal("pub-2", lead.Lead.ModelVersion);
        Assert.Equal(unbounded.State.EngagementAt(_app.Time.GetUtcNow(), target.HalfLife), lead.Lead.EngagementScore, 6);
        Assert.Contains("2503 stored event(s) replayed", Assert.Single(_app.RescoreRows(leadId)).GetString("Note"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rescore_can_be_started_for_the_active_version_and_a_second_one_is_a_409_while_it_runs()
    {
        // Arrange
        await _app.PublishAsync(PublishHarness.PublishBody(PublishHarness.Variant("pub-2", 12)));

        // Act
        var started = SignedIn.Unwrap(await _app.StartRescore.Run(SignedIn.As(PublishHarness.Post("{}")), CancellationToken.None));
        var again = SignedIn.Unwrap(await _app.StartRescore.Run(SignedIn.As(PublishHarness.Post("{}")), CancellationToken.None));
        var unknown = SignedIn.Unwrap(await _app.Progress.Run(SignedIn.As(PublishHarness.Get()), "20260101000000deadbeef", CancellationToken.None));

        // Assert
        var job = Assert.IsType<RescoreJobView>(Assert.IsType<ObjectResult>(started).Value);
        Assert.Equal((202, "pub-2", RescoreStates.Enqueueing, Principals.DanaId), (Status(started), job.TargetVersion, job.State, job.StartedById));
        Assert.Equal(409, Status(again));
        Assert.Equal(404, Status(unknown));
    }

    private static int Status(IActionResult result) => result switch
    {
        ObjectResult o => o.StatusCode ?? 200,
        StatusCodeResult s => s.StatusCode,
        _ => throw new InvalidOperationException(result.GetType().Name),
    };
}
