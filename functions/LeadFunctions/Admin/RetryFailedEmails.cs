using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/email/failed/retry</c> (master/admin key) with <c>{"ids": ["…"]}</c> or <c>{"all": true}</c>: puts parked
/// outbox items back on the due index, due now and with their failure count cleared, after whatever made them fail is fixed.
/// "all" moves up to 1,000 per call and answers <c>more: true</c> while some remain.
/// </summary>
public sealed class RetryFailedEmails(IParkedEmails parked)
{
    private const int MaxIdLength = 512;

    [Function(nameof(RetryFailedEmails))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/email/failed/retry")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var (retry, problem) = await RetryRequest.ReadAsync(request, "parked item", MaxIdLength, cancellationToken);
        if (retry is null)
            return problem!;
        return new OkObjectResult(await parked.RequeueAsync(retry.Ids, cancellationToken));
    }
}
