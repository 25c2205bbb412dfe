using LeadFunctions.Domain.Events;

namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>What may bring an erased person back.</summary>
internal static class ErasurePolicy
{
    /// <summary>
    /// Only a fresh, explicit form submission (one that happened after the erasure) may create a new lead. Anything else for an
    /// erased lead (a replayed or late queue message, a tracking hit, a sales decision, a consent confirmation, an event that
    /// happened before the erasure) is a trace of the erased history and is dropped.
    /// </summary>
    public static bool MayRecreate(LeadEvent e, DateTimeOffset erasedAt) =>
        e.Type == LeadEventTypes.FormSubmission && e.OccurredAt > erasedAt;
}
