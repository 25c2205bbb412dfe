using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Work derived from an applied event that lives outside the lead's partition (list indexes, funnel counters), so it cannot
/// share the lead's entity-group transaction. The processor records the work in that transaction and runs every projection
/// after the commit, again on a redelivery, until it is done: a projection must therefore be idempotent, and may see the same
/// work more than once and works of one lead out of order (it reconciles to <see cref="LeadProjectionWork.After"/> or keys its
/// writes by <see cref="LeadProjectionWork.EventId"/>). A work with no transitions that leaves the lead in the same index partitions
/// (<see cref="LeadProjectionWorkRows.IsSnapshotOnly"/>) may be replaced by a later such work before it ran, and so never be seen:
/// a projection may act on such a work only by reconciling to its <see cref="LeadProjectionWork.After"/>.
/// </summary>
public interface ILeadProjection
{
    Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken);
}

/// <param name="Before">The lead before the event; null for a new lead.</param>
/// <param name="After">The lead as committed with the event.</param>
/// <param name="Transitions">The stage changes the event caused, in order.</param>
public sealed record LeadProjectionWork(
    string LeadId,
    string EventId,
    DateTimeOffset AppliedAt,
    LeadSnapshot? Before,
    LeadSnapshot After,
    IReadOnlyList<ProjectedTransition> Transitions);

/// <summary>What lists and counters need to know of a lead; no personal data beyond what a list shows.</summary>
/// <param name="Name">First and last name from the profile (what a list item shows); null when the profile has neither.</param>
/// <param name="Company">The profile's company; null when not given.</param>
/// <param name="EventCount">Events applied to the lead so far: grows with every commit, so of two works the later one has the larger count.</param>
public sealed record LeadSnapshot(
    LifecycleStage Stage,
    DateTimeOffset StageChangedAt,
    string? Owner,
    double EngagementValue,
    DateTimeOffset EngagementAnchor,
    double HalfLifeSeconds,
    string FitGrade,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Name = null,
    string? Company = null,
    int EventCount = 0);

/// <param name="Index">The transition's place among the event's transitions (0, 1, …): with the event id, its exactly-once key.</param>
/// <param name="FromEnteredAt">When the lead entered <paramref name="From"/>; null for a new lead.</param>
/// <param name="BySales">The move was a person's sales decision (accept, reject, recycle, advance), not scoring or decay.</param>
public sealed record ProjectedTransition(
    int Index,
    DateTimeOffset At,
    LifecycleStage? From,
    DateTimeOffset? FromEnteredAt,
    LifecycleStage To,
    string CausedBy,
    bool BySales);

/// <summary>
/// Rows an applied event adds to the lead's own partition, written in the lead's entity-group transaction with the event (so they
/// are exactly as current as the lead). Rows are upserted; a recorder returns each row key at most once per call, and only a
/// bounded number per lead (they are the lead's data: export and erasure take them with the partition).
/// </summary>
public interface ILeadEventRecorder
{
    Task<IReadOnlyList<Azure.Data.Tables.ITableEntity>> RowsAsync(string leadId, IReadOnlyList<Domain.Events.LeadEvent> events, CancellationToken cancellationToken);
}
