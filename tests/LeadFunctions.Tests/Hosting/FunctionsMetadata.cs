using System.Text.Json;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Hosting;

/// <summary>One function as the Worker SDK wrote it into <c>functions.metadata</c> at build time: what the Functions host in Azure indexes.</summary>
public sealed record FunctionMetadataEntry(string Name, string EntryPoint, TriggerMetadata Trigger);

/// <summary>The trigger binding of a function; fields that do not apply to its type are null.</summary>
public sealed record TriggerMetadata(
    string Type,
    string? AuthLevel,
    IReadOnlyList<string> Methods,
    string? Route,
    string? QueueName,
    string? Connection,
    string? Schedule);

public static class FunctionsMetadata
{
    public const string FileName = "functions.metadata";

    /// <summary>
    /// The generated file: next to the test binaries (the build copies the functions app's output here), else the newest one
    /// in the functions app's own bin folder.
    /// </summary>
    public static string Locate()
    {
        var local = Path.Combine(AppContext.BaseDirectory, FileName);
        if (File.Exists(local))
            return local;
        var appBin = Path.Combine(RepoPaths.Root, "functions", "LeadFunctions", "bin");
        var found = Directory.Exists(appBin)
            ? Directory.EnumerateFiles(appBin, FileName, SearchOption.AllDirectories).Select(p => new FileInfo(p)).OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault()
            : null;
        return found?.FullName ?? throw new FileNotFoundException($"No {FileName} next to the tests or under {appBin}; build the functions app first.");
    }

    public static IReadOnlyDictionary<string, FunctionMetadataEntry> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Locate()));
        var entries = new Dictionary<string, FunctionMetadataEntry>(StringComparer.Ordinal);
        foreach (var function in document.RootElement.EnumerateArray())
        {
            var name = function.GetProperty("name").GetString()!;
            var trigger = function.GetProperty("bindings").EnumerateArray()
                .Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            entries[name] = new FunctionMetadataEntry(name, function.GetProperty("entryPoint").GetString()!, new TriggerMetadata(
                trigger.GetProperty("type").GetString()!,
                String(trigger, "authLevel"),
                trigger.TryGetProperty("methods", out var methods) && methods.ValueKind == JsonValueKind.Array
                    ? methods.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).Order(StringComparer.Ordinal).ToArray()
                    : [],
                String(trigger, "route"),
                String(trigger, "queueName"),
                String(trigger, "connection"),
                String(trigger, "schedule")));
        }
        return entries;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
