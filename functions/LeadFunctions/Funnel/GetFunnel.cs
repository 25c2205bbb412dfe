using LeadFunctions.Workspace;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Infrastructure.Funnel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Funnel;

/// <summary>
/// <c>GET /api/funnel?from=yyyy-MM-dd&amp;to=yyyy-MM-dd&amp;period=day|week|month</c>: leads per stage now, entries, conversion, time
/// in stage and the SLA, from the funnel counters (docs/funnel.md). A bad parameter is a 400 problem naming it.
/// </summary>
public sealed class GetFunnel(FunnelReport report, WorkspaceAccess access)
{
    [Function(nameof(GetFunnel))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md).
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "funnel")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        var query = report.Parse(request.Query["from"].ToString(), request.Query["to"].ToString(), request.Query["period"].ToString(), out var error);
        if (error is not null)
        {
            return WorkspaceResult.Of(new BadRequestObjectResult(new ValidationProblemDetails(new Dictionary<string, string[]> { [error.Field] = [error.Message] })
            {
                Type = ProblemTypes.Prefix + "invalid-query",
                Status = StatusCodes.Status400BadRequest,
                Title = $"The {error.Field} parameter is invalid.",
                Detail = error.Message,
            }));
        }
        return WorkspaceResult.Of(new OkObjectResult(await report.BuildAsync(query, cancellationToken)));
    }
}
