namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>A waiting or dead delivery as operators see it: ids, event, counts, last status and reason; never a body or a profile.</summary>
public sealed record WebhookDeliveryView(
    string Id,
    string LeadId,
    string Subscription,
    string Event,
    string EventId,
    string Status,
    int Attempts,
    int? LastStatus,
    string? Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeadAt);

public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDeliveryView> Items, string? Continuation);

/// <summary><see cref="More"/>: "all" replays at most <see cref="WebhookDeliveryLimits.MaxRetryPerCall"/> per call; call again.</summary>
public sealed record WebhookRetryResult(int Requeued, IReadOnlyList<string> NotFound, bool More);

public static class WebhookDeliveryLimits
{
    public const int MaxPageSize = 200;
    public const int MaxRetryPerCall = 1000;
}

/// <summary>The deliveries behind <c>/api/ops/webhooks/deliveries</c>: list the waiting or dead ones, replay dead ones.</summary>
public interface IWebhookDeliveries
{
    Task<WebhookDeliveryPage> ListAsync(bool dead, int pageSize, string? continuation, CancellationToken cancellationToken);

    /// <summary>Replays the given dead deliveries, or every dead one when <paramref name="ids"/> is null; each becomes due now.</summary>
    Task<WebhookRetryResult> RetryAsync(IReadOnlyList<string>? ids, CancellationToken cancellationToken);
}

internal sealed class WebhookDeliveries(WebhookStore store, TimeProvider time) : IWebhookDeliveries
{
    public async Task<WebhookDeliveryPage> ListAsync(bool dead, int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, WebhookDeliveryLimits.MaxPageSize);
        var (items, next) = await store.ListAsync(dead, pageSize, continuation, cancellationToken);
        return new WebhookDeliveryPage([.. items.Select(ToView)], next);
    }

    public async Task<WebhookRetryResult> RetryAsync(IReadOnlyList<string>? ids, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (ids is not null)
        {
            var notFound = new List<string>();
            var requeued = 0;
            foreach (var id in ids.Distinct(StringComparer.Ordinal))
            {
                if (await store.FindDeadAsync(id, cancellationToken) is { } dead && await store.ReviveAsync(dead, now, cancellationToken))
                    requeued++;
                else
                    notFound.Add(id);
            }
            return new WebhookRetryResult(requeued, notFound, More: false);
        }

        var count = 0;
        var seen = 0;
        string? continuation = null;
        do
        {
            var (page, next) = await store.ListAsync(dead: true, Math.Min(WebhookDeliveryLimits.MaxPageSize, WebhookDeliveryLimits.MaxRetryPerCall - seen), continuation, cancellationToken);
            foreach (var dead in page)
            {
                if (await store.ReviveAsync(dead, now, cancellationToken))
                    count++;
            }
            seen += page.Count;
            continuation = next;
        }
        while (continuation is not null && seen < WebhookDeliveryLimits.MaxRetryPerCall);
        return new WebhookRetryResult(count, [], More: continuation is not null);
    }

    private static WebhookDeliveryView ToView(WebhookIndexEntity row)
    {
        var dead = row.PartitionKey == WebhookIndexEntity.DeadPartition;
        return new WebhookDeliveryView(row.DeliveryId, row.LeadId, row.SubscriptionId, row.EventType, row.EventId,
            dead ? WebhookDeliveryStatus.Dead : WebhookDeliveryStatus.Pending, row.Attempts, row.LastStatus, row.LastError, row.CreatedAt,
            dead ? null : row.DueAt, row.DeadAt);
    }
}
