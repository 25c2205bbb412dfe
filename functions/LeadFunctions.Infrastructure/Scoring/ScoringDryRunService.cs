using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Scoring;

/// <summary>
/// A dry-run of a proposed model (JSON, validated by the same loader as at start) against the running model and the leads
/// table, checked against the running forms and content catalogue. Reads only.
/// </summary>
/// <para>The current side is the model in force: the published one when publishing is registered, else the file.</para>
public sealed class ScoringDryRunService(LeadsTable table, ScoringModel current, FormCatalog forms, ContentCatalogue content, TimeProvider time,
    Scoring.Publishing.IActiveScoringModel? activeModel = null)
{
    /// <summary>Leads one call may replay: enough for a sample, few enough to finish well within the function timeout.</summary>
    public const int MaxLeadsPerCall = 5_000;

    /// <exception cref="InvalidScoringModelException">The proposal is invalid; its errors name the rule and field.</exception>
    public async Task<DryRunReport> RunAsync(string proposedJson, ReplayFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var proposed = ScoringModelLoader.Load(proposedJson);
        var unreachable = ScoringModelReachability.Check(proposed, forms, content);
        var bounded = filter with { MaxLeads = Math.Min(filter.MaxLeads ?? MaxLeadsPerCall, MaxLeadsPerCall) };
        var inForce = activeModel is null ? current : (await activeModel.GetAsync(cancellationToken)).Model;
        return await new ScoringDryRun(inForce, proposed, unreachable).RunAsync(new TableReplaySource(table.Client), bounded, time.GetUtcNow(), cancellationToken);
    }
}
