using LeadFunctions.Domain.Leads;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// Sales links name the rep they were sent for by an opaque keyed id (<see cref="LeadIdentity.RepIdFor"/>), never by address:
/// a token is only signed, not encrypted, so anyone holding the e-mail can read it. The id is resolved back on our side, against
/// the reps we know: the owner on the SLA record, the owners in the routing file and the escalation address.
/// </summary>
internal sealed class SalesReps(NurtureConfiguration configuration, LeadIdentity identity, IOptions<SalesAlertOptions> alerts)
{
    /// <summary>The id a sales link names <paramref name="address"/> by.</summary>
    public string IdOf(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return identity.RepIdFor(EmailAddress.TryNormalize(address, out var normalized) ? normalized : address.Trim().ToLowerInvariant());
    }

    /// <summary>
    /// The rep a sales link's actor names, or null when nobody we know has that id (a rep since removed from the routing file).
    /// <paramref name="owner"/> is the owner recorded for the SQL episode, tried first.
    /// </summary>
    public string? Resolve(string? actor, string? owner)
    {
        if (string.IsNullOrWhiteSpace(actor))
            return null;
        if (!LeadIdentity.IsRepId(actor))
        {
            // Links sent before rep ids carried the address itself; we signed it, so it is still the rep the alert went to.
            return EmailAddress.TryNormalize(actor, out var legacy) ? legacy : null;
        }
        var routing = configuration.Routing;
        IEnumerable<string?> candidates =
            [owner, .. routing.Rules.SelectMany(r => r.Owners), .. routing.RoundRobin, alerts.Value.EscalationAddress];
        return candidates.FirstOrDefault(c => !string.IsNullOrWhiteSpace(c) && string.Equals(IdOf(c), actor, StringComparison.Ordinal));
    }
}
