namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// What waits in the outbox, as people see it on the dashboard: nurture e-mails due now, sales alerts and SLA checks due now,
/// and parked items. <see cref="AtLeast"/> is set when a count stopped at the cap, so the page says "1000+" rather than a lie.
/// </summary>
public sealed record NurtureBacklogCounts(int Due, int DueSales, int Parked, bool AtLeast);

/// <summary>Counts the outbox backlog cheaply: row keys only, each count capped, so a dashboard load is a few storage requests.</summary>
public interface INurtureBacklog
{
    Task<NurtureBacklogCounts> CountAsync(CancellationToken cancellationToken);
}

internal sealed class NurtureBacklog(NurtureStore store, TimeProvider time) : INurtureBacklog
{
    /// <summary>One page of row keys per count: enough to tell "a few" from "a lot" without reading a big backlog on every page view.</summary>
    public const int CountLimit = 1000;

    public async Task<NurtureBacklogCounts> CountAsync(CancellationToken cancellationToken)
    {
        var backlog = await store.BacklogAsync(time.GetUtcNow(), CountLimit, cancellationToken);
        return new NurtureBacklogCounts(
            backlog.Due.GetValueOrDefault(DuePartitions.Default),
            backlog.Due.GetValueOrDefault(DuePartitions.Sales),
            backlog.Parked,
            backlog.AtLeast);
    }
}
