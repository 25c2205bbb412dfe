using LeadFunctions.Infrastructure.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/webhooks/deliveries/retry</c> (master/admin key) with <c>{"ids": ["…"]}</c> or <c>{"all": true}</c>: puts
/// dead-lettered deliveries back, due now with their attempts cleared, after whatever made the receiver refuse them is fixed.
/// The same bytes and event id go again, so a receiver that did get one before dedupes it. "all" replays up to 1,000 per call
/// and answers <c>more: true</c> while some remain.
/// </summary>
public sealed class RetryWebhookDeliveries(IWebhookDeliveries deliveries)
{
    private const int MaxIdLength = 100;

    [Function(nameof(RetryWebhookDeliveries))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/webhooks/deliveries/retry")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var (retry, problem) = await RetryRequest.ReadAsync(request, "dead delivery", MaxIdLength, cancellationToken);
        if (retry is null)
            return problem!;
        return new OkObjectResult(await deliveries.RetryAsync(retry.Ids, cancellationToken));
    }
}
