using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// A sliding-window quota of sends per minute and per hour (ACS starts custom domains at about 30 and 100). A send over
/// the quota is refused at once rather than held: a held send would age its repeatability window, and would keep the
/// timer run waiting towards its timeout. The outbox stops the run and leaves the rest due for the next one.
/// One instance per process; with several instances each keeps its own count, and 429 + Retry-After covers the rest.
/// </summary>
public sealed partial class EmailRateLimiter
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly int _perMinute;
    private readonly int _perHour;
    private readonly int _reservedPerHour;
    private readonly TimeProvider _time;
    private readonly ILogger<EmailRateLimiter> _logger;
    private readonly Lock _gate = new();
    private readonly List<DateTimeOffset> _sent = [];

    public EmailRateLimiter(int maxPerMinute, int maxPerHour, TimeProvider time, ILogger<EmailRateLimiter> logger, int reservedPerHour = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerMinute, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerHour, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(reservedPerHour);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(reservedPerHour, maxPerHour);
        _perMinute = maxPerMinute;
        _perHour = maxPerHour;
        _reservedPerHour = reservedPerHour;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Counts a send and returns true if the quota has room; otherwise returns false and how long until it has. A marketing
    /// send must leave the hourly reserve free.
    /// </summary>
    public bool TryAcquire(out TimeSpan freeIn, bool marketing = false)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            freeIn = TimeUntilFree(now, marketing ? _perHour - _reservedPerHour : _perHour);
            if (freeIn <= TimeSpan.Zero)
            {
                _sent.Add(now);
                freeIn = TimeSpan.Zero;
                return true;
            }
        }

        LogQuotaSpent(_logger, freeIn);
        return false;
    }

    private TimeSpan TimeUntilFree(DateTimeOffset now, int perHour)
    {
        _sent.RemoveAll(sent => sent <= now - Hour);

        var wait = TimeSpan.Zero;
        // The window frees when the send that filled it is a full window old.
        if (_sent.Count >= perHour)
            wait = _sent[_sent.Count - perHour] + Hour - now;

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

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail quota spent; the next send is allowed in {Delay}")]
    private static partial void LogQuotaSpent(ILogger logger, TimeSpan delay);
}
