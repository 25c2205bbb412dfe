using System.Text.Json;

namespace LeadFunctions.LocalHost.Configuration;

/// <summary>
/// The <c>Values</c> of <c>local.settings.json</c>, read the way Core Tools reads them, so one settings file serves
/// <c>func start</c> and the local host alike. Falls back to the committed <c>local.settings.sample.json</c>.
/// </summary>
internal static class LocalSettings
{
    public const string FileName = "local.settings.json";
    public const string SampleFileName = "local.settings.sample.json";

    /// <summary>The first settings file found: a developer's own <c>local.settings.json</c>, else the sample copied into the output.</summary>
    public static string? Locate()
    {
        foreach (var folder in CandidateFolders())
        {
            var path = Path.Combine(folder, FileName);
            if (File.Exists(path))
                return path;
        }
        var sample = Path.Combine(AppContext.BaseDirectory, SampleFileName);
        return File.Exists(sample) ? sample : null;
    }

    /// <summary>The Values, with <c>__</c> turned into the <c>:</c> of .NET configuration (as environment variables are).</summary>
    public static IReadOnlyDictionary<string, string?> ReadValues(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!document.RootElement.TryGetProperty("Values", out var section) || section.ValueKind != JsonValueKind.Object)
            return values;
        foreach (var property in section.EnumerateObject())
        {
            var value = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString(),
                JsonValueKind.Null => null,
                _ => property.Value.GetRawText(),
            };
            values[property.Name.Replace("__", ":", StringComparison.Ordinal)] = value;
        }
        return values;
    }

    private static IEnumerable<string> CandidateFolders()
    {
        // Core Tools reads it from the functions project; people also keep it at the repository root or next to the binaries.
        yield return AppContext.BaseDirectory;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "LeadFunctions.sln")))
                {
                    yield return Path.Combine(dir.FullName, "functions", "LeadFunctions");
                    yield return dir.FullName;
                    break;
                }
            }
        }
    }
}
