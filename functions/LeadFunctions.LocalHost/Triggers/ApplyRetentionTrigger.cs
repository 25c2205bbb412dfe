using LeadFunctions.Retention;
using Microsoft.Azure.WebJobs;
using WorkerTimerInfo = Microsoft.Azure.Functions.Worker.TimerInfo;

namespace LeadFunctions.LocalHost.Triggers;

/// <summary>Runs <see cref="ApplyRetention"/> on the same <c>%RetentionSchedule%</c> setting through the WebJobs timer.</summary>
public sealed class ApplyRetentionTrigger(ApplyRetention function)
{
    [FunctionName(nameof(ApplyRetention))]
    public Task Run([TimerTrigger("%RetentionSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        return function.Run(new WorkerTimerInfo { IsPastDue = timer.IsPastDue }, cancellationToken);
    }
}
