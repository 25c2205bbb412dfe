using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Email;

public sealed class EmailRateLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void The_send_after_the_per_minute_limit_is_refused_until_the_oldest_one_is_a_minute_old()
    {
        var limiter = new EmailRateLimiter(maxPerMinute: 3, maxPerHour: 100, _time, new ListLogger<EmailRateLimiter>());
        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.TryAcquire(out _));
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.False(limiter.TryAcquire(out var freeIn));
        Assert.Equal(TimeSpan.FromSeconds(30), freeIn);
        _time.Advance(TimeSpan.FromSeconds(29)); // 59 s after the first send
        Assert.False(limiter.TryAcquire(out _));
        _time.Advance(TimeSpan.FromSeconds(1)); // the first send leaves the window

        Assert.True(limiter.TryAcquire(out _));
        Assert.False(limiter.TryAcquire(out _)); // the second send is still inside the window
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(limiter.TryAcquire(out _));
    }

    [Fact]
    public void The_hourly_limit_holds_even_when_each_minute_is_under_its_own()
    {
        var limiter = new EmailRateLimiter(maxPerMinute: 30, maxPerHour: 2, _time, new ListLogger<EmailRateLimiter>());
        Assert.True(limiter.TryAcquire(out _));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(limiter.TryAcquire(out _));
        _time.Advance(TimeSpan.FromMinutes(5));

        _time.Advance(TimeSpan.FromMinutes(49));
        Assert.False(limiter.TryAcquire(out _));
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.True(limiter.TryAcquire(out _));
    }

    [Fact]
    public void Marketing_sends_leave_the_hourly_reserve_to_transactional_ones()
    {
        var limiter = new EmailRateLimiter(maxPerMinute: 30, maxPerHour: 3, _time, new ListLogger<EmailRateLimiter>(), reservedPerHour: 1);
        Assert.True(limiter.TryAcquire(out _, marketing: true));
        Assert.True(limiter.TryAcquire(out _, marketing: true));

        Assert.False(limiter.TryAcquire(out _, marketing: true));
        Assert.True(limiter.TryAcquire(out _, marketing: false));
        Assert.False(limiter.TryAcquire(out _, marketing: false));
    }

    [Fact]
    public async Task The_throttled_sender_refuses_the_message_over_the_limit_without_sending_it()
    {
        var inner = new CountingSender();
        var sender = new ThrottledEmailSender(inner, new EmailRateLimiter(maxPerMinute: 2, maxPerHour: 100, _time, new ListLogger<EmailRateLimiter>()));

        await sender.SendAsync(TestEmails.Nurture("a"), CancellationToken.None);
        await sender.SendAsync(TestEmails.Nurture("b"), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<EmailQuotaExceededException>(() => sender.SendAsync(TestEmails.Nurture("c"), CancellationToken.None));

        Assert.Equal(["a", "b"], inner.Sent);
        Assert.Equal(TimeSpan.FromMinutes(1), refused.FreeIn);
        _time.Advance(TimeSpan.FromMinutes(1));
        await sender.SendAsync(TestEmails.Nurture("c"), CancellationToken.None);
        Assert.Equal(["a", "b", "c"], inner.Sent);
    }

    private sealed class CountingSender : IEmailSender
    {
        private readonly List<string> _sent = [];

        public IReadOnlyList<string> Sent
        {
            get
            {
                lock (_sent)
                    return [.. _sent];
            }
        }

        public Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
        {
            lock (_sent)
                _sent.Add(message.Id);
            return Task.CompletedTask;
        }
    }
}
