using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Tests.Capture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Leads;

/// <summary>
/// The open-internet path end to end: the real capture functions (shipped forms file) take HTTP posts and enqueue them on
/// an Azurite queue, and a queue-trigger stand-in runs the rescoring function over them, several at a time, retrying a
/// failing message and moving it to <c>&lt;queue&gt;-poison</c> after host.json's <c>maxDequeueCount</c>, as the host does.
/// </summary>
internal sealed class CapturePipeline : IAsyncDisposable
{
    private readonly Func<QueueMessage, Task> _rescore;
    private readonly int _maxDequeueCount = QueueTriggerSimulator.MaxDequeueCountFromHostJson();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _errors = new();
    private int _failures;
    private int _processed;

    private CapturePipeline(CaptureHarness app, QueueClient poison, Func<QueueMessage, Task> rescore)
    {
        App = app;
        Poison = poison;
        _rescore = rescore;
        CaptureTime = (FakeTimeProvider)app.Services.GetRequiredService<TimeProvider>();
    }

    public CaptureHarness App { get; }
    public QueueClient Poison { get; }

    /// <summary>The capture functions' clock; every post moves it on a second, as real traffic would.</summary>
    public FakeTimeProvider CaptureTime { get; }

    /// <summary>Deliveries that threw (each is retried, then poisoned).</summary>
    public int Failures => Volatile.Read(ref _failures);
    public int Processed => Volatile.Read(ref _processed);

    /// <summary>The first errors the function threw, for the test output.</summary>
    public IEnumerable<string> Errors => _errors.Take(5);

    /// <param name="rescore">What the queue trigger runs for a message (the RescoreLead function).</param>
    /// <param name="now">Where the capture clock starts (not before <see cref="CaptureHarness.Now"/>).</param>
    public static async Task<CapturePipeline> StartAsync(AzuriteFixture azurite, Func<QueueMessage, Task> rescore, DateTimeOffset now)
    {
        // The in-process limits are off: what is tested is what storage holds when a distributed attacker stays under them.
        var app = await CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["RateLimit:Enabled"] = "false" });
        var poison = azurite.Queue(app.Queue.Name + "-poison");
        await poison.CreateIfNotExistsAsync();
        var pipeline = new CapturePipeline(app, poison, rescore);
        if (now > pipeline.CaptureTime.GetUtcNow())
            pipeline.CaptureTime.SetUtcNow(now);
        return pipeline;
    }

    /// <summary>Posts a form as a JSON client; returns the submission id (the event id) of the accepted post.</summary>
    public async Task<string> PostFormAsync(string formId, IDictionary<string, string> fields)
    {
        CaptureTime.Advance(TimeSpan.FromSeconds(1));
        var response = await App.PostFormAsync(formId, App.Json($"/api/forms/{formId}", JsonSerializer.Serialize(fields)));
        if (response.Status != 202)
            throw new InvalidOperationException($"The {formId} form answered {response.Status}: {response.Body}");
        return response.JsonBody().GetProperty("submissionId").GetString()!;
    }

    /// <summary>Posts tracked activity to <c>/api/events</c>; returns the submission id.</summary>
    public async Task<string> PostEventAsync(IDictionary<string, string> fields)
    {
        CaptureTime.Advance(TimeSpan.FromSeconds(1));
        var response = await App.PostEventAsync(App.Json("/api/events", JsonSerializer.Serialize(fields)));
        if (response.Status != 202)
            throw new InvalidOperationException($"/api/events answered {response.Status}: {response.Body}");
        return response.JsonBody().GetProperty("submissionId").GetString()!;
    }

    public Task<string> PageViewAsync(string visitorId, string url) =>
        PostEventAsync(new Dictionary<string, string> { ["type"] = "page-view", ["visitorId"] = visitorId, ["url"] = url });

    /// <summary>Processes until the queue is empty.</summary>
    public Task DrainAsync(int parallelism = 8) => ProcessUntilAsync(Task.CompletedTask, parallelism);

    /// <summary>
    /// Processes concurrently with <paramref name="posting"/>, until it has finished and the queue is empty, keeping up to
    /// <paramref name="parallelism"/> messages in flight (as the host's batch size does), so a message waiting for its lead
    /// never holds up the others.
    /// </summary>
    public async Task ProcessUntilAsync(Task posting, int parallelism = 8)
    {
        var running = new List<Task>();
        while (true)
        {
            foreach (var done in running.Where(t => t.IsCompleted).ToList())
            {
                await done; // a stand-in failure (not the function's) fails the test
                running.Remove(done);
            }
            var free = parallelism - running.Count;
            if (free == 0)
            {
                await Task.WhenAny(running);
                continue;
            }
            var postingDone = posting.IsCompleted;
            var received = (await App.Queue.ReceiveMessagesAsync(Math.Min(32, free), TimeSpan.FromMinutes(5))).Value;
            if (received.Length == 0)
            {
                if (postingDone && running.Count == 0)
                {
                    await posting;
                    return;
                }
                await Task.WhenAny(running.Append(Task.Delay(20)));
                continue;
            }
            running.AddRange(received.Select(message => Task.Run(() => HandleAsync(message))));
        }
    }

    private async Task HandleAsync(QueueMessage message)
    {
        try
        {
            await _rescore(message);
        }
#pragma warning disable CA1031 // The host catches everything a function throws, and so must its stand-in.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _failures);
            if (_errors.Count < 5)
                _errors.Enqueue(ex.GetType().Name + ": " + ex.Message);
            if (message.DequeueCount >= _maxDequeueCount)
            {
                await Poison.SendMessageAsync(message.Body);
                await DeleteAsync(message);
            }
            else
            {
                await App.Queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero);
            }
            return;
        }
        await DeleteAsync(message);
        Interlocked.Increment(ref _processed);
    }

    private async Task DeleteAsync(QueueMessage message)
    {
        try
        {
            await App.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // A delete the client retried after the first attempt had succeeded (a slow emulator): already gone.
        }
    }

    public async Task<int> PoisonedAsync() => (int)(await Poison.GetPropertiesAsync()).Value.ApproximateMessagesCount;

    /// <summary>Pending anonymous-event rows kept under a visitor (of either layout).</summary>
    public static List<TableEntity> PendingRows(TableClient table, string visitorId)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TestLeadIds.Identity.VisitorKeyFor(visitorId)} and RowKey ge {"e|"} and RowKey lt {"p}"}");
        return table.Query<TableEntity>(filter).ToList();
    }

    public static TableEntity? VisitorRow(TableClient table, string visitorId)
    {
        var response = table.GetEntityIfExists<TableEntity>(TestLeadIds.Identity.VisitorKeyFor(visitorId), "!visitor");
        return response.HasValue ? response.Value : null;
    }

    public static string NewVisitorId() => "v" + Guid.NewGuid().ToString("N");

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
