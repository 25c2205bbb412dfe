using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Tracking;

/// <summary><c>GET|HEAD /api/track/open?t=</c>: the open pixel. Answers a 1×1 GIF and queues an e-mail-open (HEAD and scanners marked as probable bots).</summary>
public sealed class TrackOpen(IEngagementTracker tracker, CaptureRateLimiter limiter)
{
    [Function(nameof(TrackOpen))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = TrackingRoutes.Open)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        var valid = await tracker.RecordOpenAsync(request.Query[TrackingRoutes.TokenParameter], request.Method, request.Headers.UserAgent, cancellationToken);
        if (!valid)
            return TrackingPages.LinkNotValidProblem();
        request.HttpContext.Response.Headers.CacheControl = "no-store, no-cache, must-revalidate";
        return new FileContentResult(TrackingPages.TransparentGif, "image/gif");
    }
}
