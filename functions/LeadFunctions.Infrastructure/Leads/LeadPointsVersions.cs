using System.Collections.Concurrent;
using Azure.Data.Tables;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Scoring.Publishing;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>Which model version each lead's points come from (null: no lead row), and the version new events are scored with now.</summary>
public sealed record LeadPointsVersionSet(string ActiveVersion, IReadOnlyDictionary<string, string?> PointsVersions)
{
    public string? PointsVersionOf(string leadId) => PointsVersions.GetValueOrDefault(leadId);

    /// <summary>Whether the lead's points are all of the active version; null when its row was not found.</summary>
    public bool? OnActiveModel(string leadId) => PointsVersionOf(leadId) is { } points ? points == ActiveVersion : null;
}

/// <summary>
/// Reads, for a page of listed leads, the model version their points come from, as the detail shows it
/// (<see cref="PointsVersion.Of"/>). The lead index does not hold it (it changes with a re-score, which moves nothing the index
/// sorts by), so it costs one point read per lead, of two columns, at most <see cref="MaxConcurrentReads"/> at a time: bounded by
/// the page size, whatever the tables hold.
/// </summary>
public sealed class LeadPointsVersions(LeadsTable table, ScoringModel model, IActiveScoringModel? activeModel = null)
{
    public const int MaxConcurrentReads = 8;

    /// <summary>The most leads one call reads: a list page's largest size.</summary>
    public const int MaxLeads = 100;

    private static readonly string[] Columns = [nameof(LeadEntity.PointsModelVersion), nameof(LeadEntity.ModelVersion)];

    public async Task<LeadPointsVersionSet> ReadAsync(IReadOnlyCollection<string> leadIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leadIds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(leadIds.Count, MaxLeads);
        var active = activeModel is null ? model.Version : (await activeModel.GetAsync(cancellationToken)).Model.Version;
        var versions = new ConcurrentDictionary<string, string?>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(leadIds.Distinct(StringComparer.Ordinal),
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentReads, CancellationToken = cancellationToken },
            async (leadId, token) =>
            {
                var row = await table.Client.GetEntityIfExistsAsync<TableEntity>(leadId, LeadRows.Lead, Columns, token);
                if (row.HasValue)
                {
                    var scoredBy = row.Value!.GetString(nameof(LeadEntity.ModelVersion));
                    versions[leadId] = PointsVersion.Of(row.Value.GetString(nameof(LeadEntity.PointsModelVersion)), scoredBy) ?? scoredBy ?? "";
                }
                else
                {
                    versions[leadId] = null;
                }
            });
        return new LeadPointsVersionSet(active, versions);
    }
}
