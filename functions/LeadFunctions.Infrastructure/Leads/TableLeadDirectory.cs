using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Reads a lead with one point read and one range query in its partition: the lead row, its ledger and its history. Engagement and every ledger row's
/// <see cref="ScoreLedgerEntry.PointsNow"/> are decayed to the same instant, so the score shown is the ledger's sum.
/// An MQL whose score has decayed below the bar since it was last scored reads as a Lead, with the decay transition
/// dated when it happened (the next event records it for good). Rows retention folded read as one carried-forward row per rule
/// (<see cref="ScoreLedgerEntry.Folded"/> says how many rows, from when to when), whose points now are exactly those rows' sum.
/// </summary>
public sealed class TableLeadDirectory(LeadsTable table, ScoringModel model, TimeProvider time) : ILeadDirectory
{
    public async Task<LeadDetails?> FindAsync(string leadId, CancellationToken cancellationToken)
    {
        if (!LeadIdentity.IsLeadId(leadId))
            return null;

        // The lead row by point read, and the history and ledger rows ("h|…", "s|…" sort after "!lead" and "e|…") by one range query.
        var leadRead = ReadLeadAsync(leadId, cancellationToken);
        var ledger = new List<LedgerEntity>();
        var folds = new Dictionary<string, LedgerFold>(StringComparer.Ordinal);
        var history = new List<HistoryEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.HistoryPrefix}");
        await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey.StartsWith(LeadRows.LedgerPrefix, StringComparison.Ordinal))
            {
                ledger.Add(ToLedger(row));
                if (row.RowKey.StartsWith(LeadRows.LedgerFoldPrefix, StringComparison.Ordinal))
                    folds[row.RowKey] = ToFold(row);
            }
            else if (row.RowKey.StartsWith(LeadRows.HistoryPrefix, StringComparison.Ordinal))
                history.Add(ToHistory(row));
        }
        var lead = await leadRead;
        if (lead is null)
            return null;

        var now = time.GetUtcNow();
        var halfLife = lead.HalfLifeSeconds > 0 ? TimeSpan.FromSeconds(lead.HalfLifeSeconds) : model.HalfLife;
        var state = LeadMapping.ToState(lead);
        var changes = history.OrderBy(h => h.RowKey, StringComparer.Ordinal).Select(LeadMapping.ToChange).ToList();

        var pending = new ScoringOutcome();
        LifecycleMachine.ApplyDecay(state, model, now, pending);
        changes.AddRange(pending.Transitions);

        var entries = ledger
            .Select(l => LeadMapping.ToEntry(l, now, halfLife) with { Folded = folds.GetValueOrDefault(l.RowKey) })
            .OrderBy(e => e.At)
            .ThenBy(e => e.EventId, StringComparer.Ordinal)
            .ToList();
        return new LeadDetails(state.ToSummary(now, halfLife), entries, changes);
    }

    private async Task<LeadEntity?> ReadLeadAsync(string leadId, CancellationToken cancellationToken)
    {
        var response = await table.Client.GetEntityIfExistsAsync<LeadEntity>(leadId, LeadRows.Lead, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    private static LedgerEntity ToLedger(TableEntity row) => new()
    {
        PartitionKey = row.PartitionKey,
        RowKey = row.RowKey,
        EventId = row.GetString(nameof(LedgerEntity.EventId)) ?? "",
        EventType = row.GetString(nameof(LedgerEntity.EventType)) ?? "",
        RuleId = row.GetString(nameof(LedgerEntity.RuleId)) ?? "",
        Score = row.GetString(nameof(LedgerEntity.Score)) ?? "",
        Points = row.GetDouble(nameof(LedgerEntity.Points)) ?? 0,
        At = row.GetDateTimeOffset(nameof(LedgerEntity.At)) ?? default,
        ModelVersion = row.GetString(nameof(LedgerEntity.ModelVersion)) ?? "",
        Capped = row.GetBoolean(nameof(LedgerEntity.Capped)) ?? false,
        Note = row.GetString(nameof(LedgerEntity.Note)),
    };

    /// <summary>A carried-forward row written by retention: what it stands for, so the explanation can say what was folded.</summary>
    private static LedgerFold ToFold(TableEntity row) => new(
        row.GetInt32("FoldedRows") ?? 0,
        row.GetDateTimeOffset("FoldedFrom") ?? default,
        row.GetDateTimeOffset("FoldedUntil") ?? default,
        row.GetDouble("FoldedPointsAwarded") ?? 0);

    private static HistoryEntity ToHistory(TableEntity row) => new()
    {
        PartitionKey = row.PartitionKey,
        RowKey = row.RowKey,
        At = row.GetDateTimeOffset(nameof(HistoryEntity.At)) ?? default,
        From = row.GetString(nameof(HistoryEntity.From)),
        To = row.GetString(nameof(HistoryEntity.To)) ?? "",
        Reason = row.GetString(nameof(HistoryEntity.Reason)) ?? "",
        CausedBy = row.GetString(nameof(HistoryEntity.CausedBy)) ?? "",
        ModelVersion = row.GetString(nameof(HistoryEntity.ModelVersion)) ?? "",
        EventId = row.GetString(nameof(HistoryEntity.EventId)),
    };
}
