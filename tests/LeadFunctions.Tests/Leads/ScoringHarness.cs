using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Leads;

/// <summary>The real processor, directory and replayer over a fresh table (and queues) in Azurite.</summary>
internal sealed class ScoringHarness
{
    public const string ModelJson = """
        {
          "version": "it-1",
          "decay": { "halfLifeDays": 10 },
          "engagementRules": [
            { "id": "demo", "points": 60, "match": { "formIntent": "demo-request" } },
            { "id": "download-form", "points": 15, "match": { "formIntent": "content-download" } },
            { "id": "page-view", "points": 3, "match": { "eventType": "page-view" } },
            { "id": "pricing", "points": 10, "match": { "eventType": "page-view", "url": "*/pricing*" }, "cap": { "count": 1, "per": "day" } },
            { "id": "bottom-download", "points": 30, "match": { "eventType": "content-download", "funnelStage": "bottom" } }
          ],
          "fitRules": [ { "id": "cto", "field": "role", "equals": "CTO", "points": 50 } ],
          "grades": { "A": 70, "B": 45, "C": 20, "D": 0 },
          "qualification": { "mql": { "minEngagement": 50, "minGrade": "C" }, "sql": { "minEngagement": 100, "minGrade": "B" } }
        }
        """;

    public ScoringHarness(AzuriteFixture azurite, params IStageChangeObserver[] observers)
        : this(azurite, ModelJson, observers)
    {
    }

    /// <param name="modelJson">The model to score with, e.g. <see cref="ShippedModelJson"/> where a test is about the shipped points.</param>
    public ScoringHarness(AzuriteFixture azurite, string modelJson, params IStageChangeObserver[] observers)
    {
        var tableName = AzuriteFixture.UniqueName("leads");
        var tableService = azurite.TableService();
        tableService.CreateTableIfNotExists(tableName);
        Table = new LeadsTable(tableService.GetTableClient(tableName));

        var queueName = AzuriteFixture.UniqueName("events");
        Queue = azurite.Queue(queueName);
        Queue.CreateIfNotExists();
        Poison = azurite.Queue(queueName + "-poison");
        Poison.CreateIfNotExists();
        var queueService = new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

        Model = ScoringModelLoader.Load(modelJson);
        _observers = observers;
        Processor = NewProcessor();
        Directory = new TableLeadDirectory(Table, Model, Time);
        Replayer = new PoisonQueueReplayer(queueService, new LeadEventsQueue(Queue), NullLogger<PoisonQueueReplayer>.Instance);
        Function = new Scoring.RescoreLead(Processor, NullLogger<Scoring.RescoreLead>.Instance);
    }

    private readonly IStageChangeObserver[] _observers;

    /// <summary>A processor as another worker instance would have: same table, its own in-process state.</summary>
    public LeadEventProcessor NewProcessor() =>
        new(Table, new ScoringEngine(Model), _observers, TestLeadIds.Identity, Time, Options.Create(new ScoringOptions()), NullLogger<LeadEventProcessor>.Instance);

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    public LeadsTable Table { get; }
    public QueueClient Queue { get; }
    public QueueClient Poison { get; }
    public ScoringModel Model { get; }
    public LeadEventProcessor Processor { get; }
    public TableLeadDirectory Directory { get; }
    public PoisonQueueReplayer Replayer { get; }
    public Scoring.RescoreLead Function { get; }

    public static string LeadIdOf(string email) => TestLeadIds.LeadIdFor(email);

    /// <summary>The scoring model the app ships (the build copies <c>config/</c> next to the tests).</summary>
    public static string ShippedModelJson() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "scoring-model.json"));

    /// <summary>Applies events in the order given, as the queue trigger would.</summary>
    public async Task ProcessAsync(IEnumerable<LeadEvent> events)
    {
        foreach (var e in events)
            await Processor.ProcessAsync(e, CancellationToken.None);
    }

    public async Task<LeadDetails> LeadAsync(string email) =>
        await Directory.FindAsync(LeadIdOf(email), CancellationToken.None) ?? throw new InvalidOperationException("No such lead.");

    /// <summary>How many applied-event rows the lead's partition holds.</summary>
    public int AppliedEventRows(string email)
    {
        var filter = Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {LeadIdOf(email)} and RowKey ge {"e|"} and RowKey lt {"e}"}");
        return Table.Client.Query<Azure.Data.Tables.TableEntity>(filter).Count();
    }

    /// <summary>A queue message as the trigger hands it over, with the given delivery count.</summary>
    public static QueueMessage Message(string text, long dequeueCount = 1, string id = "msg-1") =>
        QueuesModelFactory.QueueMessage(id, "pop", BinaryData.FromString(text), dequeueCount);
}

/// <summary>Test events for one lead or visitor.</summary>
internal static class Events
{
    private static int _sequence;

    public static string NewId() => "it-" + Interlocked.Increment(ref _sequence).ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];

    public static LeadEvent Form(string email, DateTimeOffset at, FormIntent? intent = null, string? visitorId = null, Dictionary<string, string>? profile = null) => new()
    {
        EventId = NewId(),
        Type = LeadEventTypes.FormSubmission,
        OccurredAt = at,
        Email = email,
        VisitorId = visitorId,
        Intent = intent,
        FormId = "form",
        Profile = profile ?? [],
    };

    public static LeadEvent PageView(DateTimeOffset at, string url, string? email = null, string? visitorId = null) => new()
    {
        EventId = NewId(),
        Type = LeadEventTypes.PageView,
        OccurredAt = at,
        Email = email,
        VisitorId = visitorId,
        Properties = new Dictionary<string, string> { [LeadEventProperties.Url] = url },
    };

    public static LeadEvent Download(string email, DateTimeOffset at) => new()
    {
        EventId = NewId(),
        Type = LeadEventTypes.ContentDownload,
        OccurredAt = at,
        Email = email,
        Properties = new Dictionary<string, string> { [LeadEventProperties.FunnelStage] = "bottom" },
    };

    public static string Json(LeadEvent e) => LeadEventJson.Serialize(e);
}

/// <summary>
/// What the queue trigger does with a message, against a real Azurite queue: receive, run the function, delete on success;
/// on failure make the message visible again, and once it has been dequeued <c>maxDequeueCount</c> times (read from
/// host.json) move it to <c>&lt;queue&gt;-poison</c>, as the WebJobs queue processor does.
/// </summary>
internal static class QueueTriggerSimulator
{
    public static int MaxDequeueCountFromHostJson()
    {
        // The app's host.json, which the build copies next to the tests.
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")));
        return host.RootElement.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32();
    }

    /// <summary>Processes until the queue is empty; returns how many times the function ran.</summary>
    public static async Task<int> DrainAsync(QueueClient queue, QueueClient poison, Func<QueueMessage, Task> function)
    {
        var maxDequeueCount = MaxDequeueCountFromHostJson();
        var runs = 0;
        for (var guard = 0; guard < 1000; guard++)
        {
            var received = (await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value;
            if (received.Length == 0)
                return runs;
            var message = received[0];
            runs++;
            try
            {
                await function(message);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
#pragma warning disable CA1031 // The host catches everything a function throws, and so must its stand-in.
            catch (Exception)
#pragma warning restore CA1031
            {
                if (message.DequeueCount >= maxDequeueCount)
                {
                    await poison.SendMessageAsync(message.Body);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
                else
                {
                    await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero);
                }
            }
        }
        throw new InvalidOperationException("The queue did not drain.");
    }
}
