using System.Globalization;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>GET /api/ops/email/failed?pageSize=&amp;continuation=</c> (master/admin key): the parked outbox items, a page at a time,
/// with ids, kind, reason, attempts and times (never addresses). <c>continuation</c> comes from the previous page.
/// </summary>
public sealed class ListFailedEmails(IParkedEmails parked)
{
    private const int DefaultPageSize = 50;
    private const int MaxContinuationLength = 2048;

    [Function(nameof(ListFailedEmails))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/email/failed")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pageSize = DefaultPageSize;
        var pageSizeText = request.Query["pageSize"].ToString();
        if (pageSizeText.Length > 0 &&
            (!int.TryParse(pageSizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > ParkedEmailLimits.MaxPageSize))
        {
            return Problem("pageSize", $"pageSize must be a whole number from 1 to {ParkedEmailLimits.MaxPageSize}.");
        }
        var continuation = request.Query["continuation"].ToString();
        if (continuation.Length > MaxContinuationLength)
            return Problem("continuation", "continuation must be the value returned with the previous page.");

        var page = await parked.ListAsync(pageSize, continuation.Length == 0 ? null : continuation, cancellationToken);
        return new OkObjectResult(new { items = page.Items, continuation = page.Continuation });
    }

    internal static BadRequestObjectResult Problem(string field, string detail) => new(new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [detail] })
    {
        Type = ProblemTypes.Prefix + "invalid-query",
        Status = StatusCodes.Status400BadRequest,
        Title = $"The {field} parameter is invalid.",
        Detail = detail,
    });
}
