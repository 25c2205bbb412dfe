using LeadFunctions.Infrastructure.Funnel;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Infrastructure.Nurture.Results;
using LeadFunctions.Infrastructure.Retention;
using LeadFunctions.Infrastructure.Workspace;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Retention;

/// <summary>
/// The timer (<c>%RetentionSchedule%</c>) that erases inactive leads and compacts old detail, as the <c>Retention</c> settings say
/// (all off by default). Overlapping, late or crashed runs are safe: the scan resumes from a state row written with its ETag.
/// It also deletes the funnel's old exactly-once markers (<c>Funnel:MarkerDays</c>), which hold no personal data and are always bounded,
/// and the nurture results' markers of messages past <c>NurtureResults:MarkerDays</c>. The workspace access log is always kept
/// bounded here too (<c>Workspace:AccessLogDays</c>, <c>Workspace:AccessLogRowsPerLead</c>), and so are the lead index's erasure
/// markers (a day after each erasure).
/// </summary>
public sealed class ApplyRetention(IRetentionRunner runner, FunnelMaintenance funnel, NurtureResultsMaintenance nurtureResults, IAccessLogRetention accessLog,
    LeadIndexMaintenance leadIndex)
{
    [Function(nameof(ApplyRetention))]
    public async Task Run([TimerTrigger("%RetentionSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        await runner.RunOnceAsync(cancellationToken);
        await funnel.PruneAsync(cancellationToken);
        await nurtureResults.PruneAsync(cancellationToken);
        await accessLog.RunOnceAsync(cancellationToken);
        await leadIndex.PruneAsync(cancellationToken);
    }
}
