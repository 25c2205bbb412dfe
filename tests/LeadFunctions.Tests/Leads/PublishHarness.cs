using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Scoring;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Leads;

/// <summary>
/// Scoring as the app wires it (AddLeadStorage + AddLeadScoring, which brings publishing) over fresh tables and a fresh queue in
/// Azurite, the shipped forms and content catalogue for the cross-file check, a model file of its own and a fake clock; the
/// publish and re-score functions are called in-process as a signed-in person.
/// </summary>
internal sealed class PublishHarness : IAsyncDisposable
{
    /// <summary>The model file: page views 3 points; executives fit B; MQL at 50 with C, SQL at 100 with B.</summary>
    public const string BaselineJson = """
        {
          "version": "pub-1",
          "decay": { "halfLifeDays": 30 },
          "engagementRules": [
            { "id": "page-view", "points": 3, "match": { "eventType": "page-view" } },
            { "id": "demo", "points": 60, "match": { "formIntent": "demo-request" } }
          ],
          "fitRules": [ { "id": "executive", "field": "role", "equals": "executive", "points": 50 } ],
          "grades": { "A": 70, "B": 45, "C": 20, "D": 0 },
          "qualification": { "mql": { "minEngagement": 50, "minGrade": "C" }, "sql": { "minEngagement": 100, "minGrade": "B" } }
        }
        """;

    private readonly IHost _host;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lf-publish-" + Guid.NewGuid().ToString("N"));

    public PublishHarness(AzuriteFixture azurite)
    {
        Directory.CreateDirectory(_root);
        var modelFile = Path.Combine(_root, "scoring-model.json");
        File.WriteAllText(modelFile, BaselineJson);

        Queue = azurite.Queue(AzuriteFixture.UniqueName("pevents"));
        Queue.CreateIfNotExists();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageOptions.ConnectionName] = azurite.ConnectionString,
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["ScoringPublish:ModelsTable"] = AzuriteFixture.UniqueName("models"),
            ["ScoringPublish:RefreshSeconds"] = "30",
            ["ScoringPublish:RescorePageSize"] = "2",
            ["ScoringPublish:RescorePagesPerRun"] = "1",
            ["Scoring:ModelPath"] = modelFile,
            [TestLeadIds.Setting] = TestLeadIds.Key,
        });
        builder.Services.AddSingleton<TimeProvider>(Time);
        builder.Services.AddSingleton(new LeadEventsQueue(Queue));
        var config = Path.Combine(AppContext.BaseDirectory, "config");
        builder.Services.AddSingleton(FormCatalog.Load(Path.Combine(config, "forms.json")));
        builder.Services.AddSingleton(ContentCatalogue.Load(Path.Combine(config, "content.json")));
        builder.Services.AddLeadStorage();
        builder.Services.AddLeadScoring();
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
    public QueueClient Queue { get; }
    public IServiceProvider Services => _host.Services;

    public LeadEventProcessor Processor => Services.GetRequiredService<LeadEventProcessor>();
    public ScoringRescoreRunner Runner => Services.GetRequiredService<ScoringRescoreRunner>();
    public ILeadDetailReader Details => Services.GetRequiredService<ILeadDetailReader>();
    public TableClient Leads => Services.GetRequiredService<LeadsTable>().Client;
    public TableClient Models => Services.GetRequiredService<ScoringModelsTable>().Client;

    public PublishScoringModel Publish => ActivatorUtilities.CreateInstance<PublishScoringModel>(Services, SignedIn.Access);
    public ListScoringModels List => ActivatorUtilities.CreateInstance<ListScoringModels>(Services, SignedIn.Access);
    public StartScoringRescore StartRescore => ActivatorUtilities.CreateInstance<StartScoringRescore>(Services, SignedIn.Access);
    public GetScoringRescore Progress => ActivatorUtilities.CreateInstance<GetScoringRescore>(Services, SignedIn.Access);

    /// <summary>The baseline with other points for page views, as a new version.</summary>
    public static string Variant(string version, int pageViewPoints) =>
        BaselineJson.Replace("\"pub-1\"", $"\"{version}\"", StringComparison.Ordinal)
            .Replace("\"points\": 3,", $"\"points\": {pageViewPoints},", StringComparison.Ordinal);

    public static string PublishBody(string modelJson, string reason = "page views matter more", bool rescore = false, string? expected = null) =>
        $$"""{ "model": {{modelJson}}, "reason": {{System.Text.Json.JsonSerializer.Serialize(reason)}}, "rescore": {{(rescore ? "true" : "false")}}{{(expected is null ? "" : $", \"expectedActiveVersion\": \"{expected}\"")}} }""";

    /// <summary>Publishes as a signed-in admin (Dana, from <see cref="Workspace.Principals"/>); the unwrapped answer.</summary>
    public async Task<IActionResult> PublishAsync(string body, params string[] roles) =>
        SignedIn.Unwrap(await Publish.Run(SignedIn.As(Post(body), roles), CancellationToken.None));

    /// <summary>A lead made of one form (an executive, fit B) and <paramref name="pageViews"/> page views, through the processor.</summary>
    public async Task<string> ALeadAsync(string email, int pageViews)
    {
        var at = Time.GetUtcNow();
        await Processor.ProcessAsync(new LeadEvent
        {
            EventId = "form-" + Guid.NewGuid().ToString("N"),
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = at,
            Email = email,
            FormId = "whitepaper-lead-scoring",
            Intent = FormIntent.ContentDownload,
            Profile = new Dictionary<string, string> { ["role"] = "executive" },
        }, CancellationToken.None);
        for (var i = 0; i < pageViews; i++)
            await Processor.ProcessAsync(Events.PageView(at, "https://www.example.com/blog/" + i, email), CancellationToken.None);
        return TestLeadIds.LeadIdFor(email);
    }

    /// <summary>Applies every queued message through the processor, as the queue trigger does; returns how many.</summary>
    public async Task<int> DrainAsync()
    {
        var applied = 0;
        while (true)
        {
            var messages = (await Queue.ReceiveMessagesAsync(32)).Value;
            if (messages.Length == 0)
                return applied;
            foreach (var message in messages)
            {
                await Processor.ProcessMessageAsync(message.Body.ToString(), CancellationToken.None);
                await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                applied++;
            }
        }
    }

    public async Task<LeadDetailPage> LeadAsync(string leadId) =>
        (await Details.FindPageAsync(leadId, new LeadDetailQuery(LeadDetailQuery.MaxLimit, LeadDetailQuery.MaxLimit, null, null), CancellationToken.None)).Page!;

    /// <summary>The lead's ledger rows written by re-scores.</summary>
    public List<TableEntity> RescoreRows(string leadId) =>
        [.. Leads.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {"s|"} and RowKey lt {"s}"}"))
            .Where(r => r.GetString("RuleId") == Domain.Scoring.LeadRescore.LedgerRule)];

    public static HttpRequest Post(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        return context.Request;
    }

    public static HttpRequest Get()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        return context.Request;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        ScratchFolder.Delete(_root);
    }
}
