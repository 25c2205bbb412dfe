namespace LeadFunctions.Domain.Tracking;

public sealed record BotVerdict(bool ProbableBot, string? Reason)
{
    public static readonly BotVerdict Human = new(false, null);
}

/// <summary>
/// Tells security scanners and prefetchers from people: they announce themselves in the user agent, probe with HEAD,
/// or fetch every link within seconds of delivery. Their hits are recorded as events but marked, so they are not scored.
/// </summary>
public sealed class BotDetector(TimeSpan minimumHumanDelay, IEnumerable<string>? extraScannerAgents = null)
{
    /// <summary>Substrings of user agents sent by mail security gateways, link scanners and generic HTTP libraries.</summary>
    public static readonly IReadOnlyList<string> KnownScannerAgents =
    [
        "bot", "crawler", "spider", "scanner", "preview",
        "barracuda", "mimecast", "proofpoint", "ironport", "fortiguard", "trendmicro", "symantec", "messagelabs",
        "safelinks", "microsoft office protection", "forcepoint", "sophos", "zscaler", "cisco",
        "python-requests", "python-urllib", "curl/", "wget/", "go-http-client", "java/", "okhttp", "libwww-perl", "axios/", "node-fetch",
        "headlesschrome", "phantomjs",
    ];

    private readonly string[] _agents = [.. KnownScannerAgents, .. (extraScannerAgents ?? []).Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim().ToLowerInvariant())];

    public BotVerdict Judge(string httpMethod, string? userAgent, DateTimeOffset sentAt, DateTimeOffset now)
    {
        if (string.Equals(httpMethod, "HEAD", StringComparison.OrdinalIgnoreCase))
            return new BotVerdict(true, "head-request");
        if (string.IsNullOrWhiteSpace(userAgent))
            return new BotVerdict(true, "no-user-agent");
        var agent = userAgent.ToLowerInvariant();
        foreach (var known in _agents)
        {
            if (agent.Contains(known, StringComparison.Ordinal))
                return new BotVerdict(true, "scanner-user-agent");
        }
        if (now - sentAt < minimumHumanDelay)
            return new BotVerdict(true, "too-soon-after-sending");
        return BotVerdict.Human;
    }
}
