using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Tracking;

/// <summary>
/// <c>/api/consent/confirm?t=</c>, the link of the double opt-in e-mail. <c>GET</c> shows a page with a confirm button and changes
/// nothing (link scanners fetch every URL); <c>POST</c> with <c>confirm=yes</c> queues the confirmation, which grants the consent.
/// </summary>
public sealed class ConfirmConsent(IConsentConfirmations confirmations, CaptureRateLimiter limiter)
{
    private const string ConfirmField = "confirm";
    private const string ConfirmValue = "yes";

    [Function(nameof(ConfirmConsent))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = ConsentRoutes.Confirm)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        var link = confirmations.Verify(request.Query[TrackingRoutes.TokenParameter]);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        switch (link.Status)
        {
            case ConsentLinkStatus.Invalid:
                return ConsentPages.Invalid();
            case ConsentLinkStatus.Expired:
                return ConsentPages.Expired();
        }

        if (HttpMethods.IsGet(request.Method))
            return ConsentPages.Ask(request.Path + request.QueryString);

        var form = await TrackingPages.ReadFormAsync(request, cancellationToken);
        if (form is null)
            return ConsentPages.BadRequest();
        if (!string.Equals(form[ConfirmField], ConfirmValue, StringComparison.Ordinal))
            return ConsentPages.BadRequest();

        try
        {
            await confirmations.ConfirmAsync(link, cancellationToken);
        }
        catch (LeadEventNotAcceptedException)
        {
            request.HttpContext.Response.Headers.RetryAfter = "30";
            return ConsentPages.Unavailable();
        }
        return ConsentPages.Done();
    }
}
