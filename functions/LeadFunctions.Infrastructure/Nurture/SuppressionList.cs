namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>A lead's suppression record: marketing e-mail stops for good until a confirmed double opt-in lifts it.</summary>
public sealed record Suppression(DateTimeOffset SuppressedAt, string Source);

/// <summary>
/// Reads the suppression record the unsubscribe endpoint writes. The lead view asks it so it never calls a lead subscribed while
/// the timer would refuse to send: the record, not the lead row's flag, is what every send checks.
/// </summary>
public interface ISuppressionList
{
    Task<Suppression?> FindAsync(string leadId, CancellationToken cancellationToken);
}

internal sealed class TableSuppressionList(NurtureStore store) : ISuppressionList
{
    public Task<Suppression?> FindAsync(string leadId, CancellationToken cancellationToken) => store.FindSuppressionAsync(leadId, cancellationToken);
}
