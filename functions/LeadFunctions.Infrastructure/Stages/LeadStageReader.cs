using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Stages;

/// <summary>A lead's stage now, as the lead row says it.</summary>
public sealed record LeadStageNow(string LeadId, LifecycleStage? Stage, DateTimeOffset StageChangedAt);

/// <summary>
/// What a stage move needs to know before it is queued, for one point read each: the lead row's stage (two columns, never the
/// ledger or history), and whether an event was already applied. Stages sales or a CRM act on (SQL and later) never decay, so
/// the row's stage is the stage the processor will see, unless the lead moves in between, which the processor checks again.
/// </summary>
public sealed class LeadStageReader(LeadsTable table)
{
    private static readonly string[] StageColumns = [nameof(LeadEntity.Stage), nameof(LeadEntity.StageChangedAt)];

    public async Task<LeadStageNow?> FindAsync(string leadId, CancellationToken cancellationToken)
    {
        if (!LeadIdentity.IsLeadId(leadId))
            return null;
        var row = await table.Client.GetEntityIfExistsAsync<TableEntity>(leadId, LeadRows.Lead, StageColumns, cancellationToken);
        if (!row.HasValue || row.Value is not { } entity)
            return null;
        LifecycleStage? stage = Enum.TryParse<LifecycleStage>(entity.GetString(nameof(LeadEntity.Stage)), ignoreCase: true, out var parsed) ? parsed : null;
        return new LeadStageNow(leadId, stage, entity.GetDateTimeOffset(nameof(LeadEntity.StageChangedAt)) ?? default);
    }

    /// <summary>Whether the processor has applied <paramref name="eventId"/> to the lead (its applied-event row exists).</summary>
    public async Task<bool> WasAppliedAsync(string leadId, string eventId, CancellationToken cancellationToken) =>
        (await table.Client.GetEntityIfExistsAsync<TableEntity>(leadId, LeadRows.Applied(eventId), [nameof(ITableEntity.PartitionKey)], cancellationToken)).HasValue;
}
