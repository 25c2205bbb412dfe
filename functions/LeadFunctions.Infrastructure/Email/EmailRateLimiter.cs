using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// A sliding-window limit of sends per minute and per hour (ACS starts at about 30 and 100). Callers over the limit
/// wait for the oldest send in the window to age out instead of failing, so a timer run simply takes longer.
/// One instance per process; with several instances each keeps its own count, and 429 + Retry-After covers the rest.
/// </summary>
public sealed partial class EmailRateLimiter
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly int _perMinute;
    private readonly int _perHour;
    private readonly TimeProvider _time;
    private readonly ILogger<EmailRateLimiter> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<DateTimeOffset> _sent = [];

    public EmailRateLimiter(int maxPerMinute, int maxPerHour, TimeProvider time, ILogger<EmailRateLimiter> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerMinute, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerHour, 1);
        _perMinute = maxPerMinute;
        _perHour = maxPerHour;
        _time = time;
        _logger = logger;
    }

    /// <summary>Returns once a send may start, having counted it.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        // Waiters queue on the gate, so they are served in turn and the window is never overrun by a race.
        await _gate.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var now = _time.GetUtcNow();
                var wait = TimeUntilFree(now);
                if (wait <= TimeSpan.Zero)
                {
                    _sent.Add(now);
                    return;
                }

                LogThrottled(_logger, wait);
                await Task.Delay(wait, _time, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private TimeSpan TimeUntilFree(DateTimeOffset now)
    {
        _sent.RemoveAll(sent => sent <= now - Hour);

        var wait = TimeSpan.Zero;
        // The window frees when the send that filled it is a full window old.
        if (_sent.Count >= _perHour)
            wait = _sent[_sent.Count - _perHour] + Hour - now;

        var firstInMinute = _sent.FindIndex(sent => sent > now - Minute);
        var inLastMinute = firstInMinute < 0 ? 0 : _sent.Count - firstInMinute;
        if (inLastMinute >= _perMinute)
        {
            var minuteWait = _sent[_sent.Count - _perMinute] + Minute - now;
            if (minuteWait > wait)
                wait = minuteWait;
        }

        return wait;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail rate limit reached; waiting {Delay} before the next send")]
    private static partial void LogThrottled(ILogger logger, TimeSpan delay);
}
