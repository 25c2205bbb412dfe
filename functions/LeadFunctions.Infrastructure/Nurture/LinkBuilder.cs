using LeadFunctions.Domain.Tracking;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>The routes of the tracking and sales-decision functions, shared by the links in e-mails and the function attributes.</summary>
public static class TrackingRoutes
{
    public const string Open = "track/open";
    public const string Click = "track/click";
    public const string Unsubscribe = "unsubscribe";
    public const string Accept = "sales/accept";
    public const string Reject = "sales/reject";
    public const string TokenParameter = "t";
}

/// <summary>
/// Builds signed links under <see cref="TrackingOptions.BaseUrl"/>. How long each link works is not written here: the signer
/// derives it from the kind and the times in the token (<see cref="TrackingLinkLifetimes"/>).
/// </summary>
internal sealed class LinkBuilder(TrackingTokenSigner signer, IOptions<TrackingOptions> options)
{
    private string Base => options.Value.BaseUrl.TrimEnd('/') + "/api/";

    public bool IsOurs(string url) => url.StartsWith(Base, StringComparison.OrdinalIgnoreCase);

    public string For(string route, TrackingClaims claims) =>
        $"{Base}{route}?{TrackingRoutes.TokenParameter}={Uri.EscapeDataString(signer.Sign(claims))}";

    public string Route(TrackingKind kind) => kind switch
    {
        TrackingKind.Open => TrackingRoutes.Open,
        TrackingKind.Click => TrackingRoutes.Click,
        TrackingKind.Unsubscribe => TrackingRoutes.Unsubscribe,
        TrackingKind.Accept => TrackingRoutes.Accept,
        TrackingKind.Reject => TrackingRoutes.Reject,
        TrackingKind.ConfirmConsent => ConsentRoutes.Confirm,
        TrackingKind.DataRequest => Privacy.PrivacyRoutes.YourData,
        TrackingKind.DataRequestConfirm => Privacy.PrivacyRoutes.Confirm,
        // A kind without its own endpoint must not fall through to another's: a link does only what it was sent for.
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No endpoint serves this kind of link yet."),
    };

    public string For(TrackingClaims claims) => For(Route(claims.Kind), claims);

    /// <summary>The link of a double opt-in e-mail (<see cref="TrackingKind.ConfirmConsent"/>).</summary>
    public string ConfirmConsent(TrackingClaims claims) => For(claims with { Kind = TrackingKind.ConfirmConsent });
}
