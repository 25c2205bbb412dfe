using LeadFunctions.Domain.Webhooks;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Stages;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Crm;

/// <summary>
/// <c>POST /api/crm/events</c>: the CRM's opportunity-created, deal-won, deal-lost and referral events (docs/crm.md). Anonymous to
/// the host because a CRM cannot hold a function key safely in a workflow; every request must carry the HMAC signature instead
/// (<c>X-LeadFunctions-Signature</c>), checked by the service before anything in the body is believed.
/// </summary>
public sealed class ReceiveCrmEvents(CrmWebhook webhook, CaptureRateLimiter limiter)
{
    [Function(nameof(ReceiveCrmEvents))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "crm/events")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Webhooks, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        var outcome = await webhook.HandleAsync(request.Body, request.ContentLength, request.Headers[WebhookSignature.HeaderName].ToString(), cancellationToken);
        return StageResults.ToActionResult(outcome, request);
    }
}
