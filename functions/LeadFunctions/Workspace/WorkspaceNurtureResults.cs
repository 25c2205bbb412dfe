using LeadFunctions.Admin;
using LeadFunctions.Infrastructure.Nurture.Results;
using LeadFunctions.Infrastructure.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Workspace;

/// <summary>
/// <c>GET /api/workspace/nurture/results</c>: the per-step nurture results (same body as the admin endpoint) for the dashboard's
/// Nurture results panel, to marketing and admin.
/// </summary>
public sealed class ShowWorkspaceNurtureResults(INurtureResultsReport report, WorkspaceAccess access)
{
    // Anonymous at the host: the workspace principal decides (docs/workspace.md).
    [Function(nameof(ShowWorkspaceNurtureResults))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace/nurture/results")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request, WorkspaceRoles.Marketing);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        return WorkspaceResult.Of(await GetNurtureResults.Answer(report, cancellationToken));
    }
}
