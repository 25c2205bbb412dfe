using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LeadFunctions.Tests.Lists;

/// <summary>
/// An erasure racing the lead-index projection: the processor has committed an event, the erasure runs, and the projection of
/// that event (in flight, or run later) must not write the person back into the lists. Real processor, eraser and index in Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadIndexErasureTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_work_projected_after_the_erasure_writes_no_index_row()
    {
        // Arrange: a listed lead, and the work of an event committed just before its erasure (to SQL, owned by a rep).
        await using var scene = await Scene.StartAsync(azurite);
        await scene.EraseAsync();

        // Act: works run after the erasure: in the lead's partition by the instance that remembers its anchor there, and into
        // new partitions (SQL, a rep's) by another instance.
        await scene.Projection.ProjectAsync(scene.LateWork("e-late-1", LifecycleStage.Lead), CancellationToken.None);
        await scene.NewProjection().ProjectAsync(scene.LateWork("e-late-2"), CancellationToken.None);

        // Assert
        Assert.Empty(scene.IndexRows());
        Assert.Empty(await scene.ListedAsync());
    }

    [Theory]
    [InlineData("update of the lead's anchor")]
    [InlineData("insert into a partition new to the lead")]
    [InlineData("insert of a new lead's first anchor")]
    public async Task A_work_in_flight_when_the_erasure_runs_writes_nothing(string write)
    {
        // Arrange: the projection reads the anchor (or, for a new lead, assumes there is none), then the erasure runs, then the
        // projection sends its transaction (ETag-checked update, or insert).
        await using var scene = await Scene.StartAsync(azurite);
        var erased = false;
        var projection = scene.NewProjection(new BeforeFirstTransaction(async () =>
        {
            await scene.EraseAsync();
            erased = true;
        }));
        var work = write switch
        {
            "update of the lead's anchor" => scene.LateWork("e-in-flight", LifecycleStage.Lead),
            "insert into a partition new to the lead" => scene.LateWork("e-in-flight"),
            _ => scene.LateWork("e-in-flight") with { Before = null },
        };

        // Act
        await projection.ProjectAsync(work, CancellationToken.None);

        // Assert
        Assert.True(erased);
        Assert.Empty(scene.IndexRows());
        Assert.Empty(await scene.ListedAsync());
    }

    [Fact]
    public async Task A_lead_created_again_by_a_fresh_form_after_the_erasure_is_listed_again_and_old_work_still_writes_nothing()
    {
        // Arrange
        await using var scene = await Scene.StartAsync(azurite);
        var late = scene.LateWork("e-late");
        await scene.EraseAsync();
        scene.Harness.Time.Advance(TimeSpan.FromHours(2));

        // Act: the person comes back through a demo form (SQL at once), then the erased person's late work arrives.
        var fresh = Events.Form(Scene.Email, scene.Harness.Time.GetUtcNow(), FormIntent.DemoRequest, profile: Profile("Bea"));
        Assert.Equal(LeadEventOutcome.Applied, (await scene.Processor.ProcessAsync(fresh, CancellationToken.None)).Outcome);
        await scene.NewProjection().ProjectAsync(late, CancellationToken.None);

        // Assert: listed as the new lead, with the new name, and nowhere else.
        var item = Assert.Single(await scene.ListedAsync());
        Assert.Equal(LifecycleStage.Sql, item.Stage);
        Assert.Equal("Bea Tester", item.Name);
        Assert.Equal(["stage|SQL", "stage|SQL"], scene.IndexRows().Select(r => r.PartitionKey));
    }

    [Fact]
    public async Task Erasure_markers_are_deleted_after_their_lifetime_and_a_lead_created_again_keeps_its_anchor()
    {
        // Arrange: an erasure marks every stage partition; the person comes back within the day (SQL replaces its marker).
        await using var scene = await Scene.StartAsync(azurite);
        await scene.EraseAsync();
        var maintenance = scene.Harness.Services.GetRequiredService<LeadIndexMaintenance>();
        var stages = Enum.GetValues<LifecycleStage>().Length;
        Assert.Equal(stages, scene.Markers().Count);
        Assert.Equal(new LeadIndexCleanupResult(0, 0, false), await maintenance.PruneAsync(CancellationToken.None));
        scene.Harness.Time.Advance(TimeSpan.FromHours(1));
        await scene.Processor.ProcessAsync(Events.Form(Scene.Email, scene.Harness.Time.GetUtcNow(), FormIntent.DemoRequest, profile: Profile("Bea")), CancellationToken.None);

        // Act: a day later, with a budget smaller than the records, twice.
        scene.Harness.Time.Advance(LeadIndexErasureGuard.MarkerLifetime);
        var first = await maintenance.PruneAsync(budget: 4, CancellationToken.None);
        var second = await maintenance.PruneAsync(budget: 4, CancellationToken.None);
        var third = await maintenance.PruneAsync(CancellationToken.None);

        // Assert: every marker but the replaced one is gone, with every record; the new lead is still listed.
        Assert.True(first.More);
        Assert.Equal(stages, first.RecordsDeleted + second.RecordsDeleted);
        Assert.Equal(stages - 1, first.MarkersDeleted + second.MarkersDeleted);
        Assert.Equal(new LeadIndexCleanupResult(0, 0, false), third);
        Assert.Empty(scene.Markers());
        Assert.Empty(scene.Index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {LeadIndexErasureGuard.RecordPartition}")));
        Assert.Equal("Bea Tester", Assert.Single(await scene.ListedAsync()).Name);
    }

    [Fact]
    public async Task Lists_and_search_never_show_an_erased_lead_or_its_markers()
    {
        // Arrange
        await using var scene = await Scene.StartAsync(azurite);
        Assert.Single(await scene.ListedAsync());

        // Act
        await scene.EraseAsync();

        // Assert: the markers are there, and no list of any stage, sort or owner, nor the search, shows anything.
        Assert.NotEmpty(scene.Markers());
        Assert.Empty(await scene.ListedAsync());
        var lookup = ActivatorUtilities.CreateInstance<LeadLookup>(scene.Harness.Services);
        using var body = new MemoryStream(Encoding.UTF8.GetBytes($$"""{"email":"{{Scene.Email}}"}"""));
        Assert.Equal(LeadLookupStatus.NotFound, (await lookup.FindAsync(body, body.Length, CancellationToken.None)).Status);
    }

    private static Dictionary<string, string> Profile(string first) =>
        new() { ["firstName"] = first, ["lastName"] = "Tester", ["company"] = first + " Ltd" };

    /// <summary>A lead listed as a Lead through the real pipeline (processor, index projection, eraser) over fresh tables.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        public const string Email = "ada.erased@example.com";
        public const string Rep = "rep-1";

        private Scene(NurtureHarness harness, AzuriteFixture azurite)
        {
            Harness = harness;
            Azurite = azurite;
        }

        public NurtureHarness Harness { get; }
        public AzuriteFixture Azurite { get; }
        public string LeadId { get; } = ScoringHarness.LeadIdOf(Email);
        public DateTimeOffset CreatedAt { get; private set; }
        public LeadEventProcessor Processor => Harness.Services.GetRequiredService<LeadEventProcessor>();
        public LeadIndexProjection Projection => Harness.Services.GetServices<ILeadProjection>().OfType<LeadIndexProjection>().Single();
        public LeadIndexTable Index => Harness.Services.GetRequiredService<LeadIndexTable>();

        public static async Task<Scene> StartAsync(AzuriteFixture azurite)
        {
            var scene = new Scene(new NurtureHarness(azurite, realLeads: true), azurite);
            scene.CreatedAt = scene.Harness.Time.GetUtcNow();
            var form = Events.Form(Email, scene.CreatedAt, FormIntent.ContentDownload, profile: Profile("Ada"));
            Assert.Equal(LeadEventOutcome.Applied, (await scene.Processor.ProcessAsync(form, CancellationToken.None)).Outcome);
            Assert.NotEmpty(scene.IndexRows());
            scene.Harness.Time.Advance(TimeSpan.FromMinutes(5));
            return scene;
        }

        /// <summary>
        /// The work of the lead's second event, committed before the erasure: to SQL, owned by <see cref="Rep"/> (partitions the
        /// index has not seen the lead in), or more points as a Lead (the partition it has its anchor in).
        /// </summary>
        public LeadProjectionWork LateWork(string eventId, LifecycleStage to = LifecycleStage.Sql)
        {
            var halfLife = TimeSpan.FromDays(10).TotalSeconds;
            var before = new LeadSnapshot(LifecycleStage.Lead, CreatedAt, null, 15, CreatedAt, halfLife, "D", CreatedAt, CreatedAt, "Ada Tester", "Ada Ltd", 1);
            var at = CreatedAt.AddMinutes(4);
            var after = to == LifecycleStage.Lead
                ? before with { EngagementValue = 20, EngagementAnchor = at, UpdatedAt = at, EventCount = 2 }
                : new LeadSnapshot(to, at, Rep, 75, at, halfLife, "D", CreatedAt, at, "Ada Tester", "Ada Ltd", 2);
            return new LeadProjectionWork(LeadId, eventId, at, before, after, []);
        }

        public async Task EraseAsync() =>
            Assert.NotNull(await Harness.Services.GetRequiredService<ILeadEraser>().EraseAsync(LeadId, CancellationToken.None));

        /// <summary>Another instance's projection over the same index, optionally through a policy on its requests.</summary>
        public LeadIndexProjection NewProjection(HttpPipelinePolicy? policy = null)
        {
            var options = new TableClientOptions();
            if (policy is not null)
                options.AddPolicy(policy, HttpPipelinePosition.PerCall);
            var client = new TableClient(Azurite.ConnectionString, Index.Client.Name, options);
            return new LeadIndexProjection(new LeadIndexTable(client), NullLogger<LeadIndexProjection>.Instance);
        }

        /// <summary>The lead's list rows (what names the person), not anchors, markers or their records.</summary>
        public List<TableEntity> IndexRows() =>
        [
            .. Index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"LeadId eq {LeadId}"))
                .Where(r => r.PartitionKey != LeadIndexErasureGuard.RecordPartition && !r.RowKey.StartsWith("l|", StringComparison.Ordinal)),
        ];

        public List<TableEntity> Markers() =>
            [.. Index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"LeadId eq {LeadId}")).Where(r => r.PartitionKey != LeadIndexErasureGuard.RecordPartition && LeadIndexErasureGuard.IsErasureRow(r))];

        /// <summary>Every item of every stage's list, both sorts, everyone's and the rep's.</summary>
        public async Task<List<LeadListItem>> ListedAsync()
        {
            var lists = Harness.Services.GetRequiredService<LeadListService>();
            var items = new List<LeadListItem>();
            foreach (var stage in Enum.GetValues<LifecycleStage>())
            {
                foreach (var sort in new[] { "newest", "score" })
                {
                    foreach (var owner in new[] { null, Rep })
                    {
                        var page = (await lists.ListAsync(new LeadListRequest(Stage: LeadListService.Name(stage), Owner: owner, Sort: sort, Limit: "100"), CancellationToken.None)).Page!;
                        if (sort == "newest" && owner is null)
                            items.AddRange(page.Items);
                        else
                            Assert.All(page.Items, i => Assert.Contains(items, seen => seen.LeadId == i.LeadId));
                    }
                }
            }
            return items;
        }

        public ValueTask DisposeAsync() => Harness.DisposeAsync();
    }

    /// <summary>Runs an action just before the first entity-group transaction goes out: the moment between a projection's read and its write.</summary>
    private sealed class BeforeFirstTransaction(Func<Task> action) : HttpPipelinePolicy
    {
        private int _fired;

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _fired, 1) == 0)
                await action();
            await ProcessNextAsync(message, pipeline);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The projection is asynchronous.");
    }
}
