using System.Diagnostics;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using LeadFunctions.Testing;

namespace LeadFunctions.Benchmarks.Load;

/// <summary>
/// The baselines of the load run (issue 14.1): the storage work of capture and of processing done with the bare Azure SDK, no
/// Functions and no scoring, in the same Azurite, so a ratio says how close we are to what the storage allows.
/// </summary>
internal static class RawBaselines
{
    /// <summary>The queue listener's concurrency from host.json (as the local host applies it): batch size and new-batch threshold.</summary>
    public static (int BatchSize, int NewBatchThreshold) ListenerShape(string hostJson = "host.json")
    {
        var batch = 16;
        var threshold = -1;
        if (File.Exists(hostJson))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(hostJson));
            if (document.RootElement.TryGetProperty("extensions", out var extensions) && extensions.TryGetProperty("queues", out var queues))
            {
                if (queues.TryGetProperty("batchSize", out var b))
                    batch = b.GetInt32();
                if (queues.TryGetProperty("newBatchThreshold", out var t))
                    threshold = t.GetInt32();
            }
        }
        // The WebJobs default when host.json does not set it: half the batch size.
        return (batch, threshold < 0 ? batch / 2 : threshold);
    }

    public static QueueClient Queue(string storage, string name, CountingPolicy? counter = null)
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        if (counter is not null)
            options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        return new QueueClient(storage, name, options);
    }

    public static TableClient Table(string storage, string name, CountingPolicy? counter = null)
    {
        var options = new TableClientOptions();
        if (counter is not null)
            options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        return new TableClient(storage, name, options);
    }

    /// <summary>Bare enqueues of <paramref name="message"/> from <paramref name="concurrency"/> senders: messages per second.</summary>
    public static async Task<double> EnqueueAsync(QueueClient queue, string message, int count, int concurrency, TimeSpan limit)
    {
        using var cap = new CancellationTokenSource(limit);
        var next = -1;
        var sent = 0;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < count && !cap.IsCancellationRequested)
            {
                try
                {
                    await queue.SendMessageAsync(message, cap.Token);
                    Interlocked.Increment(ref sent);
                }
                catch (OperationCanceledException) when (cap.IsCancellationRequested)
                {
                    return;
                }
            }
        }));
        return sent / total.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The rows one processed event left in its lead's partition, copied as the shape of the baseline's transaction: what the
    /// processor's transaction for such an event writes (lead row, applied-event row, ledger rows, …). The pending-work row is
    /// deleted once the projections ran, so it is added back with a payload of <paramref name="workRowChars"/>.
    /// </summary>
    public static async Task<IReadOnlyList<TableEntity>> SampleShapeAsync(TableClient table, string leadId, int workRowChars = 800)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadId}")))
        {
            var copy = new TableEntity("", row.RowKey);
            foreach (var (key, value) in row)
            {
                if (key is not ("PartitionKey" or "RowKey" or "Timestamp") && !key.StartsWith("odata.", StringComparison.Ordinal))
                    copy[key] = value;
            }
            rows.Add(copy);
        }
        if (!rows.Any(r => r.RowKey.StartsWith("x|", StringComparison.Ordinal)))
            rows.Add(new TableEntity("", "x|raw") { ["WorkJson"] = new string('w', workRowChars) });
        return rows.Take(99).ToList();
    }

    /// <summary>Approximate stored size of a row: the lengths of its string values plus 8 bytes for every other property.</summary>
    public static int ApproximateSize(TableEntity row) =>
        row.RowKey.Length + row.Sum(p => p.Value is string s ? s.Length + p.Key.Length : 8 + p.Key.Length);

    /// <summary>
    /// The processor's storage work without scoring or Functions, as the WebJobs queue listener schedules it: receive up to
    /// <paramref name="batchSize"/>, run each message, receive again once no more than <paramref name="newBatchThreshold"/> are
    /// in flight; per message a point read of a lead row (a miss: a new lead), one entity-group transaction of
    /// <paramref name="shape"/> under a partition of its own, and the delete. The messages are enqueued by
    /// <paramref name="concurrency"/> senders while it runs, as in the processing phase. Returns the processed count and seconds
    /// from the first enqueue to the last delete.
    /// </summary>
    public static async Task<(int Processed, double Seconds, bool TimedOut)> ProcessAsync(QueueClient queue, TableClient table, IReadOnlyList<string> messages,
        int concurrency, IReadOnlyList<TableEntity> shape, int batchSize, int newBatchThreshold, TimeSpan limit)
    {
        using var cap = new CancellationTokenSource(limit);
        var total = Stopwatch.StartNew();
        var next = -1;
        var enqueue = Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < messages.Count && !cap.IsCancellationRequested)
                await queue.SendMessageAsync(messages[i], cap.Token);
        }));

        var processed = 0;
        var inFlight = 0;
        using var finished = new SemaphoreSlim(0);
        var running = new List<Task>();
        var idle = TimeSpan.FromMilliseconds(100);
        try
        {
            while (Volatile.Read(ref processed) + Volatile.Read(ref inFlight) < messages.Count)
            {
                while (Volatile.Read(ref inFlight) > newBatchThreshold)
                    await finished.WaitAsync(cap.Token);
                var batch = (await queue.ReceiveMessagesAsync(batchSize, TimeSpan.FromSeconds(45), cap.Token)).Value;
                if (batch.Length == 0)
                {
                    // The listener's back-off on an empty queue (exponential up to maxPollingInterval, 2 s in host.json).
                    await Task.Delay(idle, cap.Token);
                    idle = TimeSpan.FromMilliseconds(Math.Min(idle.TotalMilliseconds * 2, 2000));
                    continue;
                }
                idle = TimeSpan.FromMilliseconds(100);
                foreach (var message in batch)
                {
                    Interlocked.Increment(ref inFlight);
                    running.Add(Task.Run(async () =>
                    {
                        try
                        {
                            await HandleAsync(queue, table, message, shape, cap.Token);
                            Interlocked.Increment(ref processed);
                        }
                        finally
                        {
                            Interlocked.Decrement(ref inFlight);
                            finished.Release();
                        }
                    }));
                }
            }
            await Task.WhenAll(running);
            await enqueue;
        }
        catch (OperationCanceledException) when (cap.IsCancellationRequested)
        {
            return (Volatile.Read(ref processed), total.Elapsed.TotalSeconds, true);
        }
        return (processed, total.Elapsed.TotalSeconds, false);
    }

    private static async Task HandleAsync(QueueClient queue, TableClient table, QueueMessage message, IReadOnlyList<TableEntity> shape, CancellationToken cancellationToken)
    {
        var partition = "raw-" + message.MessageId;
        var lead = await table.GetEntityIfExistsAsync<TableEntity>(partition, "!lead", cancellationToken: cancellationToken);
        var actions = shape.Select(row =>
        {
            var entity = new TableEntity(row) { PartitionKey = partition, RowKey = row.RowKey };
            return new TableTransactionAction(lead.HasValue && row.RowKey == "!lead" ? TableTransactionActionType.UpdateReplace : TableTransactionActionType.Add, entity, ETag.All);
        });
        await table.SubmitTransactionAsync(actions, cancellationToken);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
    }
}

/// <summary>Min, median and max of the ours/baseline ratios of alternating rounds.</summary>
internal sealed record RatioSpread(double Min, double Median, double Max)
{
    public static RatioSpread Of(IReadOnlyList<double> ours, IReadOnlyList<double> baseline)
    {
        var ratios = ours.Zip(baseline, (o, b) => b > 0 ? o / b : double.NaN).Order().ToArray();
        if (ratios.Length == 0)
            return new RatioSpread(double.NaN, double.NaN, double.NaN);
        var median = ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[ratios.Length / 2 - 1] + ratios[ratios.Length / 2]) / 2;
        return new RatioSpread(ratios[0], median, ratios[^1]);
    }
}
