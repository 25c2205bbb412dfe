using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Nurture;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// Schedules follow-up work when a lead changes stage: the first nurture step on becoming an MQL, the sales alert and the SLA
/// check on becoming an SQL. It runs before the lead's commit, so it only writes reminders with deterministic keys (a retried
/// commit writes the same rows) and the timer re-checks the lead before doing anything.
/// </summary>
internal sealed partial class NurtureStageObserver(
    NurtureStore store,
    NurtureConfiguration configuration,
    IOptions<SalesAlertOptions> alertOptions,
    ILogger<NurtureStageObserver> logger,
    NurtureProgrammeState programmes) : IStageChangeObserver
{
    public async Task OnStageChangingAsync(LeadSummary lead, StageChange change, CancellationToken cancellationToken)
    {
        if (change.From == change.To)
            return;

        if (NurtureEntry.KindOf(change) is { } kind)
        {
            // Entry is decided here, on the lead as this event leaves it: the highest-priority programme whose entry matches.
            var programme = configuration.Catalogue.Select(lead, kind);
            if (programme is null)
            {
                LogNoProgramme(logger, lead.LeadId, NurtureEntry.Name(kind));
                return;
            }
            await programmes.EnrolAsync(lead.LeadId, programme.Id, change.At, kind, change.At, takenOverFrom: null, cancellationToken);
            var first = programme.Steps[0];
            var dueAt = NurturePlanner.DueAt(first, change.At, previousSentAt: null);
            await store.ScheduleAsync(DueItemEntity.Create(lead.LeadId, DueKinds.Nurture, dueAt, change.At, $"{programme.Id}-{first.Id}", programme.Id, first.Id), cancellationToken);
            LogEnrolled(logger, lead.LeadId, programme.Id, programme.Version, dueAt);
        }
        else if (change.To == LifecycleStage.Sql)
        {
            // The alert is due at once and every rung of the SLA ladder at its delay; each re-checks the lead and the decision when it runs.
            var key = change.At.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
            var ladder = alertOptions.Value.GetLadder();
            await store.ScheduleAsync(DueItemEntity.Create(lead.LeadId, DueKinds.Alert, change.At, change.At, key), cancellationToken);
            foreach (var step in ladder.Steps)
            {
                await store.ScheduleAsync(
                    DueItemEntity.Create(lead.LeadId, DueKinds.SlaCheck, change.At + step.After, change.At, $"{key}-{step.Id}", step: step.Id),
                    cancellationToken);
            }
            LogAlertScheduled(logger, lead.LeadId, ladder.Steps.Count, change.At + ladder.Deadline);
        }
    }

    /// <summary>
    /// A double opt-in request owes a confirmation e-mail, due at once (the next timer run sends it). A confirmation starts the
    /// nurture of an MQL that was waiting for it: the first step is scheduled now, and the outbox makes that harmless if it went.
    /// </summary>
    public async Task OnConsentChangingAsync(LeadSummary lead, ConsentChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lead);
        ArgumentNullException.ThrowIfNull(change);
        if (change.Record.Purpose != ConsentPurposes.MarketingEmail)
            return;
        if (change.Kind == ConsentChangeKind.Requested)
        {
            var at = change.Record.At;
            var key = at.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
            await store.ScheduleAsync(DueItemEntity.Create(lead.LeadId, DueKinds.Confirm, at, at, key), cancellationToken);
            LogConfirmationScheduled(logger, lead.LeadId);
        }
        else if (change.Kind == ConsentChangeKind.Confirmed && lead.Stage == LifecycleStage.Mql)
        {
            // The programme the lead entered with this MQL episode, or (enrolled before programmes were recorded) the one it would enter now.
            var enrolment = await programmes.FindEnrolmentAsync(lead.LeadId, cancellationToken);
            var programme = enrolment is { } e && (new DateTimeOffset(e.TransitionTicks, TimeSpan.Zero) - lead.StageChangedAt).Duration() <= NurturePlanner.StoreTolerance
                ? configuration.Catalogue.Find(e.Programme)
                : configuration.Catalogue.Select(lead, NurtureEntryKind.Mql);
            if (programme is null)
                return;
            var first = programme.Steps[0];
            var dueAt = change.Record.EffectiveAt > lead.StageChangedAt + first.Delay ? change.Record.EffectiveAt : lead.StageChangedAt + first.Delay;
            await store.ScheduleAsync(
                DueItemEntity.Create(lead.LeadId, DueKinds.Nurture, dueAt, lead.StageChangedAt, $"{programme.Id}-{first.Id}", programme.Id, first.Id),
                cancellationToken);
            LogEnrolled(logger, lead.LeadId, programme.Id, programme.Version, dueAt);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} asked for marketing e-mail: confirmation e-mail scheduled")]
    private static partial void LogConfirmationScheduled(ILogger logger, string leadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} enrolled in nurture programme {Programme} v{ProgrammeVersion}, first step due {DueAt}")]
    private static partial void LogEnrolled(ILogger logger, string leadId, string programme, string programmeVersion, DateTimeOffset dueAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} became an MQL ({Entry}) but no programme's entry matches it: no nurture")]
    private static partial void LogNoProgramme(ILogger logger, string leadId, string entry);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} became an SQL: sales alert and {Steps} SLA steps scheduled, SLA deadline {Deadline}")]
    private static partial void LogAlertScheduled(ILogger logger, string leadId, int steps, DateTimeOffset deadline);
}
