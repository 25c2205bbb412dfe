using System.Net.Http.Headers;
using System.Text;
using LeadFunctions.Domain.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>What one run did, in counts.</summary>
public sealed record WebhookRunResult(int Delivered, int Retried, int Dead, int Dropped, int Waiting, bool StoppedEarly);

public interface IWebhookDeliverer
{
    Task<WebhookRunResult> RunOnceAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Delivers what is due. Subscriptions are served side by side (up to <see cref="WebhookOptions.MaxConcurrency"/>), each one's
/// deliveries in order; a receiver that fails or times out is left alone for the rest of the run after that one attempt, so a
/// dead or slow receiver costs the run one timeout and never holds up another subscription. Each failure moves only its own
/// delivery later (exponential back-off with jitter, capped, Retry-After honoured within the cap); after
/// <see cref="WebhookOptions.MaxAttempts"/> failures, or at once for a permanent refusal, the delivery is dead-lettered with its
/// last status and reason, listed and replayable. A run stops starting deliveries after its budget and its batch bound.
/// </summary>
internal sealed partial class WebhookDeliverer(
    WebhookStore store,
    WebhookConfiguration configuration,
    IHttpClientFactory httpClients,
    IOptions<WebhookOptions> options,
    WebhookMetrics metrics,
    TimeProvider time,
    ILogger<WebhookDeliverer> logger) : IWebhookDeliverer
{
    public const string HttpClientName = "webhooks";
    public const string EventIdHeader = "X-LeadFunctions-Event-Id";
    public const string EventTypeHeader = "X-LeadFunctions-Event-Type";
    public const string DeliveryIdHeader = "X-LeadFunctions-Delivery-Id";

    /// <summary>How soon a delivery whose stage change is not committed yet is looked at again.</summary>
    private static readonly TimeSpan CommitPoll = TimeSpan.FromSeconds(30);

    private WebhookOptions Options => options.Value;

    private enum Outcome { Delivered, Retried, Dead, Dropped, Waiting, Skipped }

    public async Task<WebhookRunResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var budget = TimeSpan.FromSeconds(Options.RunBudgetSeconds);
        var remaining = Options.MaxDeliveriesPerRun;
        var counts = new int[Enum.GetValues<Outcome>().Length];
        var stoppedEarly = 0;

        await Parallel.ForEachAsync(configuration.Catalogue.Subscriptions,
            new ParallelOptions { MaxDegreeOfParallelism = Options.MaxConcurrency, CancellationToken = cancellationToken },
            async (subscription, ct) =>
            {
                var due = await store.DueAsync(subscription.Id, time.GetUtcNow(), Math.Min(Options.MaxDeliveriesPerSubscription, Math.Max(0, Volatile.Read(ref remaining))), ct);
                foreach (var item in due)
                {
                    if (time.GetElapsedTime(started) >= budget || Interlocked.Decrement(ref remaining) < 0)
                    {
                        Interlocked.Exchange(ref stoppedEarly, 1);
                        break;
                    }
                    var (outcome, receiverFailing) = await DeliverAsync(subscription, item, ct);
                    Interlocked.Increment(ref counts[(int)outcome]);
                    if (receiverFailing)
                    {
                        LogSubscriptionPaused(logger, subscription.Id);
                        break;
                    }
                }
            });

        var result = new WebhookRunResult(counts[(int)Outcome.Delivered], counts[(int)Outcome.Retried], counts[(int)Outcome.Dead],
            counts[(int)Outcome.Dropped], counts[(int)Outcome.Waiting], stoppedEarly == 1);
        if (result.Delivered + result.Retried + result.Dead + result.Dropped > 0)
            LogRun(logger, result.Delivered, result.Retried, result.Dead, result.Dropped, result.Waiting);
        return result;
    }

