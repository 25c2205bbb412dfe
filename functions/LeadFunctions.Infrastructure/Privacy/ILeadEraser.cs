namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>
/// Erases one lead and everything kept about it (the erasure service implements it; retention calls it for leads
/// inactive past <c>Retention:EraseInactiveAfterDays</c>). Must be idempotent: erasing an erased or unknown lead succeeds.
/// </summary>
public interface ILeadEraser
{
    /// <param name="leadId">The lead's id (never an address).</param>
    /// <param name="reason">Why, as recorded with the erasure, e.g. <c>retention: inactive since 2025-01-02</c>.</param>
    Task EraseAsync(string leadId, string reason, CancellationToken cancellationToken);
}
