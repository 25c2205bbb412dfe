using LeadFunctions.Nurture;
using Microsoft.Azure.WebJobs;
using WorkerScheduleStatus = Microsoft.Azure.Functions.Worker.ScheduleStatus;
using WorkerTimerInfo = Microsoft.Azure.Functions.Worker.TimerInfo;

namespace LeadFunctions.LocalHost.Triggers;

/// <summary>Runs <see cref="SendNurture"/> on the same <c>%NurtureSchedule%</c> setting through the WebJobs timer.</summary>
public sealed class SendNurtureTrigger(SendNurture function)
{
    [FunctionName(nameof(SendNurture))]
    public Task Run([TimerTrigger("%NurtureSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var status = timer.ScheduleStatus is { } s
            ? new WorkerScheduleStatus { Last = s.Last, Next = s.Next, LastUpdated = s.LastUpdated }
            : null;
        return function.Run(new WorkerTimerInfo { IsPastDue = timer.IsPastDue, ScheduleStatus = status! }, cancellationToken);
    }
}
