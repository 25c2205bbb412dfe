using LeadFunctions.Workspace;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Leads;

/// <summary>
/// <c>GET /api/leads?stage=&amp;owner=&amp;minScore=&amp;grade=&amp;updatedSince=&amp;sort=newest|score&amp;limit=&amp;continuation=&amp;include=modelVersions</c>:
/// a page of leads from the lead index (stage defaults to SQL, sort to newest, limit to 25, at most 100).
/// </summary>
public sealed class ListLeads(LeadListService lists, LeadPointsVersions pointsVersions, WorkspaceAccess access, IAccessLog accessLog)
{
    /// <summary>The <c>include</c> value that adds <c>pointsModelVersion</c> and <c>onActiveModel</c> to each item.</summary>
    public const string ModelVersionsInclude = "modelVersions";

    [Function(nameof(ListLeads))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md).
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "leads")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        var query = request.Query;
        // Addresses never travel in URLs (logs and telemetry keep them): a lookup is POST /api/leads/lookup.
        if (query.ContainsKey("email"))
            return Admin.ListFailedEmails.Problem("email", "Lists do not take an address; look a lead up with POST /api/leads/lookup and the address in the body.");
        string? Value(string name) => query.TryGetValue(name, out var v) ? v.ToString() : null;
        // The versions live on the lead rows, not in the index (a publish changes them without moving anything the index
        // sorts by): one point read per item. Asked for, so that a plain page keeps its cost of at most 3 requests.
        var include = Value("include");
        if (include is not (null or "" or ModelVersionsInclude))
            return WorkspaceResult.Of(Admin.ListFailedEmails.Problem("include", $"include takes one value: {ModelVersionsInclude}."));

        var result = await lists.ListAsync(new LeadListRequest(
            Value("stage"), Value("owner"), Value("minScore"), Value("grade"), Value("updatedSince"), Value("sort"), Value("limit"), Value("continuation")),
            cancellationToken);
        if (result.Page is not { } page)
            return WorkspaceResult.Of(Admin.ListFailedEmails.Problem(result.InvalidField!, result.Problem!));
        await accessLog.RecordListAsync(check.User, nameof(ListLeads), page.Items.Count, cancellationToken);
        var versions = include == ModelVersionsInclude ? await pointsVersions.ReadAsync([.. page.Items.Select(i => i.LeadId)], cancellationToken) : null;
        return WorkspaceResult.Of(new OkObjectResult(new LeadListResponse(
            [.. page.Items.Select(i => new LeadListItemView(i.LeadId, i.Name, i.Company, LeadResponse.StageName(i.Stage), i.StageChangedAt, i.Owner, i.Score, i.FitGrade, i.UpdatedAt, i.SlaDueAt,
                versions?.PointsVersionOf(i.LeadId), versions?.OnActiveModel(i.LeadId), versions?.ActiveVersion))],
            page.Continuation)));
    }
}

public sealed record LeadListResponse(IReadOnlyList<LeadListItemView> Items, string? Continuation);

/// <param name="PointsModelVersion">The model version every point of the lead was scored by (<c>mixed</c> when several count), as the detail says.</param>
/// <param name="OnActiveModel">False while the lead waits for a re-score under the active version; null when its row is gone (erased since the index row was written).</param>
/// <param name="ActiveModelVersion">The version <see cref="OnActiveModel"/> was judged against, read with it, so a list can say "scored on v3, active v4" without a second request that a publish could fall between.</param>
public sealed record LeadListItemView(
    string LeadId, string? Name, string? Company, string Stage, DateTimeOffset StageChangedAt, string? Owner, double Score, string FitGrade,
    DateTimeOffset UpdatedAt, DateTimeOffset? SlaDueAt, string? PointsModelVersion = null, bool? OnActiveModel = null, string? ActiveModelVersion = null);
