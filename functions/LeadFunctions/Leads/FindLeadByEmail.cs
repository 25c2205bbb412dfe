using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Leads;

/// <summary>
/// <c>GET /api/leads?email=</c>: the same explanation, found by e-mail. The address is normalised (trimmed, lower-case)
/// and hashed into the lead id, exactly as the processor keys leads, so case and spacing do not matter.
/// </summary>
public sealed class FindLeadByEmail(ILeadDirectory directory, ISuppressionList suppressions)
{
    [Function(nameof(FindLeadByEmail))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "leads")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!EmailAddress.TryNormalize(request.Query["email"].ToString(), out var email))
        {
            return new BadRequestObjectResult(new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "A valid email query parameter is required.",
            });
        }
        var details = await directory.FindAsync(LeadKeys.LeadIdFor(email), cancellationToken);
        return details is null
            ? new NotFoundResult()
            : new OkObjectResult(LeadResponse.From(details, await suppressions.FindAsync(details.Lead.LeadId, cancellationToken)));
    }
}
