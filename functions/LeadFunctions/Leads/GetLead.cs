using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Leads;

/// <summary><c>GET /api/leads/{id}</c>: a lead with its score explained (function key).</summary>
public sealed class GetLead(ILeadDirectory directory, ISuppressionList suppressions)
{
    [Function(nameof(GetLead))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "leads/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var details = await directory.FindAsync(id, cancellationToken);
        return details is null
            ? new NotFoundResult()
            : new OkObjectResult(LeadResponse.From(details, await suppressions.FindAsync(details.Lead.LeadId, cancellationToken)));
    }
}
