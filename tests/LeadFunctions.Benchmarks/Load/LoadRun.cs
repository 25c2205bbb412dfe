using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Benchmarks.Load;

/// <summary>
/// <c>load</c>: a bounded load run against a local host that <c>tests/load/load.sh</c> started. Every phase stops after its
/// request count or its time limit, whichever comes first, and only ever talks to a loopback address.
/// </summary>
internal static class LoadRun
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync()
    {
        var settings = LoadSettings.FromEnvironment();
        Console.WriteLine(string.Create(Inv, $"Load run against {settings.BaseUrl}: {settings.Requests} requests, {settings.Concurrency} concurrent, {settings.Events} events, at most {settings.PhaseSeconds} s per phase"));

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Concurrency, UseCookies = false, AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { BaseAddress = settings.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        var runId = Guid.NewGuid().ToString("N")[..8];

        // Warm-up: JIT, connection pool and the first table/queue round trips are not what we measure.
        await MeasureAsync("warm-up", Math.Min(100, settings.Requests), settings, _ => new HttpRequestMessage(HttpMethod.Get, "/"), client, HttpStatusCode.OK);
        await MeasureAsync("warm-up", Math.Min(100, settings.Requests), settings, i => FormPost($"warm-{runId}-{i}"), client, HttpStatusCode.Accepted);

        var page = await MeasureAsync("GET / (static landing page)", settings.Requests, settings, _ => new HttpRequestMessage(HttpMethod.Get, "/"), client, HttpStatusCode.OK);
        var form = await MeasureAsync("POST /api/forms/whitepaper-lead-scoring (JSON)", settings.Requests, settings, i => FormPost($"form-{runId}-{i}"), client, HttpStatusCode.Accepted);

        var queue = new QueueClient(settings.Storage, StorageQueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var table = new TableClient(settings.Storage, settings.LeadsTable);
        await WaitForEmptyQueueAsync(queue, settings);
        var countsBefore = await StorageCounts.ReadAsync(settings.CountFile);
        var processing = await MeasureProcessingAsync(queue, table, runId, settings);
        var counted = settings.CountFile is null ? null : await StorageCounts.SettledAsync(settings.CountFile, countsBefore, processing.Applied);

        Console.WriteLine();
        Console.WriteLine("| measurement | result |");
        Console.WriteLine("| --- | --- |");
        Row("GET / (baseline)", $"{page.PerSecond:F0} req/s, p50 {page.P50:F1} ms, p95 {page.P95:F1} ms, {page.Failures} failed");
        Row("POST /api/forms/{formId}", $"{form.PerSecond:F0} req/s ({form.PerSecond / page.PerSecond:P0} of baseline), p50 {form.P50:F1} ms, p95 {form.P95:F1} ms, {form.Failures} failed");
        Row("enqueue to lead-events (baseline)", $"{processing.EnqueuePerSecond:F0} events/s");
        Row("processed by the queue listener", $"{processing.AppliedPerSecond:F0} events/s ({processing.AppliedPerSecond / processing.EnqueuePerSecond:P0} of enqueue), {processing.Applied}/{settings.Events} applied in {processing.Seconds:F1} s");
        if (counted is not null)
            StorageCounts.Report(counted, processing.Applied);
        return page.Failures + form.Failures == 0 && processing.Applied == settings.Events ? 0 : 1;
    }

    private const string StorageQueueName = "lead-events";

    private static void Row(string name, FormattableString result) => Console.WriteLine($"| {name} | {result.ToString(Inv)} |");

    private static HttpRequestMessage FormPost(string id) => new(HttpMethod.Post, "/api/forms/whitepaper-lead-scoring")
    {
        Content = JsonContent.Create(new Dictionary<string, object>
        {
            ["email"] = $"load-{id}@example.com", ["firstName"] = "Load", ["lastName"] = "Test", ["company"] = "Example",
            ["role"] = "developer", ["companySize"] = "51-200", ["consent"] = true,
        }),
        Headers = { { "Accept", "application/json" } },
    };

    private sealed record HttpResult(double PerSecond, double P50, double P95, int Failures);

    /// <summary>Sends up to <paramref name="count"/> requests from the configured number of concurrent clients.</summary>
    private static async Task<HttpResult> MeasureAsync(string name, int count, LoadSettings settings, Func<int, HttpRequestMessage> create, HttpClient client, HttpStatusCode expected)
    {
        var latencies = new ConcurrentBag<double>();
        var failures = 0;
        var next = -1;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(settings.PhaseSeconds));
        var total = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, settings.Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count && !limit.IsCancellationRequested)
            {
                using var request = create(i);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request, limit.Token);
                    await response.Content.LoadIntoBufferAsync(limit.Token);
                    if (response.StatusCode != expected)
                        Interlocked.Increment(ref failures);
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    if (limit.IsCancellationRequested)
                        return;
                    Interlocked.Increment(ref failures);
                }
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }).ToList();
        await Task.WhenAll(workers);
        total.Stop();

        var sorted = latencies.Order().ToArray();
        var result = new HttpResult(sorted.Length / total.Elapsed.TotalSeconds, Percentile(sorted, 0.50), Percentile(sorted, 0.95), failures);
        if (name != "warm-up")
            Console.WriteLine(string.Create(Inv, $"{name}: {sorted.Length} requests in {total.Elapsed.TotalSeconds:F1} s"));
        return result;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private sealed record ProcessingResult(double EnqueuePerSecond, double AppliedPerSecond, int Applied, double Seconds);

    /// <summary>
    /// Puts page-view events for new leads straight onto the queue (the raw enqueue rate is the baseline) and times until the
    /// listener has created every one of those leads in the table.
    /// </summary>
    private static async Task<ProcessingResult> MeasureProcessingAsync(QueueClient queue, TableClient table, string runId, LoadSettings settings)
    {
        // The key the local host keys leads with: load.sh's environment, else the sample key of local.settings.sample.json.
        var identity = new LeadIdentity(
            Environment.GetEnvironmentVariable("LeadIds__KeyId") ?? LeadIdentity.DefaultKeyId,
            Environment.GetEnvironmentVariable("LeadIds__Key") ?? LeadIdentity.SampleKey);
        var leadIds = new HashSet<string>(StringComparer.Ordinal);
        var messages = new string[settings.Events];
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < settings.Events; i++)
        {
            var email = $"queue-{runId}-{i}@example.com";
            leadIds.Add(identity.LeadIdFor(email));
            messages[i] = LeadEventJson.Serialize(new LeadEvent
            {
                EventId = $"load-{runId}-{i}",
                Type = LeadEventTypes.PageView,
                OccurredAt = now,
                Email = email,
                Properties = new Dictionary<string, string> { [LeadEventProperties.Url] = "https://www.example.com/pricing" },
            });
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(settings.PhaseSeconds * 3));
        var total = Stopwatch.StartNew();
        var next = -1;
        var workers = Enumerable.Range(0, settings.Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < messages.Length && !limit.IsCancellationRequested)
                await queue.SendMessageAsync(messages[i], limit.Token);
        });
        await Task.WhenAll(workers);
        var enqueueSeconds = total.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(Inv, $"enqueued {messages.Length} events in {enqueueSeconds:F1} s"));

        var applied = 0;
        while (!limit.IsCancellationRequested)
        {
            applied = 0;
            await foreach (var row in table.QueryAsync<TableEntity>(e => e.RowKey == "!lead", select: ["PartitionKey"], cancellationToken: CancellationToken.None))
            {
                if (leadIds.Contains(row.PartitionKey))
                    applied++;
            }
            if (applied >= messages.Length)
                break;
            await Task.Delay(200, CancellationToken.None);
        }
        total.Stop();
        Console.WriteLine(string.Create(Inv, $"applied {applied} events in {total.Elapsed.TotalSeconds:F1} s from the first enqueue"));
        return new ProcessingResult(messages.Length / enqueueSeconds, applied / total.Elapsed.TotalSeconds, applied, total.Elapsed.TotalSeconds);
    }

    /// <summary>The form posts of the HTTP phase are processed in the background; let them finish so they do not skew the next phase.</summary>
    private static async Task WaitForEmptyQueueAsync(QueueClient queue, LoadSettings settings)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(settings.PhaseSeconds * 3);
        var waited = Stopwatch.StartNew();
        while (DateTimeOffset.UtcNow < deadline)
        {
            var properties = await queue.GetPropertiesAsync();
            if (properties.Value.ApproximateMessagesCount == 0)
                break;
            await Task.Delay(500);
        }
        Console.WriteLine(string.Create(Inv, $"the form posts' events were processed {waited.Elapsed.TotalSeconds:F1} s after the HTTP phase"));
    }
}

