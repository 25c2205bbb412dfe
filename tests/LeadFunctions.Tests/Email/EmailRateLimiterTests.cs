using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Email;

public sealed class EmailRateLimiterTests
{
    // Only a guard against a hung test; no assertion depends on how long anything takes.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task The_send_after_the_per_minute_limit_waits_until_the_oldest_one_is_a_minute_old()
    {
        var limiter = new EmailRateLimiter(maxPerMinute: 3, maxPerHour: 100, _time, new ListLogger<EmailRateLimiter>());
        for (var i = 0; i < 3; i++)
        {
            await limiter.WaitAsync(CancellationToken.None).WaitAsync(Guard);
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        var fourth = limiter.WaitAsync(CancellationToken.None);
        Assert.False(fourth.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(29)); // 59 s after the first send
        Assert.False(fourth.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1)); // the first send leaves the window

        await fourth.WaitAsync(Guard);
        var fifth = limiter.WaitAsync(CancellationToken.None);
        Assert.False(fifth.IsCompleted); // the second send is still inside the window
        _time.Advance(TimeSpan.FromSeconds(10));
        await fifth.WaitAsync(Guard);
    }

    [Fact]
    public async Task The_hourly_limit_holds_even_when_each_minute_is_under_its_own()
    {
        var limiter = new EmailRateLimiter(maxPerMinute: 30, maxPerHour: 2, _time, new ListLogger<EmailRateLimiter>());
        await limiter.WaitAsync(CancellationToken.None).WaitAsync(Guard);
        _time.Advance(TimeSpan.FromMinutes(5));
        await limiter.WaitAsync(CancellationToken.None).WaitAsync(Guard);
        _time.Advance(TimeSpan.FromMinutes(5));

        var third = limiter.WaitAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(49));
        Assert.False(third.IsCompleted);
        _time.Advance(TimeSpan.FromMinutes(1));

        await third.WaitAsync(Guard);
    }

    [Fact]
    public async Task A_waiting_send_can_be_cancelled()
    {
        var limiter = new EmailRateLimiter(maxPerMinute: 1, maxPerHour: 100, _time, new ListLogger<EmailRateLimiter>());
        await limiter.WaitAsync(CancellationToken.None).WaitAsync(Guard);
        using var cancel = new CancellationTokenSource();

        var waiting = limiter.WaitAsync(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Guard));
    }

    [Fact]
    public async Task The_throttled_sender_holds_the_message_over_the_limit_and_then_delivers_it()
    {
        var inner = new CountingSender();
        var sender = new ThrottledEmailSender(inner, new EmailRateLimiter(maxPerMinute: 2, maxPerHour: 100, _time, new ListLogger<EmailRateLimiter>()));

        await sender.SendAsync(TestEmails.Nurture("a"), CancellationToken.None).WaitAsync(Guard);
        await sender.SendAsync(TestEmails.Nurture("b"), CancellationToken.None).WaitAsync(Guard);
        var third = sender.SendAsync(TestEmails.Nurture("c"), CancellationToken.None);

        Assert.Equal(["a", "b"], inner.Sent);
        _time.Advance(TimeSpan.FromMinutes(1));
        await third.WaitAsync(Guard);
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
