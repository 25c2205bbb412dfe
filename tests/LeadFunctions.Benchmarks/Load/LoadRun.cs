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
        Console.WriteLine(string.Create(Inv, $"Load run against {settings.BaseUrl}: {settings.Requests} requests, {settings.Concurrency} concurrent, {settings.Events} events, at most {settings.PhaseSeconds} s per HTTP phase, {settings.Rounds} alternating rounds"));

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Concurrency, UseCookies = false, AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { BaseAddress = settings.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        var runId = Guid.NewGuid().ToString("N")[..8];

        // Warm-up: JIT, connection pool and the first table/queue round trips are not what we measure.
        await MeasureAsync("warm-up", Math.Min(100, settings.Requests), settings, _ => new HttpRequestMessage(HttpMethod.Get, "/"), client, HttpStatusCode.OK);
        await MeasureAsync("warm-up", Math.Min(100, settings.Requests), settings, i => FormPost($"warm-{runId}-{i}"), client, HttpStatusCode.Accepted);

        var page = await MeasureAsync("GET / (static landing page)", settings.Requests, settings, _ => new HttpRequestMessage(HttpMethod.Get, "/"), client, HttpStatusCode.OK);

        var queue = new QueueClient(settings.Storage, StorageQueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var table = new TableClient(settings.Storage, settings.LeadsTable);
        var identity = new LeadIdentity(
            Environment.GetEnvironmentVariable("LeadIds__KeyId") ?? LeadIdentity.DefaultKeyId,
            Environment.GetEnvironmentVariable("LeadIds__Key") ?? LeadIdentity.SampleKey);
        await WaitForEmptyQueueAsync(queue, settings);
        // The baseline of capture enqueues a message of the size a form post enqueues: the event JSON the processor stored
        // for the first warm-up post (the same JSON the queue message carried).
        var formMessage = await FormMessageAsync(table, identity.LeadIdFor($"load-warm-{runId}-0@example.com"));
        var bareQueue = RawBaselines.Queue(settings.Storage, $"load-bare-{runId}");
        await bareQueue.CreateIfNotExistsAsync();

        // Capture: ours (form posts) and the bare enqueue, alternating.
        var forms = new List<HttpResult>();
        var bare = new List<double>();
        for (var round = 0; round < settings.Rounds; round++)
        {
            forms.Add(await MeasureAsync($"round {round + 1}: POST /api/forms/whitepaper-lead-scoring (JSON)", settings.Requests, settings, i => FormPost($"form-{runId}-{round}-{i}"), client, HttpStatusCode.Accepted));
            bare.Add(await RawBaselines.EnqueueAsync(bareQueue, formMessage, settings.Requests, settings.Concurrency, TimeSpan.FromSeconds(settings.PhaseSeconds)));
            Console.WriteLine(string.Create(Inv, $"round {round + 1}: bare enqueue of {formMessage.Length} characters: {bare[^1]:F0} messages/s"));
        }
        await bareQueue.DeleteIfExistsAsync();
        var form = forms[0];

        // Processing: ours (the queue listener) and the raw SDK loop, alternating; the host's storage requests counted per round.
        await WaitForEmptyQueueAsync(queue, settings, settings.Requests * settings.Rounds);
        var (batchSize, threshold) = RawBaselines.ListenerShape();
        var rawCounter = new LeadFunctions.Testing.CountingPolicy();
        var rawQueue = RawBaselines.Queue(settings.Storage, $"load-raw-{runId}", rawCounter);
        var rawTable = RawBaselines.Table(settings.Storage, $"LoadRaw{runId}", rawCounter);
        await rawQueue.CreateIfNotExistsAsync();
        await rawTable.CreateIfNotExistsAsync();
        var ours = new List<ProcessingResult>();
        var raw = new List<double>();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        IReadOnlyList<TableEntity>? shape = null;
        var timedOut = false;
        for (var round = 0; round < settings.Rounds && !timedOut; round++)
        {
            var countsBefore = await StorageCounts.ReadAsync(settings.CountFile);
            var result = await MeasureProcessingAsync(queue, table, identity, $"{runId}-{round}", settings);
            ours.Add(result);
            timedOut = result.TimedOut;
            if (settings.CountFile is not null)
            {
                foreach (var (kind, n) in await StorageCounts.SettledAsync(settings.CountFile, countsBefore, result.Applied))
                    counts[kind] = counts.GetValueOrDefault(kind) + n;
            }
            if (timedOut)
                break;
            shape ??= await RawBaselines.SampleShapeAsync(table, result.FirstLeadId);
            if (round == 0)
                Console.WriteLine(string.Create(Inv, $"raw loop: {batchSize} per receive, a new batch at {threshold} in flight; per message 1 point read, a transaction of {shape.Count} rows ({string.Join(", ", shape.Select(r => $"{r.RowKey[..Math.Min(2, r.RowKey.Length)]}… ~{RawBaselines.ApproximateSize(r)} B"))}), 1 delete"));
            rawCounter.Reset();
            var messages = Enumerable.Range(0, settings.Events).Select(i => EventMessage(identity, $"raw-{runId}-{round}", i, DateTimeOffset.UtcNow).Json).ToList();
            var (processed, seconds, rawTimedOut) = await RawBaselines.ProcessAsync(rawQueue, rawTable, messages, settings.Concurrency, shape, batchSize, threshold, CompletionBound(settings));
            raw.Add(processed / seconds);
            Console.WriteLine(string.Create(Inv, $"round {round + 1}: raw loop processed {processed}/{settings.Events} in {seconds:F1} s: {processed / seconds:F0} events/s, {(double)rawCounter.Total / Math.Max(1, processed):F2} storage requests per event{(rawTimedOut ? " (TIMED OUT)" : "")}"));
            timedOut |= rawTimedOut;
        }
        await rawQueue.DeleteIfExistsAsync();
        await rawTable.DeleteAsync();

        var processing = ours[0];
        var capture = RatioSpread.Of(forms.Select(f => f.PerSecond).ToList(), bare);
        var processingRatio = RatioSpread.Of(ours.Take(raw.Count).Select(o => o.AppliedPerSecond).ToList(), raw);
        var applied = ours.Sum(o => o.Applied);
        var perEvent = applied > 0 && counts.Count > 0 ? (double)counts.Values.Sum() / applied : double.NaN;

        Console.WriteLine();
        Console.WriteLine("| measurement | result |");
        Console.WriteLine("| --- | --- |");
        Row("GET / (static page, for reference)", $"{page.PerSecond:F0} req/s, p50 {page.P50:F1} ms, p95 {page.P95:F1} ms, {page.Failures} failed");
        Row("POST /api/forms/{formId} (round 1)", $"{form.PerSecond:F0} req/s ({form.PerSecond / page.PerSecond:P0} of the static page), p50 {form.P50:F1} ms, p95 {form.P95:F1} ms, {forms.Sum(f => f.Failures)} failed in all rounds");
        Row("enqueue to lead-events (round 1)", $"{processing.EnqueuePerSecond:F0} events/s");
        Row("processed by the queue listener (round 1)", $"{processing.AppliedPerSecond:F0} events/s, {processing.Applied}/{settings.Events} applied in {processing.Seconds:F1} s");
        Row($"capture / bare enqueue of {formMessage.Length} chars, {settings.Concurrency} concurrent ({forms.Count} rounds)", $"min {capture.Min:P0}, median {capture.Median:P0}, max {capture.Max:P0} (ours {Join(forms.Select(f => f.PerSecond))} req/s; bare {Join(bare)} msg/s)");
        Row($"processing / raw SDK loop, {batchSize + threshold} in flight ({raw.Count} rounds)", $"min {processingRatio.Min:P0}, median {processingRatio.Median:P0}, max {processingRatio.Max:P0} (ours {Join(ours.Select(o => o.AppliedPerSecond))} events/s; raw {Join(raw)} events/s)");
        Row("storage requests per processed event (local host, all rounds)", $"{perEvent:F2}");
        foreach (var (i, o) in ours.Index().Where(x => x.Item.TimedOut))
            Row($"round {i + 1} TIMED OUT", $"after {o.Seconds:F0} s: {o.Applied}/{settings.Events} applied, {o.StillQueued} still on the queue (not lost: the bound is {CompletionBound(settings).TotalSeconds:F0} s)");
        if (counts.Count > 0)
            StorageCounts.Report(counts, applied);

        var json = new Dictionary<string, object?>
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mmZ", Inv),
            ["cores"] = Environment.ProcessorCount,
            ["requests"] = settings.Requests,
            ["concurrency"] = settings.Concurrency,
            ["events"] = settings.Events,
            ["rounds"] = settings.Rounds,
            ["staticPagePerSecond"] = Math.Round(page.PerSecond, 1),
            ["capture"] = new { ours = forms.Select(f => Math.Round(f.PerSecond, 1)), baseline = bare.Select(b => Math.Round(b, 1)), messageChars = formMessage.Length, ratio = capture },
            ["processing"] = new { ours = ours.Select(o => Math.Round(o.AppliedPerSecond, 1)), baseline = raw.Select(r => Math.Round(r, 1)), inFlight = batchSize + threshold, ratio = processingRatio, applied, timedOut },
            ["requestsPerEvent"] = double.IsNaN(perEvent) ? null : Math.Round(perEvent, 2),
            ["requestsByKind"] = counts,
        };
        Console.WriteLine("LOAD_RESULT " + System.Text.Json.JsonSerializer.Serialize(json, new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        return page.Failures + forms.Sum(f => f.Failures) == 0 && !timedOut && ours.All(o => o.Applied == settings.Events) ? 0 : 1;
    }

    private static string Join(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString("F0", Inv)));

    /// <summary>How long a processing round may take: the phase cap, or longer for many events (at least 10 events/s).</summary>
    private static TimeSpan CompletionBound(LoadSettings settings) => TimeSpan.FromSeconds(Math.Max(settings.PhaseSeconds * 3, settings.Events / 10.0));

    private static async Task<string> FormMessageAsync(TableClient table, string leadId)
    {
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadId}")))
        {
            if (row.GetString("EventJson") is { Length: > 0 } eventJson)
                return eventJson;
        }
        Console.WriteLine("(the warm-up form post's event was not found; the bare enqueue sends 600 characters)");
        return new string('x', 600);
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

    private sealed record ProcessingResult(double EnqueuePerSecond, double AppliedPerSecond, int Applied, double Seconds, bool TimedOut, int StillQueued, string FirstLeadId);

    private static (string LeadId, string Json) EventMessage(LeadIdentity identity, string runId, int i, DateTimeOffset now)
    {
        var email = $"queue-{runId}-{i}@example.com";
        return (identity.LeadIdFor(email), LeadEventJson.Serialize(new LeadEvent
        {
            EventId = $"load-{runId}-{i}",
            Type = LeadEventTypes.PageView,
            OccurredAt = now,
            Email = email,
            Properties = new Dictionary<string, string> { [LeadEventProperties.Url] = "https://www.example.com/pricing" },
        }));
    }

    /// <summary>
    /// Puts page-view events for new leads straight onto the queue (the raw enqueue rate) and times until the listener has
    /// processed every one: the queue is empty (its approximate count includes messages being processed; the listener deletes
    /// a message once its function returned). That check costs one queue request, whatever the table's size; the old check
    /// (<c>LOAD_COMPLETION_CHECK=scan</c>) scanned the leads table every 200 ms. Afterwards, untimed, the leads are counted in
    /// the table, so an event that was not applied shows as such and a time-out is reported as one.
    /// </summary>
    private static async Task<ProcessingResult> MeasureProcessingAsync(QueueClient queue, TableClient table, LeadIdentity identity, string runId, LoadSettings settings)
    {
        var leadIds = new HashSet<string>(StringComparer.Ordinal);
        var messages = new string[settings.Events];
        var now = DateTimeOffset.UtcNow;
        string? first = null;
        for (var i = 0; i < settings.Events; i++)
        {
            var (leadId, json) = EventMessage(identity, runId, i, now);
            first ??= leadId;
            leadIds.Add(leadId);
            messages[i] = json;
        }

        using var limit = new CancellationTokenSource(CompletionBound(settings));
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

        var scan = settings.CompletionCheck == "scan";
        var done = false;
        var queued = 0;
        while (!limit.IsCancellationRequested)
        {
            if (scan)
                done = (await CountAppliedAsync(table, leadIds)).Applied >= messages.Length;
            else
                done = (queued = (await queue.GetPropertiesAsync(CancellationToken.None)).Value.ApproximateMessagesCount) == 0;
            if (done)
                break;
            await Task.Delay(200, CancellationToken.None);
        }
        total.Stop();
        var scanTime = Stopwatch.StartNew();
        var (applied, tableLeads) = await CountAppliedAsync(table, leadIds);
        // Evidence for where local numbers stop meaning anything: one scan of the leads table, by its size.
        Console.WriteLine(string.Create(Inv, $"(untimed check: one scan of the leads table for RowKey '!lead', {tableLeads} leads, took {scanTime.Elapsed.TotalMilliseconds:F0} ms)"));
        if (!done)
            queued = (await queue.GetPropertiesAsync(CancellationToken.None)).Value.ApproximateMessagesCount;
        Console.WriteLine(done
            ? string.Create(Inv, $"processed {messages.Length} events in {total.Elapsed.TotalSeconds:F1} s from the first enqueue ({settings.CompletionCheck} check); {applied} leads in the table")
            : string.Create(Inv, $"TIMED OUT after {total.Elapsed.TotalSeconds:F1} s: {applied} applied, {queued} still on the queue"));
        return new ProcessingResult(messages.Length / enqueueSeconds, applied / total.Elapsed.TotalSeconds, applied, total.Elapsed.TotalSeconds, !done, queued, first!);
    }

    /// <summary>How many of <paramref name="leadIds"/> are in the table, and how many leads the table holds in all.</summary>
    private static async Task<(int Applied, int TableLeads)> CountAppliedAsync(TableClient table, HashSet<string> leadIds)
    {
        var applied = 0;
        var tableLeads = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.RowKey == "!lead", select: ["PartitionKey"], cancellationToken: CancellationToken.None))
        {
            tableLeads++;
            if (leadIds.Contains(row.PartitionKey))
                applied++;
        }
        return (applied, tableLeads);
    }

    /// <summary>
    /// The form posts of the HTTP phase are processed in the background; let them finish so they do not skew the next phase.
    /// Bounded like a processing round, scaled by the posts waiting (a form post for a new lead is the processor's most
    /// expensive event), and a time-out is said as such.
    /// </summary>
    private static async Task WaitForEmptyQueueAsync(QueueClient queue, LoadSettings settings, int posts = 0)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(Math.Max(settings.PhaseSeconds * 3, posts / 10.0));
        var waited = Stopwatch.StartNew();
        var left = 0;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var properties = await queue.GetPropertiesAsync();
            if ((left = properties.Value.ApproximateMessagesCount) == 0)
                break;
            await Task.Delay(500);
        }
        Console.WriteLine(left == 0
            ? string.Create(Inv, $"the form posts' events were processed {waited.Elapsed.TotalSeconds:F1} s after the HTTP phase")
            : string.Create(Inv, $"TIMED OUT waiting for the form posts' events: {left} still on the queue after {waited.Elapsed.TotalSeconds:F1} s"));
    }
}

/// <summary>What a load run does, from environment variables (the script sets the addresses; counts have defaults).</summary>
/// <param name="CountFile">Where the local host writes its storage-request counts (<c>LocalHost:StorageRequestCountFile</c>); null: not counted.</param>
/// <param name="Rounds">Alternating rounds of ours and the baseline, for capture and for processing.</param>
/// <param name="CompletionCheck"><c>queue</c> (the queue's approximate count) or <c>scan</c> (the old scan of the leads table, to compare).</param>
internal sealed record LoadSettings(Uri BaseUrl, string Storage, string LeadsTable, int Requests, int Concurrency, int Events, int PhaseSeconds, string? CountFile = null, int Rounds = 3, string CompletionCheck = "queue")
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
            Environment.GetEnvironmentVariable("LOAD_COUNT_FILE") is { Length: > 0 } countFile ? countFile : null,
            Number("LOAD_ROUNDS", 3, 1, 20),
            Environment.GetEnvironmentVariable("LOAD_COMPLETION_CHECK") switch
            {
                null or "" or "queue" => "queue",
                "scan" => "scan",
                var other => throw new InvalidOperationException($"LOAD_COMPLETION_CHECK must be queue or scan, not '{other}'."),
            });
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
