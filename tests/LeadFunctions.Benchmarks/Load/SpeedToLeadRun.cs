using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using MimeKit;

namespace LeadFunctions.Benchmarks.Load;

/// <summary>
/// <c>speed-to-lead</c>: how long a demo request waits before its sales alert is in the outbox, through the local host that
/// <c>tests/load/speed-to-lead.sh</c> started with the deployed timer schedule. Requests are spread evenly over a window, so
/// they land at every point of the timer's cycle; the run stops when every alert arrived or at its time limit.
/// </summary>
internal static class SpeedToLeadRun
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync()
    {
        var url = new Uri(Required("SPEED_URL"));
        if (!IPAddress.TryParse(url.Host, out var address) ? url.Host != "localhost" : !IPAddress.IsLoopback(address))
            throw new InvalidOperationException($"SPEED_URL must be a loopback address (127.0.0.1 or localhost), not {url.Host}.");
        var outbox = Required("SPEED_OUTBOX");
        var requests = Math.Clamp(Number("SPEED_REQUESTS", 30), 1, 50);
        var spread = TimeSpan.FromSeconds(Math.Clamp(Number("SPEED_SPREAD_SECONDS", 120), 1, 600));
        var limit = TimeSpan.FromSeconds(Math.Clamp(Number("SPEED_TIMEOUT_SECONDS", 300), 10, 900));
        Console.WriteLine(string.Create(Inv, $"Speed to lead against {url}: {requests} demo requests over {spread.TotalSeconds:F0} s, at most {limit.TotalSeconds:F0} s in all"));

        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        var runId = Guid.NewGuid().ToString("N")[..8];
        var posted = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var failures = 0;
        for (var i = 0; i < requests; i++)
        {
            var due = spread * i / requests;
            if (due > clock.Elapsed)
                await Task.Delay(due - clock.Elapsed);
            var name = $"S{runId}x{i}";
            var at = DateTime.UtcNow;
            using var response = await client.SendAsync(DemoRequest(name, runId, i));
            if (response.StatusCode == HttpStatusCode.Accepted)
                posted[name] = at;
            else
                failures++;
        }

        // The folder sender writes each .eml to a temporary name and renames it, so a file that is there is complete;
        // its write time is when the alert left the pipeline.
        var arrived = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        while (arrived.Count < posted.Count && clock.Elapsed < limit)
        {
            foreach (var file in Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml") : [])
            {
                var subject = MimeMessage.Load(file).Subject ?? "";
                foreach (var name in posted.Keys.Where(n => !arrived.ContainsKey(n) && subject.Contains(n + " ", StringComparison.Ordinal)))
                    arrived[name] = File.GetLastWriteTimeUtc(file);
            }
            await Task.Delay(250);
        }

        var waits = arrived.Select(a => (a.Value - posted[a.Key]).TotalSeconds).Order().ToList();
        Console.WriteLine();
        Console.WriteLine("| measurement | result |");
        Console.WriteLine("| --- | --- |");
        Console.WriteLine(string.Create(Inv, $"| demo requests accepted | {posted.Count} of {requests} ({failures} failed) |"));
        Console.WriteLine(string.Create(Inv, $"| alerts in the outbox | {arrived.Count} of {posted.Count} |"));
        if (waits.Count > 0)
        {
            Console.WriteLine(string.Create(Inv, $"| demo request → alert, p50 | {Percentile(waits, 0.50):F1} s |"));
            Console.WriteLine(string.Create(Inv, $"| demo request → alert, p99 | {Percentile(waits, 0.99):F1} s |"));
            Console.WriteLine(string.Create(Inv, $"| demo request → alert, min / max | {waits[0]:F1} s / {waits[^1]:F1} s |"));
        }
        return failures == 0 && arrived.Count == posted.Count ? 0 : 1;
    }

    private static HttpRequestMessage DemoRequest(string name, string runId, int i) => new(HttpMethod.Post, "/api/forms/demo-request")
    {
        Content = JsonContent.Create(new Dictionary<string, object>
        {
            ["email"] = $"speed-{runId}-{i}@example.com", ["firstName"] = "Speed", ["lastName"] = name, ["company"] = "Example",
            ["role"] = "executive", ["companySize"] = "51-200", ["consent"] = "yes",
        }),
        Headers = { { "Accept", "application/json" } },
    };

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set.");

    private static int Number(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
