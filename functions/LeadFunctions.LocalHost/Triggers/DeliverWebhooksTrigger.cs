using LeadFunctions.Webhooks;
using Microsoft.Azure.WebJobs;
using WorkerTimerInfo = Microsoft.Azure.Functions.Worker.TimerInfo;

namespace LeadFunctions.LocalHost.Triggers;

/// <summary>Runs <see cref="DeliverWebhooks"/> on the same <c>%WebhookSchedule%</c> setting through the WebJobs timer.</summary>
public sealed class DeliverWebhooksTrigger(DeliverWebhooks function)
{
    [FunctionName(nameof(DeliverWebhooks))]
    public Task Run([TimerTrigger("%WebhookSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        return function.Run(new WorkerTimerInfo { IsPastDue = timer.IsPastDue }, cancellationToken);
    }
}