    /// <returns>What happened, and whether the receiver is failing (so the run leaves the rest of its deliveries for later).</returns>
    private async Task<(Outcome, bool ReceiverFailing)> DeliverAsync(WebhookSubscription subscription, WebhookIndexEntity due, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var record = await store.FindRecordAsync(due.LeadId, due.DeliveryId, cancellationToken);
        if (record is null)
        {
            // Erased with its lead (or never written): nothing to send, and nothing about the person may go out now.
            await store.CompleteAsync(due, cancellationToken);
            LogDropped(logger, due.DeliveryId, due.LeadId, "the delivery record is gone (the lead was erased)");
            return (Outcome.Dropped, false);
        }
        if (record.Status != WebhookDeliveryStatus.Pending || record.Body is null)
        {
            await store.CompleteAsync(due, cancellationToken);
            return (Outcome.Skipped, false);
        }

        if (!record.Committed)
        {
            if (await store.IsCommittedAsync(record, cancellationToken))
            {
                record.Committed = true;
            }
            else if (await store.IsErasedAsync(record.PartitionKey, cancellationToken) || now >= record.TransitionAt + TimeSpan.FromSeconds(Options.CommitGraceSeconds))
            {
                record.Status = WebhookDeliveryStatus.Dropped;
                record.Body = null;
                record.LastError = "the stage change was never committed, or the lead was erased";
                await store.TryUpdateAsync(record, cancellationToken);
                await store.CompleteAsync(due, cancellationToken);
                LogDropped(logger, record.DeliveryId, record.PartitionKey, record.LastError);
                return (Outcome.Dropped, false);
            }
            else
            {
                await store.MoveAsync(record, due, now + CommitPoll, cancellationToken);
                return (Outcome.Waiting, false);
            }
        }

        if (!await store.TryClaimAsync(record, now, TimeSpan.FromSeconds(Options.ClaimLeaseSeconds), cancellationToken))
            return (Outcome.Skipped, false);

        var attempt = await PostAsync(subscription, record, cancellationToken);
        now = time.GetUtcNow();
        record.Attempts++;
        record.LastAttemptAt = now;
        record.LastStatus = attempt.Status;
        record.ClaimedUntil = null;

        if (attempt.Verdict == WebhookAttemptVerdict.Delivered)
        {
            record.Status = WebhookDeliveryStatus.Delivered;
            record.DeliveredAt = now;
            record.LastError = null;
            // The receiver has it: the body is not kept (it may hold a profile), the small record stops a replayed transition resending.
            record.Body = null;
            await store.TryUpdateAsync(record, cancellationToken);
            await store.CompleteAsync(due, cancellationToken);
            metrics.Delivered(subscription.Id, record.EventType);
            LogDelivered(logger, record.DeliveryId, record.PartitionKey, subscription.Id, attempt.Status ?? 0, record.Attempts);
            return (Outcome.Delivered, false);
        }

        record.LastError = WebhookIndexEntity.Bounded(attempt.Reason);
        var permanent = attempt.Verdict == WebhookAttemptVerdict.Permanent;
        if (permanent || record.Attempts >= Options.MaxAttempts)
        {
            record.Status = WebhookDeliveryStatus.Dead;
            if (!permanent)
                record.LastError = WebhookIndexEntity.Bounded($"{record.Attempts} attempts failed; the last: {attempt.Reason}");
            await store.TryUpdateAsync(record, cancellationToken);
            await store.BuryAsync(record, due, now, cancellationToken);
            metrics.Dead(subscription.Id, record.EventType, permanent);
            LogDead(logger, record.DeliveryId, record.PartitionKey, subscription.Id, record.Attempts, record.LastError);
            return (Outcome.Dead, !permanent);
        }

        var delay = WebhookRetryPolicy.NextDelay(record.Attempts, TimeSpan.FromSeconds(Options.RetryDelaySeconds),
            TimeSpan.FromSeconds(Options.MaxRetryDelaySeconds), attempt.RetryAfter, Random.Shared.NextDouble());
        await store.TryUpdateAsync(record, cancellationToken);
        await store.MoveAsync(record, due, now + delay, cancellationToken);
        metrics.Retried(subscription.Id, record.EventType);
        LogRetry(logger, record.DeliveryId, record.PartitionKey, subscription.Id, record.Attempts, attempt.Reason, now + delay);
        return (Outcome.Retried, true);
    }

    private sealed record Attempt(WebhookAttemptVerdict Verdict, int? Status, string Reason, TimeSpan? RetryAfter);

    private async Task<Attempt> PostAsync(WebhookSubscription subscription, WebhookRecordEntity record, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(record.Body!);
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        // Signed now, over the exact bytes sent: the receiver checks the timestamp is recent, and a retry is a fresh signature.
        request.Headers.Add(Domain.Webhooks.WebhookSignature.HeaderName, Domain.Webhooks.WebhookSignature.Sign(configuration.SecretOf(subscription), time.GetUtcNow(), body));
        request.Headers.Add(EventIdHeader, record.EventId);
        request.Headers.Add(EventTypeHeader, record.EventType);
        request.Headers.Add(DeliveryIdHeader, record.DeliveryId);
        var client = httpClients.CreateClient(HttpClientName);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            var verdict = WebhookRetryPolicy.Classify(status);
            var location = response.Headers.Location is { IsAbsoluteUri: true } target ? target.GetLeftPart(UriPartial.Path) : response.Headers.Location?.OriginalString;
            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date > time.GetUtcNow() ? date - time.GetUtcNow() : TimeSpan.Zero,
                _ => (TimeSpan?)null,
            };
            return new Attempt(verdict, status, WebhookRetryPolicy.Describe(status, location), verdict == WebhookAttemptVerdict.Retry ? retryAfter : null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Attempt(WebhookAttemptVerdict.Retry, null, $"no answer within {Options.TimeoutSeconds} s", null);
        }
        catch (HttpRequestException ex)
        {
            return new Attempt(WebhookAttemptVerdict.Retry, null, $"could not reach the receiver ({ex.HttpRequestError})", null);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery {DeliveryId} for lead {LeadId} delivered to {Subscription}: HTTP {Status} on attempt {Attempt}")]
    private static partial void LogDelivered(ILogger logger, string deliveryId, string leadId, string subscription, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} for lead {LeadId} to {Subscription} failed (attempt {Attempt}): {Reason}; next attempt {NextAttemptAt}")]
    private static partial void LogRetry(ILogger logger, string deliveryId, string leadId, string subscription, int attempt, string reason, DateTimeOffset nextAttemptAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook delivery {DeliveryId} for lead {LeadId} to {Subscription} dead-lettered after {Attempts} attempt(s): {Reason}")]
    private static partial void LogDead(ILogger logger, string deliveryId, string leadId, string subscription, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery {DeliveryId} for lead {LeadId} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, string deliveryId, string leadId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook subscription {Subscription} is failing: its other deliveries wait for the next run")]
    private static partial void LogSubscriptionPaused(ILogger logger, string subscription);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook run: {Delivered} delivered, {Retried} to retry, {Dead} dead-lettered, {Dropped} dropped, {Waiting} waiting for their commit")]
    private static partial void LogRun(ILogger logger, int delivered, int retried, int dead, int dropped, int waiting);
}
