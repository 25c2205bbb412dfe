using System.Globalization;
using Azure;
using Azure.Core;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Email.Acs;

/// <summary>
/// How long the SDK's <see cref="Azure.Core.Pipeline.RetryPolicy"/> waits before retrying a send: the larger of an
/// exponential back-off and what the service asked for (<c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>, or
/// <c>Retry-After</c> in seconds or as an HTTP date), logged so a throttled run explains its pauses.
/// </summary>
internal sealed partial class AcsDelayStrategy(TimeSpan initialDelay, TimeSpan maxDelay, TimeProvider time, ILogger logger)
    : DelayStrategy(maxDelay, jitterFactor: 0)
{
    protected override TimeSpan GetNextDelayCore(Response? response, int retryNumber)
    {
        // The jitter applies to our own back-off only; the service's Retry-After is honoured as given.
        var backoff = TimeSpan.FromTicks((long)(initialDelay.Ticks * Math.Pow(2, Math.Max(0, retryNumber - 1)) * (0.8 + (Random.Shared.NextDouble() * 0.4))));
        if (backoff > maxDelay)
            backoff = maxDelay;
        var server = ServerDelay(response, time.GetUtcNow());
        var delay = server > backoff ? server : backoff;
        LogRetrying(logger, response?.Status ?? 0, retryNumber, delay);
        return delay;
    }

    internal static TimeSpan ServerDelay(Response? response, DateTimeOffset now)
    {
        if (response is null)
            return TimeSpan.Zero;
        if (TryMilliseconds(response, "retry-after-ms", out var delay) || TryMilliseconds(response, "x-ms-retry-after-ms", out delay))
            return delay;
        if (response.Headers.TryGetValue("Retry-After", out var retryAfter))
        {
            if (int.TryParse(retryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                return TimeSpan.FromSeconds(seconds);
            if (DateTimeOffset.TryParseExact(retryAfter, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at > now)
                return at - now;
        }

        return TimeSpan.Zero;
    }

    private static bool TryMilliseconds(Response response, string header, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (!response.Headers.TryGetValue(header, out var value) || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            return false;
        delay = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "ACS e-mail send answered {Status}; retry {RetryNumber} in {Delay}")]
    private static partial void LogRetrying(ILogger logger, int status, int retryNumber, TimeSpan delay);
}
