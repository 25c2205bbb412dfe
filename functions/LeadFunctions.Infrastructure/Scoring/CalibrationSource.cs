using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Scoring;

/// <summary>The leads one calibration call read: at most the limit asked for; <see cref="Partial"/> when more were left unread.</summary>
public sealed record CalibrationScan(IReadOnlyList<CalibrationLead> Leads, int Scanned, bool Partial);

/// <summary>
/// Reads calibration's input from the leads table, lead by lead. This is an admin report: it scans the whole table (every
/// lead row, then each lead's stage history), so a call stops after a bounded number of leads and says it is partial.
/// Lead ids are keyed hashes, so the first N leads in key order are an unbiased sample of the table.
/// <para>
/// The score at entry comes from the qualification move's reason ("MQL: engagement 57 >= 50 and fit grade B >= C"), which
/// records exactly the engagement and grade the bar judged, at no extra read. A lead that entered straight at SQL (a
/// sales-intent form) or by hand has no such text; its engagement is rebuilt from its ledger rows up to that instant,
/// decayed with the lead's half-life (one more range read), and its grade is the one it has now (flagged as such).
/// </para>
/// </summary>
public sealed partial class CalibrationSource(LeadsTable table, ScoringModel model, Publishing.IActiveScoringModel? activeModel = null)
{
    private const int PageSize = 1000;
    private static readonly string[] LeadColumns = ["PartitionKey", "RowKey", nameof(LeadEntity.FitGrade), nameof(LeadEntity.HalfLifeSeconds)];
    private static readonly string[] HistoryColumns = ["RowKey", nameof(HistoryEntity.At), nameof(HistoryEntity.From), nameof(HistoryEntity.To), nameof(HistoryEntity.Reason)];
    private static readonly string[] LedgerColumns = ["RowKey", nameof(LedgerEntity.Points), nameof(LedgerEntity.At), nameof(LedgerEntity.Score)];

