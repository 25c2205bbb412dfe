using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>Which budget a request draws on.</summary>
public enum RateLimitPolicy
{
    Forms,
    Events,
    Links,
    StageChanges,
    Webhooks,
}

/// <summary>Whether a request may go on, and if not, when to try again.</summary>
public readonly record struct RateLimitDecision(bool Allowed, int RetryAfterSeconds)
{
    public static readonly RateLimitDecision Allow = new(true, 0);
}

/// <summary>
/// The in-process limits of the anonymous endpoints: fixed windows from <see cref="System.Threading.RateLimiting"/>, one
/// per client address and policy, and one per e-mail address (keyed by a hash of the normalised address, which is never
/// logged). Memory is bounded: see <see cref="BoundedPartitionedLimiter"/>.
/// </summary>
public sealed partial class CaptureRateLimiter : IDisposable
{
    /// <summary>The partition every request without a usable address shares.</summary>
    public const string UnknownClient = "unknown";

    private readonly RateLimitOptions _options;
    private readonly Dictionary<RateLimitPolicy, BoundedPartitionedLimiter> _clients;
    private readonly BoundedPartitionedLimiter _emails;

    public CaptureRateLimiter(IOptions<RateLimitOptions> options, TimeProvider time, ILogger<CaptureRateLimiter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var max = _options.MaxPartitions;
        _clients = new Dictionary<RateLimitPolicy, BoundedPartitionedLimiter>
        {
            [RateLimitPolicy.Forms] = new("forms", _options.Forms, max, time, logger),
            [RateLimitPolicy.Events] = new("events", _options.Events, max, time, logger),
            [RateLimitPolicy.Links] = new("links", _options.Links, max, time, logger),
            [RateLimitPolicy.StageChanges] = new("stage-changes", _options.StageChanges, max, time, logger),
            [RateLimitPolicy.Webhooks] = new("webhooks", _options.Webhooks, max, time, logger),
        };
        _emails = new BoundedPartitionedLimiter("email", _options.Email, max, time, logger);
    }

    /// <summary>Draws one request of <paramref name="policy"/> from the budget of the request's client address.</summary>
    public RateLimitDecision AcquireForClient(RateLimitPolicy policy, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _options.Enabled ? _clients[policy].Acquire(ClientKey(request, _options.ForwardedForHops)) : RateLimitDecision.Allow;
    }

    /// <summary>Draws one request from the budget of a normalised e-mail address.</summary>
    public RateLimitDecision AcquireForEmail(string normalizedEmail)
    {
        ArgumentException.ThrowIfNullOrEmpty(normalizedEmail);
        return _options.Enabled ? _emails.Acquire(EmailKey(normalizedEmail)) : RateLimitDecision.Allow;
    }

    /// <summary>Partitions in use per limit, for tests and diagnostics.</summary>
    internal int PartitionCount(RateLimitPolicy policy) => _clients[policy].PartitionCount;

    internal int EmailPartitionCount => _emails.PartitionCount;

    /// <summary>
    /// The client's address as the partition key. Under Azure Functions the worker sees the host, not the client: the
    /// platform's front end appends the address it accepted the connection from to <c>X-Forwarded-For</c> (entries to its
    /// left came from the client and prove nothing), so the client is <paramref name="forwardedForHops"/> entries from the
    /// right. Without the header (the local host, a direct connection) it is the connection's remote address. IPv6
    /// clients are keyed by their /64, which one subscriber usually holds whole.
    /// </summary>
    public static string ClientKey(HttpRequest request, int forwardedForHops)
    {
        ArgumentNullException.ThrowIfNull(request);
        IPAddress? address = null;
        if (forwardedForHops > 0)
        {
            var entries = request.Headers["X-Forwarded-For"]
                .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .ToList();
            if (entries.Count > 0)
                address = ParseAddress(entries[Math.Max(0, entries.Count - forwardedForHops)]);
        }
        address ??= request.HttpContext.Connection.RemoteIpAddress;
        return address is null ? UnknownClient : AddressKey(address);
    }

