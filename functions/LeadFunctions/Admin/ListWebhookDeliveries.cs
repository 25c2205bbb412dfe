using System.Globalization;
using LeadFunctions.Infrastructure.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>GET /api/ops/webhooks/deliveries?status=dead|pending&amp;pageSize=&amp;continuation=</c> (master/admin key): dead-lettered
/// deliveries with their last status and reason, or those waiting for their next attempt, a page at a time (ids, never bodies).
/// </summary>
public sealed class ListWebhookDeliveries(IWebhookDeliveries deliveries)
{
    private const int DefaultPageSize = 50;
    private const int MaxContinuationLength = 2048;

    [Function(nameof(ListWebhookDeliveries))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/webhooks/deliveries")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var status = request.Query["status"].ToString();
        if (status is not ("dead" or "pending"))
            return ListFailedEmails.Problem("status", "status must be dead or pending.");
        var pageSize = DefaultPageSize;
        var pageSizeText = request.Query["pageSize"].ToString();
        if (pageSizeText.Length > 0 &&
            (!int.TryParse(pageSizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > WebhookDeliveryLimits.MaxPageSize))
        {
            return ListFailedEmails.Problem("pageSize", $"pageSize must be a whole number from 1 to {WebhookDeliveryLimits.MaxPageSize}.");
        }
        var continuation = request.Query["continuation"].ToString();
        if (continuation.Length > MaxContinuationLength)
            return ListFailedEmails.Problem("continuation", "continuation must be the value returned with the previous page.");

        var page = await deliveries.ListAsync(status == "dead", pageSize, continuation.Length == 0 ? null : continuation, cancellationToken);
        return new OkObjectResult(new { items = page.Items, continuation = page.Continuation });
    }
}
