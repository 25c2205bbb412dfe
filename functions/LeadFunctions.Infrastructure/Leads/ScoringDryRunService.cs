using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// A dry-run of a proposed model (JSON, validated by the same loader as at start) against the running model and the leads
/// table, checked against the running forms and content catalogue. Reads only.
/// </summary>
public sealed class ScoringDryRunService(LeadsTable table, ScoringModel current, FormCatalog forms, ContentCatalogue content, TimeProvider time)
{
    /// <summary>Leads one call may replay: enough for a sample, few enough to finish well within the function timeout.</summary>
    public const int MaxLeadsPerCall = 5_000;

    /// <exception cref="InvalidScoringModelException">The proposal is invalid; its errors name the rule and field.</exception>
    public Task<DryRunReport> RunAsync(string proposedJson, ReplayFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var proposed = ScoringModelLoader.Load(proposedJson);
        var unreachable = ScoringModelReachability.Check(proposed, forms, content);
        var bounded = filter with { MaxLeads = Math.Min(filter.MaxLeads ?? MaxLeadsPerCall, MaxLeadsPerCall) };
        return new ScoringDryRun(current, proposed, unreachable).RunAsync(new TableReplaySource(table.Client), bounded, time.GetUtcNow(), cancellationToken);
    }
}
