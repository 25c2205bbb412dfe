using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Stages;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Leads;

/// <summary>
/// <c>POST /api/leads/{id}/stage</c> with <c>{"action", "toStage", "reason"}</c>: accept, reject, recycle or advance a lead. 202 with the
/// event id once queued (the processor applies it); 400 naming the field, 404 unknown lead, 409 with the reason for an illegal move,
/// 503 when it could not be queued.
/// </summary>
public sealed class ChangeLeadStage(LeadStageService stages, CaptureRateLimiter limiter)
{
    [Function(nameof(ChangeLeadStage))]
    public async Task<IActionResult> Run(
        // WORKSPACE-AUTH: roles sales,admin
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "leads/{id}/stage")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.StageChanges, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        var outcome = await stages.RequestAsync(id, PendingWorkspaceActor.For(request), request.Body, request.ContentLength, cancellationToken);
        return StageResults.ToActionResult(outcome, request);
    }
}
