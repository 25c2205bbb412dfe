using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Benchmarks.Nurture;

/// <summary>
/// <c>LeadFunctions.Benchmarks azurite-rowkey</c>: whether the emulator's point lookup costs more the more rows share its row key,
/// with nothing of ours in the way. For each N (ROWKEY_BENCH_SHARED, default 1000,11000) one table holds N rows with the same row
/// key, each in its own partition (as the outbox rows <c>outbox-nurture-trio-first</c> of N leads are), and N rows whose row keys
/// are all different: the same table, so the same size. It then times point reads and replaces of random rows of each kind, one at
/// a time as the timer makes them, in alternating rounds, and prints the median per request. In Azure Table Storage both kinds are
/// served by partition and row key; in Azurite (LokiJS) a lookup starts from the row-key index.
/// </summary>
internal static class SharedRowKeyRun
{
    private const int Requests = 200;
    private const int Rounds = 3;

    public static async Task<int> RunAsync()
    {
        var connection = Environment.GetEnvironmentVariable("LEADFUNCTIONS_TEST_STORAGE") ?? "UseDevelopmentStorage=true";
        var sizes = (Environment.GetEnvironmentVariable("ROWKEY_BENCH_SHARED") is { Length: > 0 } s ? s : "1000,11000")
            .Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture));
        foreach (var shared in sizes)
        {
            var table = new TableClient(connection, "benchrowkey" + shared.ToString(CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6]);
            await table.CreateIfNotExistsAsync();
            var seeded = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, shared), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
                await table.AddEntityAsync(Row(SharedPartition(i), "shared"), ct));
            await Parallel.ForEachAsync(Enumerable.Range(0, shared).Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (chunk, ct) =>
                await table.SubmitTransactionAsync(chunk.Select(i => new TableTransactionAction(TableTransactionActionType.Add, Row(UniquePartition(i), UniqueRow(i)))), ct));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// ROWKEY table of {2 * shared} rows: {shared} sharing one row key, {shared} with their own; seeded in {seeded.Elapsed.TotalSeconds:0.0} s"));

            var random = new Random(shared);
            var times = new Dictionary<string, List<double>>(StringComparer.Ordinal);
            for (var round = 0; round < Rounds; round++)
            {
                foreach (var kind in new[] { "shared", "unique" })
                {
                    var keys = Enumerable.Range(0, Requests).Select(_ => random.Next(shared))
                        .Select(i => kind == "shared" ? (SharedPartition(i), "shared") : (UniquePartition(i), UniqueRow(i))).ToList();
                    Add(times, $"{kind} point read", await TimeEachAsync(keys, k => table.GetEntityAsync<TableEntity>(k.Item1, k.Item2)));
                    Add(times, $"{kind} replace", await TimeEachAsync(keys, k => table.UpdateEntityAsync(Row(k.Item1, k.Item2), ETag.All, TableUpdateMode.Replace)));
                }
            }
            foreach (var (kind, ms) in times.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                ms.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"// ROWKEY {shared} sharing the row key, {kind}: median {ms[ms.Count / 2]:0.00} ms, p90 {ms[ms.Count * 9 / 10]:0.00} ms over {ms.Count}"));
            }
            await table.DeleteAsync();
        }
        return 0;
    }

    private static string SharedPartition(int i) => "lead" + i.ToString("D6", CultureInfo.InvariantCulture);
    private static string UniquePartition(int i) => "other" + (i / 100).ToString("D4", CultureInfo.InvariantCulture);
    private static string UniqueRow(int i) => "row" + i.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>About an outbox row's size.</summary>
    private static TableEntity Row(string partition, string row) => new(partition, row)
    {
        ["Kind"] = "nurture", ["Status"] = "sent", ["MessageId"] = partition + "-nurture-trio-first", ["Attempts"] = 1, ["Marketing"] = true,
        ["SentAt"] = DateTimeOffset.UnixEpoch,
    };

    private static void Add(Dictionary<string, List<double>> times, string kind, List<double> ms)
    {
        if (!times.TryGetValue(kind, out var list))
            times[kind] = list = [];
        list.AddRange(ms);
    }

    private static async Task<List<double>> TimeEachAsync<T>(IEnumerable<(string, string)> keys, Func<(string, string), Task<T>> request)
    {
        var ms = new List<double>();
        foreach (var key in keys)
        {
            var started = Stopwatch.GetTimestamp();
            await request(key);
            ms.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return ms;
    }
}
