using System.Collections.Concurrent;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Nurture;

[Collection(AzuriteCollection.Name)]
public sealed class ExactlyOnceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Two_runs_at_once_send_each_email_exactly_once()
    {
        // Arrange: twenty leads due now, and a sender that counts every delivery it is asked for.
        var counting = new CountingSender();
        await using var harness = new NurtureHarness(azurite, wrapSender: inner => counting.Wrap(inner));
        for (var i = 0; i < 20; i++)
        {
            var lead = NurtureLeads.New($"race{i}@example.com", harness.Time.GetUtcNow());
            harness.Leads.Put(lead);
            await harness.MoveAsync(lead, LifecycleStage.Mql);
        }

        // Act
        var results = await Task.WhenAll(Task.Run(harness.RunAsync), Task.Run(harness.RunAsync));
        await harness.RunAsync();

        // Assert
        Assert.Equal(20, harness.EmlFiles().Length);
        Assert.Equal(20, counting.Sends.Count);
        Assert.All(counting.Sends.GroupBy(id => id), g => Assert.Single(g));
        Assert.Equal(20, results.Sum(r => r.Sent));
    }

    [Fact]
    public async Task A_run_that_dies_after_sending_leaves_a_claim_a_later_run_takes_over_without_a_second_email()
    {
        // Arrange: the first delivery goes out, then the process "dies" before the outbox records it.
        var counting = new CountingSender { DieAfterFirstSend = true };
        await using var harness = new NurtureHarness(azurite, wrapSender: inner => counting.Wrap(inner));
        var lead = NurtureLeads.New("crash@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        // Act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(harness.RunAsync);
        var whileClaimed = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(301));
        var afterLease = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        var later = await harness.RunAsync();

        // Assert: the retry reused the message id, so the outbox folder holds one message; nothing more was sent after.
        Assert.Equal(1, whileClaimed.Waiting);
        Assert.Equal(0, whileClaimed.Sent);
        Assert.Equal(1, afterLease.Sent);
        Assert.Equal(0, later.Sent);
        Assert.Single(harness.EmlFiles());
        Assert.Equal(2, counting.Sends.Count);
        Assert.Single(counting.Sends.Distinct());
        Assert.Single(counting.FirstAttempts.Distinct());
    }

    [Fact]
    public async Task A_failed_send_is_retried_by_the_next_run_and_then_sent_once()
    {
        // Arrange
        var counting = new CountingSender { FailFirstSend = true };
        await using var harness = new NurtureHarness(azurite, wrapSender: inner => counting.Wrap(inner));
        var lead = NurtureLeads.New("flaky@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        // Act
        var failed = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var retried = await harness.RunAsync();

        // Assert
        Assert.Equal(1, failed.Failed);
        Assert.Equal(1, retried.Sent);
        Assert.Single(harness.EmlFiles());
    }

    /// <summary>Wraps the real folder sender to count deliveries and to simulate a crash or an outage.</summary>
    internal sealed class CountingSender
    {
        public ConcurrentQueue<string> Sends { get; } = new();
        public ConcurrentQueue<DateTimeOffset?> FirstAttempts { get; } = new();
        public bool DieAfterFirstSend { get; init; }
        public bool FailFirstSend { get; init; }

        public IEmailSender Wrap(IEmailSender inner) => new Sender(this, inner);

        private sealed class Sender(CountingSender owner, IEmailSender inner) : IEmailSender
        {
            private int _calls;

            public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
            {
                var call = Interlocked.Increment(ref _calls);
                if (owner.FailFirstSend && call == 1)
                    throw new IOException("The mail server is unreachable.");
                await inner.SendAsync(message, cancellationToken);
                owner.Sends.Enqueue(message.Id);
                owner.FirstAttempts.Enqueue(message.FirstAttemptAt);
                if (owner.DieAfterFirstSend && call == 1)
                    throw new OperationCanceledException("The host was stopped after the message went out.");
            }
        }
    }
}
