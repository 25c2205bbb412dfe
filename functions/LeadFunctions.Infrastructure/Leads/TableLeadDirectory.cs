using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Reads leads from their partition. <see cref="FindAsync"/> reads everything (one point read and one range query over the ledger
/// and history); <see cref="FindSummaryAsync"/> only the lead row (one point read); <see cref="FindPageAsync"/> the lead row and the
/// newest rows of the ledger and history, a bounded number of requests whatever their size.
/// Engagement and every ledger row's <see cref="ScoreLedgerEntry.PointsNow"/> are decayed to the same instant, so the score shown is
/// the whole ledger's sum. An MQL whose score has decayed below the bar since it was last scored reads as a Lead, with the decay
/// transition dated when it happened (the next event records it for good). Rows retention folded read as one carried-forward row per
/// rule (<see cref="ScoreLedgerEntry.Folded"/> says how many rows, from when to when), whose points now are exactly those rows' sum.
/// <para>
/// Newest first: rows are written as <c>s|~{inverted ticks}|…</c> and <c>h|~{inverted ticks}|…</c>, so one ascending range read
/// returns the newest. Rows of the first layout (<c>s|{event}|…</c>, <c>h|{ticks}|…</c>, from before the detail was paged) come after
/// them, newest first within each page (retention folds the old ledger rows away in time); the carried-forward rows come last.
/// </para>
/// </summary>
public sealed class TableLeadDirectory(LeadsTable table, ScoringModel model, TimeProvider time, Scoring.Publishing.IActiveScoringModel? activeModel = null) : ILeadDirectory, ILeadDetailReader
{
    /// <summary>The model in force (thresholds and half-life for decay on read): the published one when publishing is registered.</summary>
    private async ValueTask<ScoringModel> ModelAsync(CancellationToken cancellationToken) =>
        activeModel is null ? model : (await activeModel.GetAsync(cancellationToken)).Model;

    public const string LedgerList = "ledger";
    public const string HistoryList = "history";

    /// <summary>The ledger's ranges in the order a newest-first walk reads them: this layout, the first layout, the carried-forward rows.</summary>
    private static readonly (string From, string To)[] LedgerSegments =
    [
        (LeadRows.LedgerNewestFirstPrefix, LeadRows.LedgerEnd),
        (LeadRows.LegacyLedgerFrom, LeadRows.LedgerNewestFirstPrefix),
        (LeadRows.LedgerFoldPrefix, LeadRows.LedgerFoldEnd),
    ];

    private static readonly (string From, string To)[] HistorySegments =
    [
        (LeadRows.HistoryNewestFirstPrefix, LeadRows.HistoryEnd),
        (LeadRows.HistoryPrefix, LeadRows.HistoryNewestFirstPrefix),
    ];

    public async Task<LeadSummary?> FindSummaryAsync(string leadId, CancellationToken cancellationToken)
    {
        if (!LeadIdentity.IsLeadId(leadId))
            return null;
        var lead = await ReadLeadAsync(leadId, cancellationToken);
        return lead is null ? null : Decayed(lead, time.GetUtcNow(), await ModelAsync(cancellationToken)).Summary;
    }

    public async Task<LeadDetailResult> FindPageAsync(string leadId, LeadDetailQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!LeadIdentity.IsLeadId(leadId))
            return new(LeadDetailStatus.NotFound);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.LedgerLimit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.LedgerLimit, LeadDetailQuery.MaxLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.HistoryLimit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.HistoryLimit, LeadDetailQuery.MaxLimit);

        var ledgerFrom = new LeadPageCursor(0, null);
        if (query.LedgerContinuation is { } ledgerToken
            && (ledgerFrom = LeadDetailContinuation.Decode(ledgerToken, leadId, LedgerList, LedgerSegments)!) is null)
            return new(LeadDetailStatus.InvalidContinuation, Field: "ledgerContinuation");
        var historyFrom = new LeadPageCursor(0, null);
        if (query.HistoryContinuation is { } historyToken
            && (historyFrom = LeadDetailContinuation.Decode(historyToken, leadId, HistoryList, HistorySegments)!) is null)
            return new(LeadDetailStatus.InvalidContinuation, Field: "historyContinuation");

        var lead = await ReadLeadAsync(leadId, cancellationToken);
        if (lead is null)
            return new(LeadDetailStatus.NotFound);
        var now = time.GetUtcNow();
        var inForce = await ModelAsync(cancellationToken);
        var (summary, pending, halfLife, halfLives) = Decayed(lead, now, inForce);

        // The decay transition is not a stored row yet: it is the newest change, so only the first page shows it.
        var shown = query.HistoryContinuation is null ? pending.OrderByDescending(c => c.At).Take(query.HistoryLimit).ToList() : [];
        var ledger = await PageAsync(leadId, LedgerList, LedgerSegments, ledgerFrom, query.LedgerLimit, ToLedger, e => e.At, cancellationToken);
        var history = await PageAsync(leadId, HistoryList, HistorySegments, historyFrom, query.HistoryLimit - shown.Count, ToHistory, h => h.At, cancellationToken);

        var entries = ledger.Items
            .Select(row => LeadMapping.ToEntry(row, now, HalfLifeOf(row, halfLife, halfLives, inForce)) with
            {
                Folded = row.RowKey.StartsWith(LeadRows.LedgerFoldPrefix, StringComparison.Ordinal) ? row.Fold : null,
            })
            .ToList();
        var changes = shown.Concat(history.Items.Select(LeadMapping.ToChange)).ToList();
        return new(LeadDetailStatus.Found, new LeadDetailPage(
            summary,
            new Page<ScoreLedgerEntry>(entries, ledger.Continuation),
            new Page<StageChange>(changes, history.Continuation),
            lead.EventCount)
        {
            PointsModelVersion = Scoring.Publishing.PointsVersion.Of(lead.PointsModelVersion, lead.ModelVersion),
            ActiveModelVersion = inForce.Version,
        });
    }

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
        var inForce = await ModelAsync(cancellationToken);
        var (summary, pending, halfLife, halfLives) = Decayed(lead, now, inForce);
        // Both layouts of history are read here; time orders them (the key's tail keeps one event's changes in their order).
        var changes = history
            .OrderBy(h => h.At)
            .ThenBy(h => HistoryTail(h.RowKey), StringComparer.Ordinal)
            .Select(LeadMapping.ToChange)
            .ToList();
        changes.AddRange(pending);

        var entries = ledger
            .Select(l => LeadMapping.ToEntry(l, now, HalfLifeOf(l, halfLife, halfLives, inForce)) with { Folded = folds.GetValueOrDefault(l.RowKey) })
            .OrderBy(e => e.At)
            .ThenBy(e => e.EventId, StringComparer.Ordinal)
            .ToList();
        return new LeadDetails(summary, entries, changes);
    }

    /// <summary>The lead as of now: decay applied, and the transition decay makes (not stored until the next event).</summary>
    /// <remarks>Named scores decay with the half-life stored with each on the lead row, as the default does with the row's own.</remarks>
    private static (LeadSummary Summary, IReadOnlyList<StageChange> Pending, TimeSpan HalfLife, Dictionary<string, TimeSpan> HalfLives) Decayed(
        LeadEntity lead, DateTimeOffset now, ScoringModel model)
    {
        var halfLife = lead.HalfLifeSeconds > 0 ? TimeSpan.FromSeconds(lead.HalfLifeSeconds) : model.HalfLife;
        var state = LeadMapping.ToState(lead);
        var pending = new ScoringOutcome();
        LifecycleMachine.ApplyDecay(state, model, now, pending);
        var halfLives = state.Scores
            .Where(s => s.Value.HalfLifeSeconds > 0)
            .ToDictionary(s => s.Key, s => TimeSpan.FromSeconds(s.Value.HalfLifeSeconds), StringComparer.Ordinal);
        return (state.ToSummary(now, halfLife), [.. pending.Transitions], halfLife, halfLives);
    }

    /// <summary>The half-life a ledger row decays with: its named score's (stored on the lead, else the model's), else the default's.</summary>
    private static TimeSpan HalfLifeOf(LedgerEntity row, TimeSpan halfLife, Dictionary<string, TimeSpan> halfLives, ScoringModel model)
    {
        if (row.Score is "" or LedgerRules.EngagementScore)
            return halfLife;
        if (halfLives.TryGetValue(row.Score, out var own))
            return own;
        return model.Score(row.Score)?.HalfLife ?? halfLife;
    }

    /// <summary>A history key after its time: <c>{event}|{index}</c> in either layout.</summary>
    private static string HistoryTail(string rowKey)
    {
        var start = rowKey.StartsWith(LeadRows.HistoryNewestFirstPrefix, StringComparison.Ordinal)
            ? LeadRows.HistoryNewestFirstPrefix.Length
            : LeadRows.HistoryPrefix.Length;
        var bar = rowKey.IndexOf('|', start);
        return bar < 0 ? rowKey : rowKey[(bar + 1)..];
    }

    /// <summary>
    /// Up to <paramref name="limit"/> rows newest first, from <paramref name="from"/> on, walking the ranges in order: one query per
    /// range touched (at most one more row than needed is asked for, to know whether anything is left), so a page costs at most as
    /// many requests as there are ranges. Rows of the first layout are not stored newest first; each page of them is put in that order.
    /// </summary>
    private async Task<(List<T> Items, string? Continuation)> PageAsync<T>(
        string leadId, string list, (string From, string To)[] segments, LeadPageCursor from, int limit,
        Func<TableEntity, T> map, Func<T, DateTimeOffset> at, CancellationToken cancellationToken) where T : ITableEntity
    {
        var items = new List<T>(Math.Max(0, limit));
        var segment = from.Segment;
        var after = from.After;
        while (segment < segments.Length)
        {
            var need = limit - items.Count;
            var (low, high) = segments[segment];
            var filter = after is null
                ? TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {low} and RowKey lt {high}")
                : TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey gt {after} and RowKey lt {high}");
            var rows = new List<T>(need + 1);
            await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, maxPerPage: need + 1, cancellationToken: cancellationToken))
            {
                rows.Add(map(row));
                if (rows.Count > need)
                    break;
            }
            var more = rows.Count > need;
            var taken = more ? rows.GetRange(0, need) : rows;
            if (taken.Count > 0)
                after = taken[^1].RowKey;
            if (segment > 0)
                taken = [.. taken.OrderByDescending(at).ThenBy(r => r.RowKey, StringComparer.Ordinal)];
            items.AddRange(taken);
            if (more)
                return (items, LeadDetailContinuation.Encode(leadId, list, new LeadPageCursor(segment, after)));
            segment++;
            after = null;
        }
        return (items, null);
    }

    private async Task<LeadEntity?> ReadLeadAsync(string leadId, CancellationToken cancellationToken)
    {
        var response = await table.Client.GetEntityIfExistsAsync<LeadEntity>(leadId, LeadRows.Lead, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    private static LedgerEntity ToLedger(TableEntity row) => new()
    {
        Fold = row.RowKey.StartsWith(LeadRows.LedgerFoldPrefix, StringComparison.Ordinal) ? ToFold(row) : null,
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
