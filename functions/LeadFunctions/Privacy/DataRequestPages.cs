using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Privacy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Privacy;

/// <summary>
/// <c>/api/privacy/your-data?t=</c>, the footer link of every marketing e-mail. <c>GET</c> shows the choices and changes nothing;
/// <c>POST</c> with <c>request=copy</c> or <c>request=erase</c> e-mails the confirmation link to the lead's address.
/// </summary>
public sealed class RequestLeadData(IDataRequests requests, CaptureRateLimiter limiter)
{
    [Function(nameof(RequestLeadData))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = PrivacyRoutes.YourData)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        if (requests.VerifyRequestLink(request.Query[TrackingRoutes.TokenParameter]) is not { } link)
            return PrivacyPages.Invalid();
        if (HttpMethods.IsGet(request.Method))
            return PrivacyPages.Choose(request.Path + request.QueryString);

        DataRequestAction? action = await ReadFieldAsync(request, "request", cancellationToken) switch
        {
            "copy" => DataRequestAction.Copy,
            "erase" => DataRequestAction.Erase,
            _ => null,
        };
        if (action is null)
            return PrivacyPages.BadRequest();
        return await requests.RequestAsync(link, action.Value, cancellationToken) switch
        {
            DataRequestStatus.ConfirmationSent => PrivacyPages.Sent(),
            DataRequestStatus.Invalid => PrivacyPages.Invalid(),
            _ => PrivacyPages.Unavailable(),
        };
    }

    internal static async Task<string?> ReadFieldAsync(HttpRequest request, string field, CancellationToken cancellationToken)
    {
        var form = await Tracking.TrackingPages.ReadFormAsync(request, cancellationToken);
        return form?[field].ToString();
    }
}

/// <summary>
/// <c>/api/privacy/confirm?t=</c>, the link in the confirmation e-mail. <c>GET</c> asks; <c>POST</c> with <c>confirm=yes</c>
/// erases the lead (as <c>DELETE /api/leads/{id}</c> does) or e-mails it the export. A request is carried out once.
/// </summary>
public sealed class ConfirmLeadDataRequest(IDataRequests requests, CaptureRateLimiter limiter)
{
    [Function(nameof(ConfirmLeadDataRequest))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = PrivacyRoutes.Confirm)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        if (await requests.VerifyConfirmLinkAsync(request.Query[TrackingRoutes.TokenParameter], cancellationToken) is not { } link)
            return PrivacyPages.Invalid();
        var erase = link.Action == DataRequestAction.Erase;
        if (HttpMethods.IsGet(request.Method))
            return PrivacyPages.Confirm(request.Path + request.QueryString, erase);

        if (await RequestLeadData.ReadFieldAsync(request, "confirm", cancellationToken) != "yes")
            return PrivacyPages.BadRequest();
        return await requests.ConfirmAsync(link, cancellationToken) switch
        {
            DataRequestStatus.Done => PrivacyPages.Done(erase),
            DataRequestStatus.AlreadyDone => PrivacyPages.Already(),
            DataRequestStatus.Invalid => PrivacyPages.Invalid(),
            _ => PrivacyPages.Unavailable(),
        };
    }
}
