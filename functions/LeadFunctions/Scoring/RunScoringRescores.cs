using LeadFunctions.Infrastructure.Scoring.Publishing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Scoring;

/// <summary>
/// The timer (<c>%ScoringRescoreSchedule%</c>) that advances the active re-score by a bounded number of pages. Late, overlapping
/// or crashed runs are safe: the job row's ETag lets one run advance it, and a page enqueued twice is applied once.
/// </summary>
public sealed partial class RunScoringRescores(ScoringRescoreRunner runner, ILogger<RunScoringRescores> logger)
{
    [Function(nameof(RunScoringRescores))]
    public async Task Run([TimerTrigger("%ScoringRescoreSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (timer?.IsPastDue == true)
            LogPastDue(logger);
        await runner.RunOnceAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-score timer is running late")]
    private static partial void LogPastDue(ILogger logger);
}
