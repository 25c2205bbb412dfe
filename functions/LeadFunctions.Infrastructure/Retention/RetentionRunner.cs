using System.Globalization;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Retention;

/// <summary>
/// What one run did. <see cref="Conflicts"/> counts partitions left for a later pass because another writer got there first
/// (an overlapping run, or an event for the lead); <see cref="StoppedBy"/> is <c>page budget</c> or <c>overlapping run</c>
/// when the run stopped before the end of the table, and null when it finished a pass or retention is off.
/// </summary>
public sealed record RetentionRunResult(
    int PagesRead,
    int RowsMatched,
    int LeadsErased,
    int AppliedEventsDeleted,
    int LedgerRowsFolded,
    int Conflicts,
    int Failed,
    bool PassCompleted,
    string? StoppedBy = null);

/// <summary>What the retention timer calls.</summary>
public interface IRetentionRunner
{
    Task<RetentionRunResult> RunOnceAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One retention run: a bounded, resumable scan of the leads table that returns only the rows retention acts on
/// (lead rows inactive past <c>EraseInactiveAfterDays</c>, applied-event rows past <c>AppliedEventDays</c>, ledger rows past
/// <c>LedgerDays</c>), at most <c>MaxPagesPerRun</c> pages per run, resuming from the continuation kept in a state row.
/// <para>
/// Per lead partition: an inactive lead is re-read and handed to <see cref="ILeadEraser"/>; old applied events are deleted;
/// old ledger rows are folded into one carried-forward row per rule (<see cref="LedgerFoldEntity"/>) in the same entity-group
/// transaction that deletes them (≤ 100 actions), the fold row written with its ETag. So a crash leaves every row either
/// folded or not, never both, and an overlapping run fails its transaction (409/412/404) and leaves that lead for a later pass.
/// </para>
/// </summary>
internal sealed partial class RetentionRunner(
    LeadsTable table,
    ScoringModel model,
    TimeProvider time,
    IOptions<RetentionOptions> options,
    ILogger<RetentionRunner> logger,
    ILeadEraser? eraser = null,
    int pageSize = RetentionRunner.PageSize) : IRetentionRunner
{
    public const int PageSize = 1000;
    private const int MaxActionsPerTransaction = 100;
    private const string AppliedFrom = LeadRows.AppliedPrefix;
    private const string AppliedTo = "e}";

    /// <summary>
    /// '#' is the lowest first character of an event key, so this skips the carried-forward rows ("s|!fold|…") and takes both
    /// layouts of ledger rows: the first (<c>s|{event}|…</c>) and the newest-first one (<c>s|~{inverted ticks}|…</c>).
    /// </summary>
    private const string LedgerEventsFrom = LeadRows.LedgerPrefix + "#";
    private const string LedgerTo = "s}";
    private const string FoldTo = "s|!fold}";

    private static readonly string[] ScanColumns =
        ["PartitionKey", "RowKey", nameof(LeadEntity.UpdatedAt), nameof(AppliedEventEntity.AppliedAt), nameof(LedgerEntity.At),
         nameof(LedgerEntity.RuleId), nameof(LedgerEntity.Points), nameof(LedgerEntity.ModelVersion), nameof(LedgerEntity.Score)];

    private RetentionOptions Options => options.Value;

    public async Task<RetentionRunResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!Options.Enabled)
            return new RetentionRunResult(0, 0, 0, 0, 0, 0, 0, PassCompleted: false);

        var now = time.GetUtcNow();
        var run = new RunCounters();
        var state = await ReadStateAsync(cancellationToken);
        if (state.Continuation is null)
            state.PassStartedAt = now;

        var pages = table.Client.QueryAsync<TableEntity>(ScanFilter(now), maxPerPage: pageSize, select: ScanColumns, cancellationToken: cancellationToken)
            .AsPages(state.Continuation, pageSize);
        string? stoppedBy = "page budget";
        var passCompleted = false;
        await foreach (var page in pages.WithCancellation(cancellationToken))
        {
            run.Pages++;
            run.Matched += page.Values.Count;
            foreach (var partition in page.Values.GroupBy(r => r.PartitionKey, StringComparer.Ordinal))
                await ApplyAsync(partition.Key, [.. partition], now, run, cancellationToken);

            state.Continuation = page.ContinuationToken;
            if (state.Continuation is null)
            {
                state.PassesCompleted++;
                state.LastPassCompletedAt = now;
                passCompleted = true;
            }
            if (!await TrySaveStateAsync(state, cancellationToken))
            {
                stoppedBy = "overlapping run";
                break;
            }
            if (passCompleted)
            {
                stoppedBy = null;
                break;
            }
            if (run.Pages >= Options.MaxPagesPerRun)
                break;
        }

