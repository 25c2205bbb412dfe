using LeadFunctions.Infrastructure.Funnel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Funnel;

/// <summary>
/// <c>GET /api/funnel?from=yyyy-MM-dd&amp;to=yyyy-MM-dd&amp;period=day|week|month</c>: leads per stage now, entries, conversion, time
/// in stage and the SLA, from the funnel counters (docs/funnel.md). A bad parameter is a 400 problem naming it.
/// </summary>
public sealed class GetFunnel(FunnelReport report)
{
    [Function(nameof(GetFunnel))]
    public async Task<IActionResult> Run(
        // WORKSPACE-AUTH: roles marketing,sales,admin
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "funnel")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = report.Parse(request.Query["from"].ToString(), request.Query["to"].ToString(), request.Query["period"].ToString(), out var error);
        if (error is not null)
        {
            return new BadRequestObjectResult(new ValidationProblemDetails(new Dictionary<string, string[]> { [error.Field] = [error.Message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = $"The {error.Field} parameter is invalid.",
                Detail = error.Message,
            });
        }
        return new OkObjectResult(await report.BuildAsync(query, cancellationToken));
    }
}
