using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Privacy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Privacy;

/// <summary><c>GET /api/leads/{id}/export</c> (function key): every stored row about the lead, as one JSON document grouped by kind.</summary>
public sealed class ExportLead(ILeadExporter exporter)
{
    [Function(nameof(ExportLead))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "leads/{id}/export")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        if (!LeadIdentity.IsLeadId(id))
            return PrivacyProblems.BadLeadId();
        var document = await exporter.ExportAsync(id, cancellationToken);
        return document is null
            ? new NotFoundResult()
            : new ContentResult { Content = document.ToJsonString(), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK };
    }
}

/// <summary><c>DELETE /api/leads/{id}</c> (function key): erases the lead, leaving only its tombstone and suppression. Safe to repeat.</summary>
public sealed class EraseLead(ILeadEraser eraser)
{
    [Function(nameof(EraseLead))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "leads/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        if (!LeadIdentity.IsLeadId(id))
            return PrivacyProblems.BadLeadId();
        var result = await eraser.EraseAsync(id, cancellationToken);
        return result is null ? new NotFoundResult() : new OkObjectResult(result);
    }
}

internal static class PrivacyProblems
{
    public static BadRequestObjectResult BadLeadId() => new(new ValidationProblemDetails(new Dictionary<string, string[]> { ["id"] = ["id must be a lead id."] })
    {
        Type = ProblemTypes.Prefix + "invalid-lead-id",
        Status = StatusCodes.Status400BadRequest,
        Title = "The id is not a lead id.",
    });
}