/// <summary>What a load run does, from environment variables (the script sets the addresses; counts have defaults).</summary>
/// <param name="CountFile">Where the local host writes its storage-request counts (<c>LocalHost:StorageRequestCountFile</c>); null: not counted.</param>
internal sealed record LoadSettings(Uri BaseUrl, string Storage, string LeadsTable, int Requests, int Concurrency, int Events, int PhaseSeconds, string? CountFile = null)
{
    public static LoadSettings FromEnvironment()
    {
        var url = new Uri(Required("LOAD_URL"));
        // Load goes to this machine only.
        if (!IPAddress.TryParse(url.Host, out var address) ? url.Host != "localhost" : !IPAddress.IsLoopback(address))
            throw new InvalidOperationException($"LOAD_URL must be a loopback address (127.0.0.1 or localhost), not {url.Host}.");
        return new LoadSettings(
            url,
            Required("LOAD_STORAGE"),
            Environment.GetEnvironmentVariable("LOAD_LEADS_TABLE") ?? "Leads",
            Number("LOAD_REQUESTS", 2000, 1, 100_000),
            Number("LOAD_CONCURRENCY", 16, 1, 256),
            Number("LOAD_EVENTS", 2000, 1, 100_000),
            Number("LOAD_PHASE_SECONDS", 30, 1, 600),
            Environment.GetEnvironmentVariable("LOAD_COUNT_FILE") is { Length: > 0 } countFile ? countFile : null);
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is required (tests/load/load.sh sets it).");

    private static int Number(string name, int fallback, int min, int max)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(text))
            return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new InvalidOperationException($"{name} must be a whole number from {min} to {max}, not '{text}'.");
    }
}
