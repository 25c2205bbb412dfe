using LeadFunctions.Infrastructure.Nurture;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Nurture;

/// <summary>
/// The timer (<c>%NurtureSchedule%</c>) that sends what the pipeline owes: due nurture steps, sales alerts, SLA escalations.
/// Late, overlapping or crashed runs are safe: every e-mail is claimed in the outbox before it is sent.
/// </summary>
public sealed partial class SendNurture(INurtureRunner runner, ILogger<SendNurture> logger)
{
    [Function(nameof(SendNurture))]
    public async Task Run([TimerTrigger("%NurtureSchedule%", RunOnStartup = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (timer?.IsPastDue == true)
            LogPastDue(logger);
        await runner.RunOnceAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Nurture timer is running late; sending everything that fell due meanwhile")]
    private static partial void LogPastDue(ILogger logger);
}
