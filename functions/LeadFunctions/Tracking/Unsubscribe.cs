using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Tracking;

/// <summary>
/// <c>/api/unsubscribe?t=</c>. <c>GET</c> shows a confirmation page and changes nothing (link scanners fetch every URL);
/// <c>POST</c> with <c>List-Unsubscribe=One-Click</c> (RFC 8058, sent by mail clients and by our page) unsubscribes at once.
/// </summary>
public sealed class Unsubscribe(IEngagementTracker tracker, CaptureRateLimiter limiter)
{
    private const string OneClickField = "List-Unsubscribe";
    private const string OneClickValue = "One-Click";

    [Function(nameof(Unsubscribe))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = TrackingRoutes.Unsubscribe)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        string? token = request.Query[TrackingRoutes.TokenParameter];
        if (!tracker.IsValidUnsubscribe(token))
            return TrackingPages.NotFound();

        if (HttpMethods.IsGet(request.Method))
        {
            var action = request.Path + request.QueryString;
            return TrackingPages.Page("Unsubscribe",
                "<p>Do you want to stop receiving our marketing e-mails?</p>" +
                TrackingPages.Form(action, $"<input type=\"hidden\" name=\"{OneClickField}\" value=\"{OneClickValue}\">", "Unsubscribe"));
        }

        var form = await TrackingPages.ReadFormAsync(request, cancellationToken);
        if (form is null || !string.Equals(form[OneClickField], OneClickValue, StringComparison.Ordinal))
            return TrackingPages.Page("Unsubscribe", "<p>Expected the form body List-Unsubscribe=One-Click (RFC 8058).</p>", StatusCodes.Status400BadRequest);

        await tracker.UnsubscribeAsync(token, "one-click", cancellationToken);
        return TrackingPages.Page("You are unsubscribed", "<p>You will not receive our marketing e-mails any more.</p>");
    }
}
