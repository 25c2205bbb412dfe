using System.Diagnostics;
using System.Globalization;
using Azure.Storage.Queues;
using LeadFunctions.Testing.Hostile;

namespace LeadFunctions.Benchmarks.Load;

/// <summary>
/// <c>hostile [count]</c>: the suite's hostile corpus (tests/Shared/HostileCorpus.cs), as many requests as asked, against a running
/// app (tests/load/hostile.sh starts one). The same rules as the corpus test; exit code 1 when any answer breaks one.
/// Env: HOSTILE_URL (the app), HOSTILE_STORAGE (its storage, to count lead-events), HOSTILE_FORMS (its forms.json),
/// HOSTILE_SEED (default random), HOSTILE_CONCURRENCY (16).
/// </summary>
internal static class HostileCorpusRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        var count = args.Length > 1 ? int.Parse(args[1], inv) : 100_000;
        var url = new Uri(Environment.GetEnvironmentVariable("HOSTILE_URL") ?? "http://127.0.0.1:7071/");
        var seed = Environment.GetEnvironmentVariable("HOSTILE_SEED") is { Length: > 0 } given ? int.Parse(given, inv) : Random.Shared.Next();
        var concurrency = Environment.GetEnvironmentVariable("HOSTILE_CONCURRENCY") is { Length: > 0 } c ? int.Parse(c, inv) : 16;
        var forms = Environment.GetEnvironmentVariable("HOSTILE_FORMS") ?? Path.Combine("functions", "LeadFunctions", "config", "forms.json");
        var queue = Environment.GetEnvironmentVariable("HOSTILE_STORAGE") is { Length: > 0 } storage
            ? new QueueClient(storage, "lead-events")
            : null;

        Console.WriteLine(string.Create(inv, $"== Hostile corpus: {count} requests, seed {seed}, {concurrency} in flight, against {url}"));
        var before = queue is null ? 0 : await CountAsync(queue);
        using var client = HostileRunner.CreateClient(url, concurrency);
        var clock = Stopwatch.StartNew();
        var answers = await HostileRunner.RunAsync(client, new HostileCorpus(seed, HostileCorpusSecrets.Default).Generate(count), concurrency, CancellationToken.None);
        var elapsed = clock.Elapsed;
        var after = queue is null ? 0 : await CountAsync(queue);

        Console.Write(HostileSummary.Table(answers));
        var verdicts = new HostileVerdicts(HostileVerdicts.FormRedirectsFrom(forms));
        var violations = answers.Select(a => (Answer: a, Broken: verdicts.Check(a))).Where(v => v.Broken is not null).Select(v => (v.Answer, v.Broken!)).ToList();
        var accepted = HostileSummary.Accepted(answers);
        Console.WriteLine(string.Create(inv, $"== {answers.Count} requests in {elapsed.TotalSeconds:0.0} s ({answers.Count / elapsed.TotalSeconds:0} per second); {accepted} accepted, {after - before} lead-events enqueued"));
        var failed = violations.Count > 0 || (queue is not null && after - before > accepted);
        if (queue is not null && after - before > accepted)
            Console.WriteLine(string.Create(inv, $"!! more messages enqueued ({after - before}) than requests accepted ({accepted})"));
        if (violations.Count > 0)
            Console.WriteLine(string.Create(inv, $"!! seed {seed}: {violations.Count} answers broke a rule (rerun with HOSTILE_SEED={seed}):\n{HostileSummary.Violations(violations)}"));
        else
            Console.WriteLine("== Every answer kept the rules.");
        return failed ? 1 : 0;
    }

    private static async Task<int> CountAsync(QueueClient queue)
    {
        await queue.CreateIfNotExistsAsync();
        return (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
    }
}
