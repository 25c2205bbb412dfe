using Azure;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Nurture.Results;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>GET /api/ops/nurture/results</c> (admin key): for each nurture programme and step, sent, delivered, bounced, opened and
/// clicked (e-mails with a human open/click), human opens and clicks, unsubscribes and goals (docs/nurture-results.md).
/// </summary>
public sealed class GetNurtureResults(INurtureResultsReport report)
{
    [Function(nameof(GetNurtureResults))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/nurture/results")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Answer(report, cancellationToken);
    }

    /// <summary>Shared with the workspace endpoint: the report, or a 503 problem when storage cannot be read.</summary>
    internal static async Task<IActionResult> Answer(INurtureResultsReport report, CancellationToken cancellationToken)
    {
        try
        {
            return new OkObjectResult(await report.BuildAsync(cancellationToken));
        }
        catch (RequestFailedException)
        {
            return new ObjectResult(new ProblemDetails
            {
                Type = ProblemTypes.Prefix + "storage-unavailable",
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The nurture results cannot be read right now.",
            })
            { StatusCode = StatusCodes.Status503ServiceUnavailable };
        }
    }
}
