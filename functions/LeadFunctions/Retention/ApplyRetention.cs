using LeadFunctions.Infrastructure.Retention;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Retention;

/// <summary>
/// The timer (<c>%RetentionSchedule%</c>) that erases inactive leads and compacts old detail, as the <c>Retention</c> settings say
/// (all off by default). Overlapping, late or crashed runs are safe: the scan resumes from a state row written with its ETag.
/// </summary>
public sealed class ApplyRetention(IRetentionRunner runner)
{
    [Function(nameof(ApplyRetention))]
    public Task Run([TimerTrigger("%RetentionSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken) =>
        runner.RunOnceAsync(cancellationToken);
}
