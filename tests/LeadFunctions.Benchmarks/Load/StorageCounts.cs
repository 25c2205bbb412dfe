using System.Globalization;
using System.Text.Json;

namespace LeadFunctions.Benchmarks.Load;

/// <summary>
/// The local host's storage-request counts (its <c>CountingPolicy</c> on every storage client of the process, written to a
/// file as JSON by kind), read before and after the processing phase: the difference is what processing the events cost.
/// </summary>
internal static class StorageCounts
{
    /// <summary>The amortised storage requests per processed event the design aims at (issue 14).</summary>
    public const double Goal = 3;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<IReadOnlyDictionary<string, long>> ReadAsync(string? file)
    {
        if (file is null)
            return new Dictionary<string, long>();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return JsonSerializer.Deserialize<Dictionary<string, long>>(await File.ReadAllTextAsync(file)) ?? [];
            }
            catch (Exception ex) when (ex is IOException or FileNotFoundException && attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>
    /// The counts since <paramref name="before"/> once every applied event's message has been deleted (the listener deletes a
    /// message after its function returned, a moment after the lead is in the table), or after 15 s.
    /// </summary>
    public static async Task<Dictionary<string, long>> SettledAsync(string file, IReadOnlyDictionary<string, long> before, int applied)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        Dictionary<string, long> delta;
        do
        {
            await Task.Delay(600);
            var now = await ReadAsync(file);
            delta = now.ToDictionary(k => k.Key, k => k.Value - before.GetValueOrDefault(k.Key), StringComparer.Ordinal);
        }
        while (delta.GetValueOrDefault("queue delete") < applied && DateTime.UtcNow < deadline);
        return delta;
    }

    public static void Report(Dictionary<string, long> delta, int applied)
    {
        if (applied == 0)
            return;
        Console.WriteLine();
        Console.WriteLine(string.Create(Inv, $"Storage requests of the processing phase, counted in the local host ({applied} events applied):"));
        Console.WriteLine("| request | count | per event |");
        Console.WriteLine("| --- | --- | --- |");
        foreach (var (kind, count) in delta.Where(k => k.Value > 0).OrderByDescending(k => k.Value))
            Console.WriteLine(string.Create(Inv, $"| {kind} | {count} | {(double)count / applied:F2} |"));
        var total = delta.Values.Sum();
        var table = delta.Where(k => k.Key.StartsWith("table", StringComparison.Ordinal)).Sum(k => k.Value);
        var perEvent = (double)total / applied;
        Console.WriteLine(string.Create(Inv, $"| all | {total} | {perEvent:F2} |"));
        Console.WriteLine(string.Create(Inv, $"| of which table | {table} | {(double)table / applied:F2} |"));
        Console.WriteLine(string.Create(Inv,
            $"Goal: at most {Goal:F0} storage requests per event amortised: {(perEvent <= Goal ? "met" : "NOT met")} ({perEvent:F2}; queue receives include the listener's empty polls while the phase ran)."));
    }
}