        var result = new RetentionRunResult(run.Pages, run.Matched, run.Erased, run.AppliedDeleted, run.Folded, run.Conflicts, run.Failed, passCompleted, stoppedBy);
        LogRun(logger, result.PagesRead, result.RowsMatched, result.LeadsErased, result.AppliedEventsDeleted, result.LedgerRowsFolded, result.Conflicts, result.Failed, result.StoppedBy ?? "end of pass");
        return result;
    }

    /// <summary>Only rows retention acts on come back, so the pages carry little; the service still reads the whole table once per pass.</summary>
    private string ScanFilter(DateTimeOffset now)
    {
        var clauses = new List<string>();
        if (Options.EraseInactiveAfterDays > 0)
        {
            var cutoff = now.AddDays(-Options.EraseInactiveAfterDays);
            clauses.Add(TableClient.CreateQueryFilter($"(RowKey eq {LeadRows.Lead} and UpdatedAt lt {cutoff})"));
        }
        if (Options.AppliedEventDays > 0)
        {
            var cutoff = now.AddDays(-Options.AppliedEventDays);
            clauses.Add(TableClient.CreateQueryFilter($"(RowKey ge {AppliedFrom} and RowKey lt {AppliedTo} and AppliedAt lt {cutoff})"));
        }
        if (Options.LedgerDays > 0)
        {
            var cutoff = LedgerCutoff(now);
            clauses.Add(TableClient.CreateQueryFilter($"(RowKey ge {LedgerEventsFrom} and RowKey lt {LedgerTo} and At lt {cutoff})"));
        }
        return string.Join(" or ", clauses);
    }

    private DateTimeOffset LedgerCutoff(DateTimeOffset now) => now.AddDays(-Options.LedgerDays);

    private async Task ApplyAsync(string partitionKey, List<TableEntity> rows, DateTimeOffset now, RunCounters run, CancellationToken cancellationToken)
    {
        if (!LeadIdentity.IsLeadId(partitionKey))
            return; // a visitor's partition: its applied rows wait for the visitor's own retention
        try
        {
            if (rows.Any(r => r.RowKey == LeadRows.Lead))
            {
                await EraseIfStillInactiveAsync(partitionKey, now, run, cancellationToken);
                return;
            }
            var applied = rows.Where(r => r.RowKey.StartsWith(LeadRows.AppliedPrefix, StringComparison.Ordinal)).ToList();
            if (applied.Count > 0)
                await DeleteAppliedAsync(partitionKey, applied, run, cancellationToken);
            var ledger = rows.Where(r => r.RowKey.StartsWith(LeadRows.LedgerPrefix, StringComparison.Ordinal)
                && !r.RowKey.StartsWith(LeadRows.LedgerFoldPrefix, StringComparison.Ordinal)).ToList();
            if (ledger.Count > 0)
                await FoldLedgerAsync(partitionKey, ledger, LedgerCutoff(now), run, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            run.Conflicts++;
            LogConflict(logger, partitionKey, ex.Status);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            run.Conflicts++;
            LogConflict(logger, partitionKey, ex.Status);
        }
    }

    private async Task EraseIfStillInactiveAsync(string leadId, DateTimeOffset now, RunCounters run, CancellationToken cancellationToken)
    {
        var cutoff = now.AddDays(-Options.EraseInactiveAfterDays);
        var lead = await table.Client.GetEntityIfExistsAsync<LeadEntity>(leadId, LeadRows.Lead, cancellationToken: cancellationToken);
        // An event may have arrived since the page was read: only a lead still inactive now is erased.
        if (!lead.HasValue || lead.Value!.UpdatedAt >= cutoff)
            return;
        if (eraser is null)
            throw new InvalidOperationException("Retention:EraseInactiveAfterDays is set but no ILeadEraser is registered.");
        var since = lead.Value.UpdatedAt;
        try
        {
            // Why is in the log line below (inactive since), with the lead id only; the erasure leaves its tombstone as for any request.
            await eraser.EraseAsync(leadId, cancellationToken);
            run.Erased++;
            LogErased(logger, leadId, since);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The lead still matches the scan, so the next pass tries again; the exception's type, never its message, is logged.
            run.Failed++;
            LogEraseFailed(logger, leadId, ex.GetType().Name);
        }
    }

    private async Task DeleteAppliedAsync(string leadId, List<TableEntity> rows, RunCounters run, CancellationToken cancellationToken)
    {
        foreach (var chunk in rows.Chunk(MaxActionsPerTransaction))
        {
            var actions = chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(leadId, r.RowKey), ETag.All)).ToList();
            await table.Client.SubmitTransactionAsync(actions, cancellationToken);
            run.AppliedDeleted += chunk.Length;
        }
    }

    private async Task FoldLedgerAsync(string leadId, List<TableEntity> rows, DateTimeOffset cutoff, RunCounters run, CancellationToken cancellationToken)
    {
        var lead = await table.Client.GetEntityIfExistsAsync<LeadEntity>(leadId, LeadRows.Lead,
            select: [nameof(LeadEntity.HalfLifeSeconds), nameof(LeadEntity.ScoresJson)], cancellationToken: cancellationToken);
        if (!lead.HasValue)
            return;
        // The directory decays the ledger with the half-life stored on the lead; folding with the same one keeps them equal.
        var defaultHalfLife = lead.Value!.HalfLifeSeconds > 0 ? TimeSpan.FromSeconds(lead.Value.HalfLifeSeconds) : model.HalfLife;
        // A named score's rows (rule ids are unique across the model, so one rule is one score) decay with that score's half-life.
        var namedScores = LeadMapping.ToState(lead.Value).Scores;
        var ruleScores = rows
            .GroupBy(r => r.GetString(nameof(LedgerEntity.RuleId)) ?? "", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().GetString(nameof(LedgerEntity.Score)) is { Length: > 0 } score ? score : LedgerRules.EngagementScore, StringComparer.Ordinal);
        (string Score, TimeSpan HalfLife) ScoreOf(string rule)
        {
            var score = ruleScores.GetValueOrDefault(rule, LedgerRules.EngagementScore);
            if (score == LedgerRules.EngagementScore)
                return (score, defaultHalfLife);
            if (namedScores.TryGetValue(score, out var state) && state.HalfLifeSeconds > 0)
                return (score, TimeSpan.FromSeconds(state.HalfLifeSeconds));
            return (score, model.Score(score)?.HalfLife ?? defaultHalfLife);
        }

        var folds = new Dictionary<string, LedgerFoldEntity>(StringComparer.Ordinal);
        var foldFilter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.LedgerFoldPrefix} and RowKey lt {FoldTo}");
        await foreach (var fold in table.Client.QueryAsync<LedgerFoldEntity>(foldFilter, cancellationToken: cancellationToken))
            folds[fold.RuleId] = fold;

        // Units of one rule's fold row plus up to 99 of its rows, packed into transactions of at most 100 actions, each rule at
        // most once per transaction (its fold row is one entity).
        var units = rows
            .GroupBy(r => r.GetString(nameof(LedgerEntity.RuleId)) ?? "", StringComparer.Ordinal)
            .SelectMany(g => g.Chunk(MaxActionsPerTransaction - 1).Select(c => (Rule: g.Key, Rows: c)))
            .ToList();
        while (units.Count > 0)
        {
            var batch = new List<(string Rule, TableEntity[] Rows)>();
            var size = 0;
            foreach (var unit in units)
            {
                if (size + 1 + unit.Rows.Length > MaxActionsPerTransaction || batch.Any(b => b.Rule == unit.Rule))
                    continue;
                batch.Add(unit);
                size += 1 + unit.Rows.Length;
            }
            foreach (var unit in batch)
                units.Remove(unit);

            var actions = new List<TableTransactionAction>();
            var written = new List<LedgerFoldEntity>();
            foreach (var (rule, unitRows) in batch)
            {
                folds.TryGetValue(rule, out var existing);
                var (score, halfLife) = ScoreOf(rule);
                var fold = Fold(leadId, rule, existing, unitRows, cutoff, halfLife, score);
                written.Add(fold);
                actions.Add(existing is null
                    ? new TableTransactionAction(TableTransactionActionType.Add, fold)
                    : new TableTransactionAction(TableTransactionActionType.UpdateReplace, fold, existing.ETag));
                actions.AddRange(unitRows.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(leadId, r.RowKey), ETag.All)));
            }
            var response = await table.Client.SubmitTransactionAsync(actions, cancellationToken);

            // The next chunk of a rule updates the fold row this transaction wrote, so it needs the new ETag.
            var index = 0;
            foreach (var (fold, unit) in written.Zip(batch))
            {
                fold.ETag = response.Value[index].Headers.ETag ?? default;
                folds[fold.RuleId] = fold;
                index += 1 + unit.Rows.Length;
                run.Folded += unit.Rows.Length;
            }
            if (written.Any(f => f.ETag == default))
            {
                folds.Clear();
                await foreach (var fold in table.Client.QueryAsync<LedgerFoldEntity>(foldFilter, cancellationToken: cancellationToken))
                    folds[fold.RuleId] = fold;
            }
        }
    }

    /// <summary>
    /// Exact decay carried forward: the existing fold's value moves from its time to the new one, and each row adds its points
    /// decayed from when they were awarded. All rows are older than <paramref name="cutoff"/>, so the fold is dated at or after them.
    /// </summary>
    internal static LedgerFoldEntity Fold(string leadId, string rule, LedgerFoldEntity? existing, IReadOnlyCollection<TableEntity> rows, DateTimeOffset cutoff, TimeSpan halfLife,
        string score = LedgerRules.EngagementScore)
    {
        var at = existing is null || existing.At < cutoff ? cutoff : existing.At;
        var value = existing is null ? 0 : existing.Points * Decay.Factor(at - existing.At, halfLife);
        var awarded = existing?.FoldedPointsAwarded ?? 0;
        var from = existing?.FoldedFrom ?? DateTimeOffset.MaxValue;
        var until = existing?.FoldedUntil ?? DateTimeOffset.MinValue;
        var versions = new List<string>();
        foreach (var row in rows)
        {
            var points = row.GetDouble(nameof(LedgerEntity.Points)) ?? 0;
            var rowAt = row.GetDateTimeOffset(nameof(LedgerEntity.At)) ?? at;
            value += points * Decay.Factor(at - rowAt, halfLife);
            awarded += points;
            if (rowAt < from)
                from = rowAt;
            if (rowAt > until)
                until = rowAt;
            if (row.GetString(nameof(LedgerEntity.ModelVersion)) is { Length: > 0 } version)
                versions.Add(version);
        }
        var count = (existing?.FoldedRows ?? 0) + rows.Count;
        return new LedgerFoldEntity
        {
            PartitionKey = leadId,
            RowKey = LeadRows.LedgerFoldPrefix + LeadRows.EventKey(rule),
            EventId = "",
            EventType = "folded",
            RuleId = rule,
            Score = score,
            Points = value,
            At = at,
            ModelVersion = versions.Count > 0 ? versions.Max(StringComparer.Ordinal)! : existing?.ModelVersion ?? "",
            Note = string.Create(CultureInfo.InvariantCulture,
                $"carried forward: {count} ledger rows of {rule} from {from:yyyy-MM-dd} to {until:yyyy-MM-dd} ({awarded:0.##} points when awarded), decayed to {at:yyyy-MM-dd}"),
            FoldedRows = count,
            FoldedFrom = from,
            FoldedUntil = until,
            FoldedPointsAwarded = awarded,
        };
    }

    private async Task<RetentionScanEntity> ReadStateAsync(CancellationToken cancellationToken)
    {
        var state = await table.Client.GetEntityIfExistsAsync<RetentionScanEntity>(RetentionScanEntity.Partition, RetentionScanEntity.Row, cancellationToken: cancellationToken);
        return state.HasValue ? state.Value! : new RetentionScanEntity();
    }

    private Task<bool> TrySaveStateAsync(RetentionScanEntity state, CancellationToken cancellationToken) =>
        ResumePoints.TrySaveAsync(table.Client, state, cancellationToken);

    private sealed class RunCounters
    {
        public int Pages;
        public int Matched;
        public int Erased;
        public int AppliedDeleted;
        public int Folded;
        public int Conflicts;
        public int Failed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention run: {Pages} pages, {Matched} rows matched, {Erased} leads erased, {AppliedDeleted} applied events deleted, {Folded} ledger rows folded, {Conflicts} left for a later pass, {Failed} failed; stopped at {StoppedBy}")]
    private static partial void LogRun(ILogger logger, int pages, int matched, int erased, int appliedDeleted, int folded, int conflicts, int failed, string stoppedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention erased lead {LeadId}, inactive since {Since:o}")]
    private static partial void LogErased(ILogger logger, string leadId, DateTimeOffset since);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention could not erase lead {LeadId} ({ExceptionType}); the next pass tries again")]
    private static partial void LogEraseFailed(ILogger logger, string leadId, string exceptionType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention left lead {LeadId} for a later pass: another writer changed it ({Status})")]
    private static partial void LogConflict(ILogger logger, string leadId, int status);
}
