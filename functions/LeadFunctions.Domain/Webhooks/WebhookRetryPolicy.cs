namespace LeadFunctions.Domain.Webhooks;

public enum WebhookAttemptVerdict
{
    Delivered,
    /// <summary>Try again later, with back-off: 5xx, 408, 429, a timeout or a network failure.</summary>
    Retry,
    /// <summary>The receiver refused it in a way repeating cannot change (other 4xx, a redirect): dead-lettered at once.</summary>
    Permanent,
}

/// <summary>What one attempt's answer means, and how long to wait before the next one.</summary>
public static class WebhookRetryPolicy
{
    public static WebhookAttemptVerdict Classify(int status) => status switch
    {
        >= 200 and < 300 => WebhookAttemptVerdict.Delivered,
        408 or 429 => WebhookAttemptVerdict.Retry,
        >= 300 and < 500 => WebhookAttemptVerdict.Permanent,
        _ => WebhookAttemptVerdict.Retry,
    };

    public static string Describe(int status, string? location) => status switch
    {
        >= 300 and < 400 => $"HTTP {status} redirect{(location is { Length: > 0 } ? " to " + Bounded(location) : "")}: redirects are not followed; point the subscription at the final URL",
        408 or 429 => $"HTTP {status}: the receiver asked us to come back later",
        >= 400 and < 500 => $"HTTP {status}: the receiver refused the delivery",
        _ => $"HTTP {status}: the receiver failed",
    };

    /// <summary>
    /// Exponential back-off with "equal jitter": half the doubled delay fixed, half random, so receivers coming back up are not
    /// hit by every delivery at the same second. A Retry-After the receiver sent is honoured when longer, within the cap.
    /// </summary>
    public static TimeSpan NextDelay(int failures, TimeSpan first, TimeSpan cap, TimeSpan? retryAfter, double random)
    {
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var full = Math.Min(first.TotalSeconds * Math.Pow(2, exponent), cap.TotalSeconds);
        var seconds = full / 2 + full / 2 * Math.Clamp(random, 0, 1);
        if (retryAfter is { } asked && asked.TotalSeconds > seconds)
            seconds = Math.Min(asked.TotalSeconds, cap.TotalSeconds);
        return TimeSpan.FromSeconds(Math.Max(1, seconds));
    }

    private static string Bounded(string text) => text.Length <= 200 ? text : text[..200];
}
