using LeadFunctions.Admin;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Workspace;

/// <summary>
/// <c>GET /api/workspace/calibration</c>: the calibration report (same parameters and body as the admin endpoint) for the
/// dashboard's Calibration panel, to marketing and admin.
/// </summary>
public sealed class ShowWorkspaceCalibration(CalibrationReports reports, WorkspaceAccess access)
{
    // Anonymous at the host: the workspace principal decides (docs/workspace.md).
    [Function(nameof(ShowWorkspaceCalibration))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace/calibration")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request, WorkspaceRoles.Marketing);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        var (result, _) = await GetScoringCalibration.Answer(reports, request, cancellationToken);
        return WorkspaceResult.Of(result);
    }
}
