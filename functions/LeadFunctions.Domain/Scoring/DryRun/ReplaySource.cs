using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Scoring.DryRun;

/// <summary>
/// One stored event as the processor applied it. <see cref="AppliedAt"/> is the "now" the processor passed to the engine
/// (the applied-event row's AppliedAt), so a replay reproduces its decay and future-dating exactly; a source that never
/// stored one (synthetic data) passes the event's OccurredAt.
/// </summary>
public sealed record ReplayEvent(LeadEvent Event, DateTimeOffset AppliedAt);

/// <summary>
/// A lead as stored now and its applied events, oldest applied first. <see cref="EventsWithoutJson"/> counts applied-event rows
/// whose event was too large to keep (no EventJson): they cannot be replayed, and the report says how many.
/// </summary>
public sealed record ReplayLead(string LeadId, LifecycleStage? StoredStage, IReadOnlyList<ReplayEvent> Events, int EventsWithoutJson = 0);

/// <summary>
/// Which leads to replay. <see cref="Stage"/> is the lead's stored stage; <see cref="FormId"/> keeps leads that submitted that
/// form; <see cref="From"/>/<see cref="To"/> keep leads with an event that occurred in [From, To). A kept lead is always
/// replayed with all of its events (a partial history would score it wrongly).
/// </summary>
public sealed record ReplayFilter
{
    public LifecycleStage? Stage { get; init; }
    public string? FormId { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }

    /// <summary>Stop after this many kept leads (the admin endpoint's bound); null for all.</summary>
    public int? MaxLeads { get; init; }

    public bool Keeps(ReplayLead lead)
    {
        ArgumentNullException.ThrowIfNull(lead);
        if (Stage is { } stage && lead.StoredStage != stage)
            return false;
        if (FormId is not null && !lead.Events.Any(e => string.Equals(e.Event.FormId, FormId, StringComparison.OrdinalIgnoreCase)))
            return false;
        if ((From is not null || To is not null) &&
            !lead.Events.Any(e => (From is null || e.Event.OccurredAt >= From) && (To is null || e.Event.OccurredAt < To)))
            return false;
        return true;
    }
}

/// <summary>
/// Leads with their stored events, one lead at a time and in ascending lead id order, so a replay holds one lead's history
/// in memory whatever the size of the table, and a bounded list of leads is the same list on every run.
/// </summary>
public interface IReplaySource
{
    IAsyncEnumerable<ReplayLead> ReadAsync(ReplayFilter filter, CancellationToken cancellationToken);
}

/// <summary>Leads held in memory (tests, the benchmark): filtered and ordered exactly as a stored source would be.</summary>
public sealed class InMemoryReplaySource(IEnumerable<ReplayLead> leads) : IReplaySource
{
    private readonly ReplayLead[] _leads = [.. leads.OrderBy(l => l.LeadId, StringComparer.Ordinal)];

    public async IAsyncEnumerable<ReplayLead> ReadAsync(ReplayFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var lead in _leads)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return lead;
        }
    }
}

/// <summary>Applied events in the order the processor applied them: by AppliedAt, then as they happened, then by id.</summary>
public static class ReplayOrder
{
    public static List<ReplayEvent> Sort(IEnumerable<ReplayEvent> events) =>
        [.. events.OrderBy(e => e.AppliedAt).ThenBy(e => e.Event.OccurredAt).ThenBy(e => e.Event.EventId, StringComparer.Ordinal)];
}
