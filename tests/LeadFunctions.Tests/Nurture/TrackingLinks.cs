using LeadFunctions.Tests.Support;
using LeadFunctions.Domain.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// The signed links of a nurture message or a sales alert, and the requests that follow them, built one way for the tests of
/// the tracking, unsubscribe and sales-decision endpoints.
/// </summary>
internal static class TrackingLinks
{
    public const string Browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";

    /// <summary>
    /// The claims of a link in the first step of programme "trio" sent to the lead now; a sales link also names the rep and
    /// the SQL episode as starting now.
    /// </summary>
    public static TrackingClaims Claims(NurtureHarness harness, string leadId, TrackingKind kind, string? url = null) => new()
    {
        Kind = kind,
        LeadId = leadId,
        MessageId = leadId + "-nurture-trio-first",
        Programme = "trio",
        Step = "first",
        SentAtUnixSeconds = harness.Time.GetUtcNow().ToUnixTimeSeconds(),
        Url = url,
        // Sales links name the rep by an opaque id, never an address; the decision records who it resolves to.
        Actor = kind is TrackingKind.Accept or TrackingKind.Reject ? TestLeadIds.Identity.RepIdFor("rep1@sales.example.com") : null,
        SqlAtTicks = kind is TrackingKind.Accept or TrackingKind.Reject ? harness.Time.GetUtcNow().UtcTicks : null,
    };

    public static string Sign(NurtureHarness harness, TrackingClaims claims) => harness.Services.GetRequiredService<TrackingTokenSigner>().Sign(claims);

    /// <summary>A request following a link: the token in <c>?t=</c>, a browser's user agent unless told, and a form body if given.</summary>
    public static HttpRequest Request(string method, string? token, string? userAgent = Browser, Dictionary<string, StringValues>? form = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = "/api/x";
        if (token is not null)
            context.Request.QueryString = QueryString.Create("t", token);
        if (userAgent is not null)
            context.Request.Headers.UserAgent = userAgent;
        if (form is not null)
        {
            context.Request.ContentType = "application/x-www-form-urlencoded";
            context.Request.Form = new FormCollection(form);
        }
        return context.Request;
    }
}
