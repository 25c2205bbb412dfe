using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Leads;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Workspace;

/// <summary>
/// A lead as a list shows it: the search answers an item of <c>GET /api/leads</c> (<see cref="LeadListItemView"/>), made from the
/// lead it read rather than from an index row. No address, only what a row needs.
/// </summary>
public static class WorkspaceLeadItem
{
    /// <param name="slaDeadline">The SLA ladder's breach deadline after a lead becomes an SQL.</param>
    public static LeadListItemView From(LeadSummary lead, TimeSpan halfLife, TimeSpan slaDeadline, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(lead);
        var name = string.Join(' ', new[] { Field(lead, "firstName"), Field(lead, "lastName") }.Where(n => n is not null));
        var elapsed = now > lead.ScoredAt ? now - lead.ScoredAt : TimeSpan.Zero;
        return new LeadListItemView(
            lead.LeadId,
            name.Length == 0 ? null : name,
            Field(lead, "company"),
            LeadResponse.StageName(lead.Stage),
            lead.StageChangedAt,
            lead.Owner,
            Math.Round(lead.EngagementScore * Decay.Factor(elapsed, halfLife), 2),
            lead.FitGrade,
            lead.UpdatedAt,
            lead.Stage == LifecycleStage.Sql ? lead.StageChangedAt + slaDeadline : null);
    }

    private static string? Field(LeadSummary lead, string key) =>
        lead.Profile.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}

/// <summary>
/// <c>POST /api/workspace/search</c> with <c>{"email": "..."}</c>: the dashboard's search box. The address travels in the body,
/// never in a URL, and the answer is a list item (no address), or a 404.
/// </summary>
public sealed class SearchLeads(LeadLookup lookup, ScoringModel model, IOptions<SalesAlertOptions> salesAlerts, TimeProvider time, WorkspaceAccess access, IAccessLog accessLog)
{
    // Anonymous at the host: the workspace principal decides (docs/workspace.md).
    [Function(nameof(SearchLeads))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "workspace/search")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        var result = await lookup.FindAsync(request.Body, request.ContentLength, cancellationToken);
        if (result.Status is LeadLookupStatus.Found or LeadLookupStatus.NotFound)
            await accessLog.RecordAsync(check.User, AccessActions.Search, nameof(SearchLeads), result.Details?.Lead.LeadId, cancellationToken);
        return WorkspaceResult.Of(result.Status switch
        {
            LeadLookupStatus.Found => new OkObjectResult(Item(result.Details!)),
            // Nobody with that address: said in problem details, as every workspace refusal is.
            LeadLookupStatus.NotFound => WorkspaceResult.NotFound().Inner,
            _ => LookupLead.NotShown(result),
        });
    }

    private LeadListItemView Item(LeadDetailPage found)
    {
        // The lookup read the lead's detail, so the model versions cost nothing more; they read as the detail's.
        var versions = LeadDetailResponse.ModelVersions(found);
        return WorkspaceLeadItem.From(found.Lead, model.HalfLife, salesAlerts.Value.GetLadder().Deadline, time.GetUtcNow())
            with { PointsModelVersion = versions.Points, OnActiveModel = versions.OnActive, ActiveModelVersion = versions.Active };
    }
}
