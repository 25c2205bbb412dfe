using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture.Results;

/// <summary>
/// One step's results. <c>opened</c>/<c>clicked</c> count e-mails with at least one human open/click; <c>humanOpens</c>/
/// <c>humanClicks</c> count every human open/click; bot hits count nowhere. <c>goals</c>: e-mails of the step followed by the
/// lead's move from MQL to SQL within <c>goalWindowDays</c>.
/// </summary>
public sealed record NurtureStepResult(
    string Step,
    long Sent,
    long Delivered,
    long Bounced,
    long Opened,
    long HumanOpens,
    long Clicked,
    long HumanClicks,
    long Unsubscribed,
    long Goals,
    int GoalWindowDays);

public sealed record NurtureProgrammeResult(string Programme, IReadOnlyList<NurtureStepResult> Steps);

public sealed record NurtureResultsView(IReadOnlyList<NurtureProgrammeResult> Programmes);

/// <summary>The per-step results of every nurture programme, from the counters (a few range queries, never a scan of leads).</summary>
public interface INurtureResultsReport
{
    Task<NurtureResultsView> BuildAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Reads the counters: one range query per shard over the counter rows (never the markers), summed per step. Programmes and
/// steps of the catalogue come in its order, with zeros where nothing was sent yet; steps that are counted but no longer in the
/// catalogue follow, so retiring a step does not hide what it did.
/// </summary>
internal sealed class NurtureResultsReport(NurtureResultsTable table, NurtureConfiguration configuration, IOptions<NurtureResultsOptions> options) : INurtureResultsReport
{
    public async Task<NurtureResultsView> BuildAsync(CancellationToken cancellationToken)
    {
        var sums = new Dictionary<(string Programme, string Step), long[]>();
        for (var shard = 0; shard < options.Value.Shards; shard++)
        {
            var partition = NurtureResultRows.Partition(shard);
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {partition} and RowKey ge {NurtureResultRows.CounterPrefix} and RowKey lt {NurtureResultRows.CounterEnd}");
            await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                var key = (row.GetString(CounterColumns.Programme) ?? "", row.GetString(CounterColumns.Step) ?? "");
                if (!sums.TryGetValue(key, out var values))
                    sums[key] = values = new long[CounterColumns.All.Length];
                for (var i = 0; i < CounterColumns.All.Length; i++)
                    values[i] += row.GetInt64(CounterColumns.All[i]) ?? 0;
            }
        }

        var window = options.Value.GoalWindowDays;
        var order = new List<(string Programme, List<string> Steps)>();
        foreach (var programme in configuration.Catalogue.Programmes.Values.OrderBy(p => p.Id, StringComparer.Ordinal))
            order.Add((programme.Id, [.. programme.Steps.Select(s => s.Id)]));
        foreach (var (programme, step) in sums.Keys.OrderBy(k => k.Programme, StringComparer.Ordinal).ThenBy(k => k.Step, StringComparer.Ordinal))
        {
            var entry = order.FirstOrDefault(o => o.Programme == programme);
            if (entry.Steps is null)
                order.Add(entry = (programme, []));
            if (!entry.Steps.Contains(step))
                entry.Steps.Add(step);
        }
        return new NurtureResultsView([.. order.Select(o => new NurtureProgrammeResult(o.Programme, [.. o.Steps.Select(step =>
        {
            var v = sums.GetValueOrDefault((o.Programme, step)) ?? new long[CounterColumns.All.Length];
            return new NurtureStepResult(step, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], window);
        })]))]);
    }
}
