using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Domain;
using Azure;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Workspace;

/// <summary>What the dashboard's header and marketing panel show: the scoring model in force and what waits in the outbox.</summary>
public sealed record WorkspaceOverviewView(string ModelVersion, NurtureBacklogView Nurture);

/// <summary>Nurture e-mails due now, sales alerts and SLA checks due now, parked items; <c>atLeast</c> when a count hit its cap.</summary>
public sealed record NurtureBacklogView(int Due, int DueSales, int Parked, bool AtLeast);

/// <summary><c>GET /api/workspace/overview</c>: model version and the nurture backlog, counted with a cap (a few storage requests).</summary>
public sealed class ShowWorkspaceOverview(ScoringModel model, INurtureBacklog backlog, WorkspaceAccess access, Infrastructure.Scoring.Publishing.IActiveScoringModel? activeModel = null)
{
    // Anonymous at the host: the workspace principal decides (docs/workspace.md).
    [Function(nameof(ShowWorkspaceOverview))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace/overview")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var check = access.Authorize(request);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        try
        {
            var counts = await backlog.CountAsync(cancellationToken);
            var inForce = activeModel is null ? model : (await activeModel.GetAsync(cancellationToken)).Model;
            return WorkspaceResult.Of(new OkObjectResult(new WorkspaceOverviewView(
                inForce.Version, new NurtureBacklogView(counts.Due, counts.DueSales, counts.Parked, counts.AtLeast))));
        }
        catch (RequestFailedException)
        {
            // Storage trouble is the service's, not the caller's: a 503 the page shows, and retries on the next load.
            return WorkspaceResult.Of(new ObjectResult(new ProblemDetails
            {
                Type = ProblemTypes.Prefix + "storage-unavailable",
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The nurture backlog cannot be counted right now.",
            })
            { StatusCode = StatusCodes.Status503ServiceUnavailable });
        }
    }
}
