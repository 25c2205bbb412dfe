using LeadFunctions.Scoring;
using Microsoft.Azure.WebJobs;
using WorkerTimerInfo = Microsoft.Azure.Functions.Worker.TimerInfo;

namespace LeadFunctions.LocalHost.Triggers;

/// <summary>Runs <see cref="RunScoringRescores"/> on the same <c>%ScoringRescoreSchedule%</c> setting through the WebJobs timer.</summary>
public sealed class RunScoringRescoresTrigger(RunScoringRescores function)
{
    [FunctionName(nameof(RunScoringRescores))]
    public Task Run([TimerTrigger("%ScoringRescoreSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        return function.Run(new WorkerTimerInfo { IsPastDue = timer.IsPastDue }, cancellationToken);
    }
}
