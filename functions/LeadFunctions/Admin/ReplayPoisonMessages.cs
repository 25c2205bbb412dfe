using LeadFunctions.Infrastructure.Leads;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/poison/lead-events/replay</c> (master/admin key): after fixing whatever made messages fail, moves
/// every message in <c>lead-events-poison</c> back to <c>lead-events</c> and answers how many were moved.
/// Safe to repeat: an event already applied is not applied again. Not under <c>/api/admin/…</c>: the Functions host
/// refuses function routes that start with <c>admin</c>, which it reserves for its own admin API.
/// </summary>
public sealed class ReplayPoisonMessages(PoisonQueueReplayer replayer)
{
    [Function(nameof(ReplayPoisonMessages))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/poison/lead-events/replay")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var moved = await replayer.ReplayAsync(cancellationToken);
        return new OkObjectResult(new { replayed = moved, from = PoisonQueueReplayer.PoisonQueueName, to = Infrastructure.Storage.StorageOptions.LeadEventsQueue });
    }
}
