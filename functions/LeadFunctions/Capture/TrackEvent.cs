using LeadFunctions.Infrastructure.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Capture;

/// <summary>
/// <c>POST /api/events</c>: the tracking snippet reports a page view, content download, add-to-cart or webinar
/// registration by a visitor id or e-mail; <c>OPTIONS</c> answers the CORS preflight.
/// </summary>
public sealed class TrackEvent(LeadCaptureService capture)
{
    [Function(nameof(TrackEvent))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "events")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcome = HttpMethods.IsOptions(request.Method)
            ? capture.Preflight(formId: null, request)
            : await capture.TrackAsync(request, cancellationToken);
        return CaptureResults.ToActionResult(outcome, request);
    }
}
