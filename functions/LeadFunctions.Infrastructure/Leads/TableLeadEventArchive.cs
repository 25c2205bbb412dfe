using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.SalesAlerts;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>One point read of the applied-event row, which keeps the event as received (unless it was too large to keep).</summary>
internal sealed class TableLeadEventArchive(LeadsTable table) : ILeadEventArchive
{
    public async Task<LeadEvent?> FindAppliedAsync(string leadId, string eventId, CancellationToken cancellationToken)
    {
        if (!LeadIdentity.IsLeadId(leadId) || string.IsNullOrEmpty(eventId))
            return null;
        var row = await table.Client.GetEntityIfExistsAsync<AppliedEventEntity>(leadId, LeadRows.Applied(eventId), cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value!.EventJson is not { Length: > 0 } json)
            return null;
        try
        {
            return LeadEventJson.Deserialize(json);
        }
        catch (MalformedLeadEventException)
        {
            // Written by an older schema: the alert goes without its origin rather than not at all.
            return null;
        }
    }
}
