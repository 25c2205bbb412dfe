using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Tracking;

/// <summary>
/// <c>GET|HEAD /api/track/click?t=</c>: a tracked link. Redirects (302) to the URL signed into the token and queues an e-mail-click.
/// A token that does not verify gets 404 and no redirect, so the endpoint can never be used as an open redirect.
/// </summary>
public sealed class TrackClick(IEngagementTracker tracker, CaptureRateLimiter limiter)
{
    [Function(nameof(TrackClick))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = TrackingRoutes.Click)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        var url = await tracker.RecordClickAsync(request.Query[TrackingRoutes.TokenParameter], request.Method, request.Headers.UserAgent, cancellationToken);
        if (url is null)
            return TrackingPages.NotFound();
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return new RedirectResult(url, permanent: false);
    }
}
