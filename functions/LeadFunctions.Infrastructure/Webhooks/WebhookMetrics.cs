using System.Diagnostics.Metrics;
using LeadFunctions.Infrastructure.Nurture;

namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>Webhook outcomes, on the outbox's meter (<c>LeadFunctions.Outbox</c>), tagged by subscription and event type.</summary>
public sealed class WebhookMetrics
{
    public const string DeliveredCounterName = "leadfunctions.webhooks.delivered";
    public const string RetriedCounterName = "leadfunctions.webhooks.retried";
    public const string DeadCounterName = "leadfunctions.webhooks.dead";

    private readonly Counter<long> _delivered;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _dead;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(OutboxMetrics.MeterName);
        _delivered = meter.CreateCounter<long>(DeliveredCounterName, unit: "{delivery}", description: "Webhook deliveries a receiver accepted (2xx).");
        _retried = meter.CreateCounter<long>(RetriedCounterName, unit: "{delivery}", description: "Failed webhook attempts moved later with back-off.");
        _dead = meter.CreateCounter<long>(DeadCounterName, unit: "{delivery}", description: "Webhook deliveries dead-lettered, by whether the refusal was permanent.");
    }

    internal void Delivered(string subscription, string eventType) => _delivered.Add(1, Tags(subscription, eventType));

    internal void Retried(string subscription, string eventType) => _retried.Add(1, Tags(subscription, eventType));

    internal void Dead(string subscription, string eventType, bool permanent) =>
        _dead.Add(1, [.. Tags(subscription, eventType), new KeyValuePair<string, object?>("permanent", permanent)]);

    private static KeyValuePair<string, object?>[] Tags(string subscription, string eventType) =>
        [new("subscription", subscription), new("event", eventType)];
}
