using LeadFunctions.Infrastructure.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Webhooks;

/// <summary>
/// The timer (<c>%WebhookSchedule%</c>) that posts due webhook deliveries. Late, overlapping or crashed runs are safe: each
/// delivery is claimed before it is sent, and a receiver dedupes on <c>X-LeadFunctions-Event-Id</c> anyway.
/// </summary>
public sealed partial class DeliverWebhooks(IWebhookDeliverer deliverer, ILogger<DeliverWebhooks> logger)
{
    [Function(nameof(DeliverWebhooks))]
    public async Task Run([TimerTrigger("%WebhookSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (timer?.IsPastDue == true)
            LogPastDue(logger);
        await deliverer.RunOnceAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook timer is running late; delivering everything that fell due meanwhile")]
    private static partial void LogPastDue(ILogger logger);
}
