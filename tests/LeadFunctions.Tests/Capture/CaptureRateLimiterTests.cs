using System.Net;
using LeadFunctions.Infrastructure.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Capture;

public sealed class CaptureRateLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 2, 9, 30, 0, TimeSpan.Zero));

    private CaptureRateLimiter Limiter(int maxPartitions = 100, int permits = 2, int windowSeconds = 60) =>
        new(Options.Create(new RateLimitOptions
        {
            MaxPartitions = maxPartitions,
            Forms = new RateLimitRule { PermitLimit = permits, WindowSeconds = windowSeconds },
            Email = new RateLimitRule { PermitLimit = permits, WindowSeconds = windowSeconds },
        }), _time, NullLogger<CaptureRateLimiter>.Instance);

    private static HttpRequest Request(string? forwardedFor = null, string? remote = null)
    {
        var context = new DefaultHttpContext();
        if (forwardedFor is not null)
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        if (remote is not null)
            context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        return context.Request;
    }

    [Theory]
    [InlineData("203.0.113.7:51234", 1, "203.0.113.7")]
    [InlineData("203.0.113.7", 1, "203.0.113.7")]
    [InlineData("1.2.3.4, 203.0.113.7:51234", 1, "203.0.113.7")]
    [InlineData("198.51.100.9, 203.0.113.7", 2, "198.51.100.9")]
    [InlineData("203.0.113.7", 2, "203.0.113.7")]
    [InlineData("[2001:db8:aa:bb:1:2:3:4]:443", 1, "20010db800aa00bb/64")]
    [InlineData("2001:db8:aa:bb::9", 1, "20010db800aa00bb/64")]
    [InlineData("::ffff:203.0.113.7", 1, "203.0.113.7")]
    public void The_client_is_the_entry_the_trusted_proxies_appended_to_x_forwarded_for(string forwardedFor, int hops, string expected)
    {
        Assert.Equal(expected, CaptureRateLimiter.ClientKey(Request(forwardedFor, remote: "10.0.0.1"), hops));
    }

    [Fact]
    public void Without_a_usable_header_the_connection_address_is_the_client()
    {
        Assert.Equal("127.0.0.1", CaptureRateLimiter.ClientKey(Request(remote: "127.0.0.1"), 1));
        Assert.Equal("127.0.0.1", CaptureRateLimiter.ClientKey(Request("not-an-address", remote: "127.0.0.1"), 1));
        Assert.Equal("127.0.0.1", CaptureRateLimiter.ClientKey(Request("203.0.113.7", remote: "127.0.0.1"), 0));
        Assert.Equal(CaptureRateLimiter.UnknownClient, CaptureRateLimiter.ClientKey(Request(), 1));
    }

    [Fact]
    public void The_e_mail_key_is_a_hash_not_the_address()
    {
        var key = CaptureRateLimiter.EmailKey("ada@example.com");

        Assert.DoesNotContain("ada", key, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(32, key.Length);
        Assert.Equal(key, CaptureRateLimiter.EmailKey("ada@example.com"));
    }

    [Fact]
    public void A_flood_of_distinct_clients_never_holds_more_partitions_than_the_bound_and_the_overflow_is_limited_too()
    {
        // Arrange
        using var limiter = Limiter(maxPartitions: 100, permits: 2);
        for (var i = 0; i < 100; i++)
            Assert.True(limiter.AcquireForClient(RateLimitPolicy.Forms, Request($"10.0.{i / 256}.{i % 256}")).Allowed);

        // Act: a thousand more addresses while every known one is still inside its window.
        var overflow = Enumerable.Range(0, 1000)
            .Select(i => limiter.AcquireForClient(RateLimitPolicy.Forms, Request($"172.16.{i / 256}.{i % 256}")))
            .ToList();

        // Assert
        Assert.Equal(100, limiter.PartitionCount(RateLimitPolicy.Forms));
        Assert.Equal(2, overflow.Count(d => d.Allowed));
        Assert.All(overflow.Where(d => !d.Allowed), d => Assert.InRange(d.RetryAfterSeconds, 1, 60));
    }

    [Fact]
    public void Clients_idle_for_a_whole_window_make_room_for_new_ones()
    {
        // Arrange
        using var limiter = Limiter(maxPartitions: 100, permits: 1, windowSeconds: 60);
        for (var i = 0; i < 100; i++)
            limiter.AcquireForClient(RateLimitPolicy.Forms, Request($"10.0.0.{i}"));
        Assert.True(limiter.AcquireForClient(RateLimitPolicy.Forms, Request("192.0.2.1")).Allowed); // the overflow window
        Assert.False(limiter.AcquireForClient(RateLimitPolicy.Forms, Request("192.0.2.2")).Allowed);

        // Act
        _time.Advance(TimeSpan.FromSeconds(61));
        var newcomer = limiter.AcquireForClient(RateLimitPolicy.Forms, Request("192.0.2.3"));

        // Assert
        Assert.True(newcomer.Allowed);
        Assert.Equal(1, limiter.PartitionCount(RateLimitPolicy.Forms));
    }

    [Fact]
    public void The_e_mail_limit_is_bounded_the_same_way()
    {
        // Arrange
        using var limiter = Limiter(maxPartitions: 100, permits: 1);

        // Act
        for (var i = 0; i < 500; i++)
            limiter.AcquireForEmail($"lead{i}@example.com");

        // Assert
        Assert.Equal(100, limiter.EmailPartitionCount);
    }
}
