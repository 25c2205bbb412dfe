using LeadFunctions.Infrastructure.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Capture;

/// <summary>
/// <c>POST /api/forms/{formId}</c>: a landing-page form (plain HTML or script) submits a lead; <c>OPTIONS</c> answers the
/// CORS preflight for the form's allowed origins.
/// </summary>
public sealed class CaptureLead(LeadCaptureService capture)
{
    [Function(nameof(CaptureLead))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "forms/{formId}")] HttpRequest request,
        string formId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcome = HttpMethods.IsOptions(request.Method)
            ? capture.Preflight(formId, request)
            : await capture.SubmitFormAsync(formId, request, cancellationToken);
        return CaptureResults.ToActionResult(outcome, request);
    }
}
