using System.Globalization;
using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.LocalHost.Configuration;

/// <summary>
/// Applies the root <c>host.json</c> queue settings to the WebJobs SDK, as the Functions host does in Azure,
/// so batch size, retries (<c>maxDequeueCount</c> then <c>&lt;queue&gt;-poison</c>) and polling behave the same locally.
/// </summary>
public static class HostJson
{
    public const string FileName = "host.json";

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, FileName);

    /// <summary>The app-setting prefix the Functions host reads host.json overrides from (<c>AzureFunctionsJobHost__extensions__queues__batchSize</c>).</summary>
    public const string OverrideSection = "AzureFunctionsJobHost:extensions:queues";

    public static void ApplyQueueSettings(QueuesOptions options, string? path = null, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        path ??= DefaultPath;
        if (!File.Exists(path))
            throw new InvalidOperationException($"host.json was not found at {path}; the functions app build copies it next to the binaries.");

        using (var stream = File.OpenRead(path))
        using (var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }))
        {
            if (TryGet(document.RootElement, "extensions", out var extensions) && TryGet(extensions, "queues", out var queues))
            {
                foreach (var setting in queues.EnumerateObject())
                    Apply(options, setting.Name, setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() ?? "" : setting.Value.GetRawText());
            }
        }

        // App settings override host.json, as they do in Azure.
        foreach (var setting in configuration?.GetSection(OverrideSection).GetChildren() ?? [])
        {
            if (setting.Value is not null)
                Apply(options, setting.Key, setting.Value);
        }
    }

    private static void Apply(QueuesOptions options, string name, string value)
    {
        switch (name.ToUpperInvariant())
        {
            case "BATCHSIZE": options.BatchSize = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "NEWBATCHTHRESHOLD": options.NewBatchThreshold = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "MAXDEQUEUECOUNT": options.MaxDequeueCount = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "VISIBILITYTIMEOUT": options.VisibilityTimeout = ParseTimeSpan(value); break;
            case "MAXPOLLINGINTERVAL": options.MaxPollingInterval = ParseTimeSpan(value); break;
            case "MESSAGEENCODING": options.MessageEncoding = Enum.Parse<QueueMessageEncoding>(value, ignoreCase: true); break;
            default:
                // Other keys are the Functions host's business (it validates host.json); nothing to map here.
                break;
        }
    }

    /// <summary>host.json's <c>logging.logLevel</c> as logging filters ("default" is the minimum level), as the Functions host applies them.</summary>
    public static IReadOnlyDictionary<string, LogLevel> LogLevels(string? path = null)
    {
        path ??= DefaultPath;
        var levels = new Dictionary<string, LogLevel>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path))
            return levels;
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (TryGet(document.RootElement, "logging", out var logging) && TryGet(logging, "logLevel", out var logLevel))
        {
            foreach (var entry in logLevel.EnumerateObject())
            {
                if (Enum.TryParse<LogLevel>(entry.Value.GetString(), ignoreCase: true, out var level))
                    levels[entry.Name] = level;
            }
        }
        return levels;
    }

    /// <summary>host.json takes a time span ("00:00:02") or, for polling, milliseconds.</summary>
    private static TimeSpan ParseTimeSpan(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds)
            ? TimeSpan.FromMilliseconds(milliseconds)
            : TimeSpan.Parse(value, CultureInfo.InvariantCulture);

    private static bool TryGet(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.Object)
            {
                value = property.Value;
                return true;
            }
        }
        value = default;
        return false;
    }
}
