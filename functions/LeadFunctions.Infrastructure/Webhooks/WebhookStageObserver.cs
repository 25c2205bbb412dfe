using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Webhooks;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>
/// Writes one delivery per (event, transition, subscription) when a lead changes stage: <c>stage-changed</c> for every transition,
/// <c>sql-alert</c> too when it becomes an SQL. It runs before the lead's commit, so it only writes rows with deterministic keys
/// (a retried commit writes the same rows) and the delivery checks that the transition was committed before sending.
/// </summary>
internal sealed partial class WebhookStageObserver(
    WebhookStore store,
    WebhookConfiguration configuration,
    IOptions<SalesAlertOptions> alerts,
    ILogger<WebhookStageObserver> logger) : IStageChangeObserver
{
    public async Task OnStageChangingAsync(LeadSummary lead, StageChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lead);
        ArgumentNullException.ThrowIfNull(change);
        if (change.From == change.To || configuration.Catalogue.Subscriptions.Count == 0)
            return;

        foreach (var eventType in WebhookEventTypes.All)
        {
            if (eventType == WebhookEventTypes.SqlAlert && change.To != LifecycleStage.Sql)
                continue;
            var eventId = WebhookPayload.EventId(eventType, lead.LeadId, change);
            DateTimeOffset? slaDueAt = eventType == WebhookEventTypes.SqlAlert ? change.At + alerts.Value.GetLadder().Deadline : null;
            foreach (var subscription in configuration.Catalogue.Subscriptions.Where(s => s.Wants(eventType)))
            {
                var deliveryId = WebhookPayload.DeliveryId(subscription.Id, eventId);
                await store.ScheduleAsync(new WebhookRecordEntity
                {
                    PartitionKey = lead.LeadId,
                    RowKey = WebhookRecordEntity.RowFor(deliveryId),
                    DeliveryId = deliveryId,
                    EventId = eventId,
                    EventType = eventType,
                    SubscriptionId = subscription.Id,
                    TransitionAt = change.At,
                    FromStage = change.From?.ToString(),
                    ToStage = change.To.ToString(),
                    Body = WebhookPayload.Build(eventType, eventId, lead, change, slaDueAt, subscription.IncludeProfile),
                }, cancellationToken);
                LogScheduled(logger, eventType, deliveryId, lead.LeadId, subscription.Id);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {EventType} delivery {DeliveryId} for lead {LeadId} scheduled to subscription {Subscription}")]
    private static partial void LogScheduled(ILogger logger, string eventType, string deliveryId, string leadId, string subscription);
}
