using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace LeadFunctions.LocalHost.Configuration;

/// <summary>
/// How long the WebJobs storage clients (queue polling, deleting a processed message, releasing a failed one) keep retrying
/// before they give up: long enough to ride out a storage outage of a few minutes. The WebJobs SDK binds a connection's
/// <c>&lt;connection&gt;:Retry</c> section onto its client options (Azure.Core <c>RetryOptions</c>), here and in the Functions host
/// alike (<c>LeadStorage__Retry__MaxRetries</c> and so on as app settings). Without it a poll that cannot reach storage ends the
/// listener, and a message whose release could not be written stays invisible for the listener's 10-minute lease.
/// </summary>
public static class StorageRetry
{
    /// <summary>Exponential: 2, 4, 8, 16, then 30 s a try; 10 retries wait about 3.5 minutes in all (less 20 % jitter at worst).</summary>
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Mode"] = "Exponential",
        ["MaxRetries"] = "10",
        ["Delay"] = "00:00:02",
        ["MaxDelay"] = "00:00:30",
        ["NetworkTimeout"] = "00:00:30",
    };

    /// <summary>The retry each listed connection gets when its own <c>Retry</c> section does not say otherwise.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> For(IConfiguration configuration, params string[] connections)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var connection in connections)
        {
            var section = configuration.GetSection(connection).GetSection("Retry");
            foreach (var (name, value) in Defaults)
            {
                if (section[name] is null)
                    yield return KeyValuePair.Create($"{connection}:Retry:{name}", (string?)value);
            }
        }
    }

    /// <summary>The total a retried call may wait before it fails, at the worst jitter (for the docs' arithmetic and tests).</summary>
    public static TimeSpan MinimumRideOut()
    {
        var retries = int.Parse(Defaults["MaxRetries"], CultureInfo.InvariantCulture);
        var delay = TimeSpan.Parse(Defaults["Delay"], CultureInfo.InvariantCulture);
        var max = TimeSpan.Parse(Defaults["MaxDelay"], CultureInfo.InvariantCulture);
        var total = TimeSpan.Zero;
        for (var i = 0; i < retries; i++)
            total += TimeSpan.FromTicks(Math.Min(max.Ticks, delay.Ticks << i)) * 0.8;
        return total;
    }
}
