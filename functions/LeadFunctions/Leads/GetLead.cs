using LeadFunctions.Workspace;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Workspace;
using System.Globalization;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Leads;

/// <summary>
/// <c>GET /api/leads/{id}?ledger=20&amp;history=20&amp;ledgerContinuation=..&amp;historyContinuation=..</c>: a lead with the newest page of
/// its ledger and stage history and the latest e-mails sent to it (<see cref="LeadDetailResponse"/>). Whatever the size of the
/// lead's ledger, a read costs a bounded number of storage requests: the lead row, at most three range reads per list, the
/// suppression record and one range read of e-mails.
/// </summary>
public sealed class GetLead(ILeadDetailReader reader, ISuppressionList suppressions, ILeadEmails emails, WorkspaceAccess access, IAccessLog accessLog)
{
    public const string LedgerParameter = "ledger";
    public const string HistoryParameter = "history";
    public const string LedgerContinuationParameter = "ledgerContinuation";
    public const string HistoryContinuationParameter = "historyContinuation";

    [Function(nameof(GetLead))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md).
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "leads/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        if (!TryLimit(request, LedgerParameter, out var ledger, out var problem) || !TryLimit(request, HistoryParameter, out var history, out problem)
            || !TryContinuation(request, LedgerContinuationParameter, out var ledgerFrom, out problem)
            || !TryContinuation(request, HistoryContinuationParameter, out var historyFrom, out problem))
            return WorkspaceResult.Of(problem!);

        var result = await reader.FindPageAsync(id, new LeadDetailQuery(ledger, history, ledgerFrom, historyFrom), cancellationToken);
        switch (result.Status)
        {
            case LeadDetailStatus.NotFound:
                return WorkspaceResult.NotFound();
            case LeadDetailStatus.InvalidContinuation:
                return WorkspaceResult.Of(Problem(result.Field!, $"{result.Field} is not a continuation this lead's detail handed out; start again without it."));
        }
        var page = result.Page!;
        await accessLog.RecordAsync(check.User, AccessActions.Read, nameof(GetLead), page.Lead.LeadId, cancellationToken);
        var suppression = await suppressions.FindAsync(page.Lead.LeadId, cancellationToken);
        var sent = await emails.LatestAsync(page.Lead.LeadId, LeadDetailResponse.MaxEmails, cancellationToken);
        return WorkspaceResult.Of(new OkObjectResult(LeadDetailResponse.From(page, suppression, sent)));
    }

    private static bool TryLimit(HttpRequest request, string name, out int limit, out IActionResult? problem)
    {
        limit = LeadDetailQuery.DefaultLimit;
        problem = null;
        if (!request.Query.TryGetValue(name, out var values))
            return true;
        if (values.Count == 1 && int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= LeadDetailQuery.MaxLimit)
            return true;
        problem = Problem(name, $"{name} must be a whole number from 1 to {LeadDetailQuery.MaxLimit} (default {LeadDetailQuery.DefaultLimit}).");
        return false;
    }

    private static bool TryContinuation(HttpRequest request, string name, out string? token, out IActionResult? problem)
    {
        token = null;
        problem = null;
        if (!request.Query.TryGetValue(name, out var values))
            return true;
        if (values.Count == 1 && values[0] is { Length: > 0 and <= 1024 } value)
        {
            token = value;
            return true;
        }
        problem = Problem(name, $"{name} must be the continuation of an earlier page, given once.");
        return false;
    }

    private static BadRequestObjectResult Problem(string field, string detail) =>
        new(new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [detail] })
        {
            Type = ProblemTypes.Prefix + "invalid-query",
            Status = StatusCodes.Status400BadRequest,
            Title = "The query is not valid.",
            Detail = detail,
        });
}
