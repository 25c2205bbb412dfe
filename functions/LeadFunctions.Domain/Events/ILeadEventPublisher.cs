namespace LeadFunctions.Domain.Events;

/// <summary>
/// The one way anything puts an event on the <c>lead-events</c> queue.
/// Throws <see cref="LeadEventNotAcceptedException"/> when the event could not be stored, so callers answer 503 rather than a false success.
/// </summary>
public interface ILeadEventPublisher
{
    Task PublishAsync(LeadEvent leadEvent, CancellationToken cancellationToken);
}

public sealed class LeadEventNotAcceptedException : Exception
{
    public LeadEventNotAcceptedException(string message, Exception inner) : base(message, inner) { }
}
