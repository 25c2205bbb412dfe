using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Leads;

/// <summary>
/// <c>POST /api/leads/lookup</c> with <c>{"email": "..."}</c> (function key): the first page of <c>GET /api/leads/{id}</c>, found by
/// address; its continuations go on with <c>GET /api/leads/{id}</c>. The address travels in the body, so it stays out of URLs, request logs and telemetry.
/// </summary>
public sealed class LookupLead(LeadLookup lookup, ISuppressionList suppressions, ILeadEmails emails)
{
    [Function(nameof(LookupLead))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "leads/lookup")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await lookup.FindAsync(request.Body, request.ContentLength, cancellationToken);
        // The view never says subscribed while a suppression exists: the suppression row is what stops e-mail.
        var suppression = result.Details is { } found ? await suppressions.FindAsync(found.Lead.LeadId, cancellationToken) : null;
        return result.Status switch
        {
            LeadLookupStatus.Found => new OkObjectResult(LeadDetailResponse.From(result.Details!, suppression,
                await emails.LatestAsync(result.Details!.Lead.LeadId, LeadDetailResponse.MaxEmails, cancellationToken))),
            _ => NotShown(result),
        };
    }

    /// <summary>What a lookup that has no lead to show answers: 404 for nobody, 413 for a body too large, 400 naming the field.</summary>
    internal static IActionResult NotShown(LeadLookupResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Status switch
        {
            LeadLookupStatus.NotFound => new NotFoundResult(),
            LeadLookupStatus.TooLarge => new ObjectResult(Problem("body", StatusCodes.Status413PayloadTooLarge, "The request body is too large.", result.Problem!))
            {
                StatusCode = StatusCodes.Status413PayloadTooLarge,
            },
            _ => new BadRequestObjectResult(Problem(LeadLookup.EmailField, StatusCodes.Status400BadRequest, "A valid email is required.", result.Problem!)),
        };
    }

    private static ValidationProblemDetails Problem(string field, int status, string title, string detail) =>
        new(new Dictionary<string, string[]> { [field] = [detail] })
        {
            Type = ProblemTypes.Prefix + (status == StatusCodes.Status413PayloadTooLarge ? "body-too-large" : "invalid-fields"),
            Status = status,
            Title = title,
            Detail = detail,
        };
}