    public async Task<CalibrationScan> ReadAsync(int maxLeads, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLeads, 1);
        var leads = new List<CalibrationLead>();
        var scanned = 0;
        var filter = TableClient.CreateQueryFilter($"RowKey eq {LeadRows.Lead}");
        await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(PageSize, maxLeads + 1), select: LeadColumns, cancellationToken: cancellationToken))
        {
            if (scanned == maxLeads)
                return new CalibrationScan(leads, scanned, Partial: true);
            scanned++;
            if (await ReadLeadAsync(row, cancellationToken) is { } lead)
                leads.Add(lead);
        }
        return new CalibrationScan(leads, scanned, Partial: false);
    }

    internal sealed record HistoryStep(DateTimeOffset At, string RowKey, LifecycleStage? From, LifecycleStage To, string Reason);

    private static LifecycleStage? ParseStage(string? text) => Enum.TryParse<LifecycleStage>(text, out var stage) ? stage : null;

    /// <summary>
    /// Both key layouts in one order: by time. Moves of different events at the same instant (one clock tick) have keys that
    /// sort by event id, which says nothing of their order, so within one instant each next move is the one that starts where the
    /// previous ended (Lead→MQL before MQL→SQL); an event's own rows keep their index order.
    /// </summary>
    internal static void OrderHistory(List<HistoryStep> history)
    {
        history.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : string.CompareOrdinal(a.RowKey, b.RowKey));
        for (var start = 0; start < history.Count;)
        {
            var end = start;
            while (end + 1 < history.Count && history[end + 1].At == history[start].At)
                end++;
            var previous = start > 0 ? history[start - 1].To : (LifecycleStage?)null;
            for (var i = start; i <= end; i++)
            {
                var next = i;
                for (var j = i; j <= end; j++)
                {
                    if (history[j].From == previous)
                    {
                        next = j;
                        break;
                    }
                }
                (history[i], history[next]) = (history[next], history[i]);
                previous = history[i].To;
            }
            start = end + 1;
        }
    }

    private async Task<CalibrationLead?> ReadLeadAsync(TableEntity leadRow, CancellationToken cancellationToken)
    {
        var leadId = leadRow.PartitionKey;
        var history = new List<HistoryStep>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.HistoryPrefix} and RowKey lt {LeadRows.HistoryEnd}");
        await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, select: HistoryColumns, cancellationToken: cancellationToken))
        {
            if (row.GetDateTimeOffset(nameof(HistoryEntity.At)) is { } at && Enum.TryParse<LifecycleStage>(row.GetString(nameof(HistoryEntity.To)), out var to))
                history.Add(new HistoryStep(at, row.RowKey, ParseStage(row.GetString(nameof(HistoryEntity.From))), to, row.GetString(nameof(HistoryEntity.Reason)) ?? ""));
        }
        OrderHistory(history);

        var entry = history.FindIndex(h => h.To is LifecycleStage.Mql or LifecycleStage.Sql);
        if (entry < 0)
            return null;
        var (enteredAt, _, _, enteredAs, reason) = history[entry];
        DateTimeOffset? sqlAt = enteredAs == LifecycleStage.Sql ? enteredAt : null, opportunityAt = null, customerAt = null;
        for (var i = entry + 1; i < history.Count; i++)
        {
            var (at, _, _, to, _) = history[i];
            if (to >= LifecycleStage.Sql)
                sqlAt ??= at;
            if (to >= LifecycleStage.Opportunity)
                opportunityAt ??= at;
            if (to >= LifecycleStage.Customer)
                customerAt ??= at;
        }

        var currentGrade = leadRow.GetString(nameof(LeadEntity.FitGrade)) ?? "D";
        if (TryParseQualification(reason, out var judged, out var grade))
            return new CalibrationLead(leadId, enteredAt, enteredAs, judged, grade, CalibrationScoreSource.Qualification, false, sqlAt, opportunityAt, customerAt);

        var halfLife = leadRow.GetDouble(nameof(LeadEntity.HalfLifeSeconds)) is { } seconds && seconds > 0 ? TimeSpan.FromSeconds(seconds) : (activeModel?.Current ?? model).HalfLife;
        var score = await EngagementAtAsync(leadId, enteredAt, halfLife, cancellationToken);
        return new CalibrationLead(leadId, enteredAt, enteredAs, score, currentGrade, CalibrationScoreSource.Ledger, true, sqlAt, opportunityAt, customerAt);
    }

    /// <summary>
    /// The sum of every ledger row up to <paramref name="at"/>, decayed to it. Retention's carried-forward rows are left out:
    /// they stand for points long decayed, and their own time is the fold's, not the award's.
    /// </summary>
    private async Task<double> EngagementAtAsync(string leadId, DateTimeOffset at, TimeSpan halfLife, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadRows.LedgerPrefix} and RowKey lt {LeadRows.LedgerEnd} and At le {at}");
        var total = 0.0;
        await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, select: LedgerColumns, cancellationToken: cancellationToken))
        {
            if (row.RowKey.StartsWith(LeadRows.LedgerFoldPrefix, StringComparison.Ordinal))
                continue;
            // Calibration bands the default engagement score; a named score's points are not part of it.
            if (row.GetString(nameof(LedgerEntity.Score)) is { Length: > 0 } score && score != LedgerRules.EngagementScore)
                continue;
            if (row.GetDouble(nameof(LedgerEntity.Points)) is { } points && row.GetDateTimeOffset(nameof(LedgerEntity.At)) is { } awarded)
                total += points * Decay.Factor(at - awarded, halfLife);
        }
        return total;
    }

    /// <summary>Reads back what <c>LifecycleMachine</c> wrote when the bar promoted the lead.</summary>
    internal static bool TryParseQualification(string reason, out double engagement, out string grade)
    {
        var match = QualificationReason().Match(reason);
        engagement = 0;
        grade = "";
        if (!match.Success || !double.TryParse(match.Groups["score"].ValueSpan, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out engagement))
            return false;
        grade = match.Groups["grade"].Value;
        return true;
    }

    [GeneratedRegex(@"^(?:MQL|SQL): engagement (?<score>-?[0-9]+(?:\.[0-9]+)?) >= -?[0-9.]+ and fit grade (?<grade>[^\s]{1,20}) >= ", RegexOptions.CultureInvariant)]
    private static partial Regex QualificationReason();
}