    /// <summary>A SHA-256 of the address: the limiter keeps no e-mail address in memory, and logs none.</summary>
    public static string EmailKey(string normalizedEmail) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedEmail)), 0, 16);

    private static IPAddress? ParseAddress(string entry)
    {
        // The App Service front end writes "203.0.113.7:52114" (with the client's port); proxies write bare addresses.
        if (IPEndPoint.TryParse(entry, out var endpoint))
            return endpoint.Address;
        return IPAddress.TryParse(entry.Trim('[', ']'), out var address) ? address : null;
    }

    private static string AddressKey(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        return Convert.ToHexString(bytes, 0, 8).ToLowerInvariant() + "/64";
    }

    public void Dispose()
    {
        foreach (var limiter in _clients.Values)
            limiter.Dispose();
        _emails.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit {Limit}: {Partitions} partitions in use, none idle; new clients share one overflow window")]
    internal static partial void LogOverflow(ILogger logger, string limit, int partitions);
}

/// <summary>
/// A fixed-window limiter per key with a bounded number of keys. <see cref="PartitionedRateLimiter"/> keeps every key
/// for ten seconds after its last use, however many there are, so a flood of distinct keys would grow it without bound;
/// here at most <c>maxPartitions</c> are kept. When the table is full, keys idle for a whole window are dropped (their
/// window is over, so nothing is forgotten); if none is idle, new keys share one overflow window until some are. The
/// limiters replenish lazily on use (no timers), and idleness is judged by <see cref="TimeProvider"/>.
/// </summary>
internal sealed class BoundedPartitionedLimiter : IDisposable
{
    private readonly string _name;
    private readonly FixedWindowRateLimiterOptions _limiterOptions;
    private readonly long _windowTicks;
    private readonly int _maxPartitions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Partition> _partitions = new(StringComparer.Ordinal);
    private readonly Partition _overflow;
    private readonly Lock _gate = new();
    private long _nextSweepTicks;
    private long _nextOverflowLogTicks;

    public BoundedPartitionedLimiter(string name, RateLimitRule rule, int maxPartitions, TimeProvider time, ILogger logger)
    {
        _name = name;
        _limiterOptions = new FixedWindowRateLimiterOptions
        {
            PermitLimit = rule.PermitLimit,
            Window = TimeSpan.FromSeconds(rule.WindowSeconds),
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        _windowTicks = _limiterOptions.Window.Ticks;
        _maxPartitions = maxPartitions;
        _time = time;
        _logger = logger;
        _overflow = new Partition(new FixedWindowRateLimiter(_limiterOptions));
    }

    public int PartitionCount => _partitions.Count;

    public RateLimitDecision Acquire(string key)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var partition = _partitions.TryGetValue(key, out var existing) ? existing : Add(key, now);
        Interlocked.Exchange(ref partition.LastUsedTicks, now);

        // AutoReplenishment is off so that no key owns a timer; replenishing here is a no-op until its window has passed.
        partition.Limiter.TryReplenish();
        using var lease = partition.Limiter.AttemptAcquire();
        if (lease.IsAcquired)
            return RateLimitDecision.Allow;
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : _limiterOptions.Window;
        return new RateLimitDecision(false, Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)));
    }

    private Partition Add(string key, long now)
    {
        lock (_gate)
        {
            if (_partitions.TryGetValue(key, out var existing))
                return existing;
            if (_partitions.Count >= _maxPartitions && now >= _nextSweepTicks)
            {
                // At most one sweep a second: under a flood of new keys a sweep per request would cost O(partitions) each.
                _nextSweepTicks = now + TimeSpan.TicksPerSecond;
                foreach (var (idleKey, idle) in _partitions)
                {
                    if (now - Interlocked.Read(ref idle.LastUsedTicks) >= _windowTicks)
                        _partitions.TryRemove(idleKey, out _);
                }
            }
            if (_partitions.Count >= _maxPartitions)
            {
                if (now >= _nextOverflowLogTicks)
                {
                    _nextOverflowLogTicks = now + _windowTicks;
                    CaptureRateLimiter.LogOverflow(_logger, _name, _partitions.Count);
                }
                return _overflow;
            }
            var created = new Partition(new FixedWindowRateLimiter(_limiterOptions));
            _partitions[key] = created;
            return created;
        }
    }

    public void Dispose()
    {
        foreach (var partition in _partitions.Values)
            partition.Limiter.Dispose();
        _partitions.Clear();
        _overflow.Limiter.Dispose();
    }

    /// <summary>A removed partition is not disposed: a request may still be using it, and without a timer it holds nothing but memory.</summary>
    private sealed class Partition(FixedWindowRateLimiter limiter)
    {
        public readonly FixedWindowRateLimiter Limiter = limiter;
        public long LastUsedTicks;
    }
}
