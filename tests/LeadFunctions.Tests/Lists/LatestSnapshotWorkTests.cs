using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Lists;

/// <summary>
/// A work that only refreshes what a list shows (no stage change, same index partitions) goes in the lead's one latest-snapshot
/// row, replaced by the next such work and never deleted; every other work keeps a row of its own that goes once it ran.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LatestSnapshotWorkTests(AzuriteFixture azurite)
{
    private static Dictionary<string, string> Profile(string first) =>
        new() { ["firstName"] = first, ["lastName"] = "Tester", ["company"] = first + " Ltd" };

    [Fact]
    public async Task A_scoring_event_leaves_only_the_latest_snapshot_row_and_deletes_no_row()
    {
        // Arrange
        var lists = new ListsHarness(azurite);
        const string email = "snapshot@example.com";
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Ann")), CancellationToken.None);
        lists.Processors.Counter.Reset();

        // Act
        for (var i = 0; i < 5; i++)
            await lists.Processor.ProcessAsync(Events.PageView(lists.Now, $"https://example.com/blog/{i}", email), CancellationToken.None);

        // Assert: no delete request at all, one work row, holding the last event's work, and the index follows the score.
        Assert.Equal(0, lists.Processors.Counter.ByKind.GetValueOrDefault("table delete"));
        var row = Assert.Single(lists.Processors.WorkRows(email));
        Assert.Equal(LeadProjectionWorkRows.LatestSnapshot, row.RowKey);
        Assert.Equal(6, row.GetInt32(nameof(ProjectionWorkEntity.EventCount)));
        Assert.Equal(LeadScore(lists, email), Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items).Score, 3);
    }

    [Fact]
    public async Task A_crash_between_the_commit_and_the_index_for_a_scoring_event_is_finished_by_the_redelivery()
    {
        // Arrange: the index's storage fails for the page view's work, as a worker dying right after the commit would leave it.
        var lists = new ListsHarness(azurite, inner => new FailsOnceFor(inner, w => w.Before is not null));
        const string email = "snapshot-crash@example.com";
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Bea")), CancellationToken.None);
        var before = Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items).Score;
        var view = Events.PageView(lists.Now, "https://example.com/blog/1", email);
        await Assert.ThrowsAsync<InvalidOperationException>(() => lists.Processor.ProcessAsync(view, CancellationToken.None));
        Assert.Equal(before, Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items).Score);

        // Act: the queue delivers the message again, to another instance.
        var result = await lists.Processors.New().ProcessAsync(view, CancellationToken.None);

        // Assert
        Assert.Equal(LeadEventOutcome.AlreadyApplied, result.Outcome);
        Assert.Equal(["stage|Lead", "stage|Lead"], lists.IndexRowsOf(email).Select(r => r.Partition));
        Assert.Equal(LeadScore(lists, email), Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items).Score, 3);
        Assert.True(LeadScore(lists, email) > before);
        Assert.Equal([LeadProjectionWorkRows.LatestSnapshot], lists.Processors.WorkRows(email).Select(r => r.RowKey));
    }

    [Fact]
    public async Task A_lost_scoring_work_replaced_by_a_later_one_leaves_the_index_at_the_later_one_even_after_its_redelivery()
    {
        // Arrange: the first page view's index work fails (its row stays), the second one's runs and replaces that row.
        var lists = new ListsHarness(azurite, inner => new FailsOnceFor(inner, w => w.Before is not null));
        const string email = "snapshot-lost@example.com";
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Cleo")), CancellationToken.None);
        var first = Events.PageView(lists.Now, "https://example.com/blog/1", email);
        await Assert.ThrowsAsync<InvalidOperationException>(() => lists.Processor.ProcessAsync(first, CancellationToken.None));
        lists.Processors.Time.Advance(TimeSpan.FromMinutes(10));
        await lists.Processors.New().ProcessAsync(Events.PageView(lists.Now, "https://example.com/blog/2", email), CancellationToken.None);
        var row = Assert.Single(lists.Processors.WorkRows(email));
        Assert.Equal(3, row.GetInt32(nameof(ProjectionWorkEntity.EventCount)));

        // Act: the first message comes back.
        await lists.Processors.New().ProcessAsync(first, CancellationToken.None);

        // Assert: the lead's score now, in both of its rows; the older work never came back.
        var item = Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items);
        Assert.Equal(LeadScore(lists, email), item.Score, 3);
        Assert.Equal(lists.Now, item.UpdatedAt);
        Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead", Sort: "score"))).Items);
        Assert.Equal(2, lists.IndexRowsOf(email).Count);
        Assert.Equal(3, Assert.Single(lists.Processors.WorkRows(email)).GetInt32(nameof(ProjectionWorkEntity.EventCount)));
    }

    [Fact]
    public async Task A_pending_stage_change_redelivered_after_a_later_scoring_work_ran_leaves_no_rows_in_the_stage_it_left()
    {
        // Arrange: a Lead; the demo request (Lead -> SQL) commits but its index work fails; a page view in SQL then runs fine.
        var lists = new ListsHarness(azurite, inner => new FailsOnceFor(inner, w => w.Transitions.Count > 0 && w.Before is not null));
        const string email = "snapshot-moved@example.com";
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Dee")), CancellationToken.None);
        lists.Processors.Time.Advance(TimeSpan.FromHours(1));
        var demo = Events.Form(email, lists.Now, FormIntent.DemoRequest);
        await Assert.ThrowsAsync<InvalidOperationException>(() => lists.Processor.ProcessAsync(demo, CancellationToken.None));
        lists.Processors.Time.Advance(TimeSpan.FromMinutes(5));
        await lists.Processor.ProcessAsync(Events.PageView(lists.Now, "https://example.com/blog/1", email), CancellationToken.None);
        Assert.Equal(2, lists.Processors.WorkRows(email).Count);

        // Act: the demo request's message comes back.
        await lists.Processors.New().ProcessAsync(demo, CancellationToken.None);

        // Assert: only the SQL partition holds the lead, at its score now; the stage change's own row is gone, the snapshot stays.
        Assert.Equal(["stage|SQL", "stage|SQL"], lists.IndexRowsOf(email).Select(r => r.Partition));
        Assert.Empty((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items);
        Assert.Equal(LeadScore(lists, email), Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "SQL"))).Items).Score, 3);
        Assert.Equal([LeadProjectionWorkRows.LatestSnapshot], lists.Processors.WorkRows(email).Select(r => r.RowKey));
    }

    [Fact]
    public async Task Works_that_change_the_stage_or_the_partitions_keep_rows_of_their_own_and_delete_them()
    {
        // Arrange
        var lists = new ListsHarness(azurite);
        const string email = "snapshot-own@example.com";
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Eve")), CancellationToken.None);
        Assert.Empty(lists.Processors.WorkRows(email));
        lists.Processors.Counter.Reset();

        // Act: a stage change (Lead -> SQL).
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.DemoRequest), CancellationToken.None);

        // Assert: its row was deleted (one delete request) and no snapshot row was written.
        Assert.Equal(1, lists.Processors.Counter.ByKind.GetValueOrDefault("table delete"));
        Assert.Empty(lists.Processors.WorkRows(email));
    }

    [Fact]
    public void Only_a_work_without_transitions_that_keeps_the_partitions_of_an_existing_lead_is_snapshot_only()
    {
        var t = DateTimeOffset.Parse("2026-11-02T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var lead = LeadIndexTests.Snapshot(Domain.Leads.LifecycleStage.Lead, t, 15, t, eventCount: 1);
        var scored = lead with { EngagementValue = 18, EventCount = 2 };
        var owned = scored with { Owner = "rep@example.com" };
        var otherOwner = owned with { Owner = "other@example.com", EventCount = 3 };
        var sameOwnerSpelledOtherwise = owned with { Owner = " REP@example.com ", EventCount = 3 };
        var transition = new ProjectedTransition(0, t, Domain.Leads.LifecycleStage.Lead, t, Domain.Leads.LifecycleStage.Mql, "rule", false);

        Assert.True(LeadProjectionWorkRows.IsSnapshotOnly(Work(lead, scored)));
        Assert.True(LeadProjectionWorkRows.IsSnapshotOnly(Work(owned, sameOwnerSpelledOtherwise)));
        Assert.False(LeadProjectionWorkRows.IsSnapshotOnly(Work(null, lead)));
        Assert.False(LeadProjectionWorkRows.IsSnapshotOnly(Work(lead, scored, transition)));
        Assert.False(LeadProjectionWorkRows.IsSnapshotOnly(Work(scored, owned)));
        Assert.False(LeadProjectionWorkRows.IsSnapshotOnly(Work(owned, otherOwner)));
        Assert.False(LeadProjectionWorkRows.IsSnapshotOnly(Work(lead, lead with { Stage = Domain.Leads.LifecycleStage.Mql })));

        static LeadProjectionWork Work(LeadSnapshot? before, LeadSnapshot after, params ProjectedTransition[] transitions) =>
            new("lead-x", "e", after.UpdatedAt, before, after, transitions);
    }

    [Fact]
    public async Task However_many_scoring_events_a_lead_gets_its_snapshot_row_stays_one_row_far_below_the_property_limit()
    {
        // Arrange: a profile whose name and company are as long as a form could ever send.
        var lists = new ListsHarness(azurite);
        const string email = "snapshot-bound@example.com";
        var huge = new string('N', 5_000);
        await lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload,
            profile: new() { ["firstName"] = huge, ["lastName"] = huge, ["company"] = huge }), CancellationToken.None);

        // Act
        for (var i = 0; i < 30; i++)
            await lists.Processor.ProcessAsync(Events.PageView(lists.Now, $"https://example.com/blog/{i}", email), CancellationToken.None);

        // Assert: one row, its work text cut (name, company at most MaxTextLength each, twice: before and after).
        var row = Assert.Single(lists.Processors.WorkRows(email));
        Assert.Equal(LeadProjectionWorkRows.LatestSnapshot, row.RowKey);
        Assert.True(row.GetString(nameof(ProjectionWorkEntity.WorkJson)).Length < 8 * LeadProjectionWorkRows.MaxTextLength + 1024,
            $"the snapshot row holds {row.GetString(nameof(ProjectionWorkEntity.WorkJson)).Length} characters");
    }

    [Fact]
    public async Task A_lead_this_instance_remembers_is_scored_with_one_transaction_and_the_index_one_and_the_index_is_right()
    {
        // Arrange: the remembered-lead path (no lead read, the ETag of the last commit).
        var lists = new ListsHarness(azurite);
        const string email = "snapshot-cached@example.com";
        var processor = lists.Processors.New(ProcessorFactory.Cache());
        await processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload, profile: Profile("Fay")), CancellationToken.None);
        lists.Processors.Counter.Reset();

        // Act
        for (var i = 0; i < 10; i++)
            await processor.ProcessAsync(Events.PageView(lists.Now, $"https://example.com/blog/{i}", email), CancellationToken.None);

        // Assert: two transactions per event (the lead's with the snapshot upsert, the index's), nothing else.
        Assert.Equal((0L, 20L, 0L), (lists.Processors.Counter.Reads, lists.Processors.Counter.Batches, lists.Processors.Counter.Others));
        Assert.Equal(LeadScore(lists, email), Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items).Score, 3);
        Assert.Equal(11, Assert.Single(lists.Processors.WorkRows(email)).GetInt32(nameof(ProjectionWorkEntity.EventCount)));
    }

    /// <summary>The lead's engagement now, from its stored row, decayed as a list item shows it.</summary>
    private static double LeadScore(ListsHarness lists, string email)
    {
        var lead = lists.Processors.Table.Client.GetEntity<LeadEntity>(ScoringHarness.LeadIdOf(email), LeadRows.Lead).Value;
        return lead.EngagementValue * Math.Pow(2, -(lists.Now - lead.EngagementAnchor).TotalSeconds / lead.HalfLifeSeconds);
    }
}

/// <summary>Fails the first work that matches, before running the real projection, as a worker dying after the commit would.</summary>
internal sealed class FailsOnceFor(ILeadProjection inner, Func<LeadProjectionWork, bool> matches) : ILeadProjection
{
    private int _failed;

    public Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken) =>
        matches(work) && Interlocked.Exchange(ref _failed, 1) == 0
            ? throw new InvalidOperationException("index storage unavailable")
            : inner.ProjectAsync(work, cancellationToken);
}
