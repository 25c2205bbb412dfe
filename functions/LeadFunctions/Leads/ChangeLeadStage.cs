using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Workspace;
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
public sealed class ChangeLeadStage(LeadStageService stages, CaptureRateLimiter limiter, WorkspaceAccess access, IAccessLog accessLog)
{
    [Function(nameof(ChangeLeadStage))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md); only sales and admin move leads.
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{id}/stage")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request, WorkspaceRoles.Sales);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        if (limiter.AcquireForClient(RateLimitPolicy.StageChanges, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        // The actor is the signed-in person, never anything the body claims, so nobody can act under another's name.
        var outcome = await stages.RequestAsync(id, check.User.ActorName, request.Body, request.ContentLength, cancellationToken);
        await accessLog.RecordAsync(check.User, AccessActions.Change, nameof(ChangeLeadStage), id, cancellationToken);
        return WorkspaceResult.Of(StageResults.ToActionResult(outcome, request));
    }
}
