namespace LeadFunctions.Domain.Capture;

/// <summary>Which page origins may post to a form or the events endpoint.</summary>
public static class OriginPolicy
{
    /// <summary>
    /// An allowed-origin entry meaning "pages served by this app itself", on whatever host and port it runs:
    /// the sample landing page works under any <c>PORT</c> and on the deployed host name without listing them.
    /// </summary>
    public const string Self = "self";

    /// <summary>
    /// An allowed-origin entry meaning "the landing site" (<c>Capture:SiteBaseUrl</c>, e.g. the Static Web App azd deploys).
    /// The forms file replaces it with the site's origin when it is loaded, or with <see cref="Self"/> when no site is set
    /// (locally the app serves the pages itself), so it never reaches <see cref="Allows"/> as a keyword.
    /// </summary>
    public const string Site = "site";

    /// <summary>The keyword an allowed-origin entry is (<see cref="Self"/> or <see cref="Site"/>, any case), or null for an origin.</summary>
    public static string? Keyword(string? entry) => entry?.Trim().ToLowerInvariant() switch
    {
        Self => Self,
        Site => Site,
        _ => null,
    };

    /// <summary>
    /// The serialisation of an opaque origin (<c>Origin: null</c>). Any page can make a browser send it (a sandboxed iframe,
    /// a <c>data:</c> URL), so it identifies no site and is never allowed, whatever a list says.
    /// </summary>
    public const string Opaque = "null";

    /// <param name="allowed">Normalised origins, and possibly <see cref="Self"/>.</param>
    /// <param name="origin">The request's normalised <c>Origin</c>.</param>
    /// <param name="requestHost">The request's <c>Host</c> (host and port), which a browser sets to the app it is talking to.</param>
    public static bool Allows(IEnumerable<string> allowed, string origin, string? requestHost)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (string.IsNullOrEmpty(origin) || string.Equals(origin.Trim(), Opaque, StringComparison.OrdinalIgnoreCase))
            return false;
        foreach (var entry in allowed)
        {
            if (string.Equals(entry, origin, StringComparison.OrdinalIgnoreCase))
                return true;
            if (entry == Self && IsSameHost(origin, requestHost))
                return true;
        }
        return false;
    }

    private static bool IsSameHost(string origin, string? requestHost) =>
        !string.IsNullOrEmpty(requestHost)
        && Uri.TryCreate(origin, UriKind.Absolute, out var page)
        && string.Equals(page.Authority, requestHost, StringComparison.OrdinalIgnoreCase);
}
