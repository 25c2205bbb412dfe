using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadFunctions.Domain.Scoring.DryRun;

/// <summary>
/// What a proposed model would do to the stored leads. "Before" is the current model replayed over the same events, so every
/// difference is the model's, not drift between the stored rows and today's code; <see cref="StoredStageMismatches"/> says
/// how often the current replay disagrees with the stored stage (late decay, manual moves made before events were kept).
/// Lists are ordered by lead id and rule id, so the same events and models give byte-identical JSON.
/// </summary>
public sealed record DryRunReport
{
    public required string CurrentModelVersion { get; init; }
    public required string ProposedModelVersion { get; init; }
    /// <summary>The instant engagement scores are read at (decay), fixed so a report can be reproduced.</summary>
    public required DateTimeOffset AsOf { get; init; }
    public required DryRunFilterView Filter { get; init; }
    public required long Leads { get; init; }
    public required long Events { get; init; }
    public required long EventsWithoutJson { get; init; }
    public required long StoredStageMismatches { get; init; }
    public required long LeadsChangingStage { get; init; }
    /// <summary>Stage moves as "Mql to Lead" and how many leads make them.</summary>
    public required IReadOnlyList<NamedCount> StageMoves { get; init; }
    public required StageFlow Mql { get; init; }
    public required StageFlow Sql { get; init; }
    /// <summary>Leads changing stage, listed up to <see cref="ListLimit"/> (counts above are always complete).</summary>
    public required IReadOnlyList<LeadChange> StageChanges { get; init; }
    public required int ListLimit { get; init; }
    public required bool ListsTruncated { get; init; }
    public required Distribution Before { get; init; }
    public required Distribution After { get; init; }
    /// <summary>Entries into SQL per ISO week of the event that caused them, before and after.</summary>
    public required IReadOnlyList<WeeklySqls> NewSqlsPerWeek { get; init; }
    /// <summary>
    /// Each named score of either model, by name (at most 10 per model): its bands before and after, and its leads against the
    /// <c>orScores</c> bars. Empty when neither model has named scores.
    /// </summary>
    public required IReadOnlyList<NamedScoreDistribution> NamedScores { get; init; }
    public required IReadOnlyList<DryRunWarning> Warnings { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The readable summary: counts first, then who moves, then distributions and warnings.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Dry-run of model {ProposedModelVersion} against {CurrentModelVersion} (scores as of {AsOf:yyyy-MM-dd HH:mm}Z)");
        sb.AppendLine(c, $"{Leads} leads, {Events} events replayed; {LeadsChangingStage} leads would change stage.");
        if (EventsWithoutJson > 0)
            sb.AppendLine(c, $"{EventsWithoutJson} stored events have no JSON (too large when applied) and were not replayed.");
        if (StoredStageMismatches > 0)
            sb.AppendLine(c, $"{StoredStageMismatches} leads' stored stage differs from the current model's replay (see docs/scoring.md).");
        foreach (var move in StageMoves)
            sb.AppendLine(c, $"  {move.Name}: {move.Count}");
        AppendFlow(sb, "MQL", Mql);
        AppendFlow(sb, "SQL", Sql);
        sb.AppendLine("Engagement score bands (before -> after):");
        for (var i = 0; i < Before.Scores.Count; i++)
            sb.AppendLine(c, $"  {Before.Scores[i].Name,-8} {Before.Scores[i].Count,8} -> {After.Scores[i].Count}");
        sb.AppendLine("Fit grades (before -> after):");
        for (var i = 0; i < Before.Grades.Count; i++)
            sb.AppendLine(c, $"  {Before.Grades[i].Name,-8} {Before.Grades[i].Count,8} -> {After.Grades[i].Count}");
        foreach (var named in NamedScores)
            AppendNamed(sb, named);
        if (NewSqlsPerWeek.Count > 0)
        {
            sb.AppendLine("New SQLs per week (before -> after):");
            foreach (var week in NewSqlsPerWeek)
                sb.AppendLine(c, $"  {week.Week} {week.Before,8} -> {week.After}");
        }
        if (Warnings.Count > 0)
        {
            sb.AppendLine("Warnings:");
            foreach (var w in Warnings)
                sb.AppendLine(c, $"  rule '{w.RuleId}'{(w.Field is null ? "" : " (" + w.Field + ")")}: {w.Message}");
        }
        return sb.ToString();
    }

    private static void AppendNamed(StringBuilder sb, NamedScoreDistribution named)
    {
        var c = CultureInfo.InvariantCulture;
        var only = (named.InCurrent, named.InProposed) switch
        {
            (false, true) => " (new in the proposal)",
            (true, false) => " (removed by the proposal)",
            _ => "",
        };
        sb.AppendLine(c, $"Score {named.Name} bands (before -> after){only}:");
        for (var i = 0; i < named.Before.Count; i++)
            sb.AppendLine(c, $"  {named.Before[i].Name,-8} {named.Before[i].Count,8} -> {named.After[i].Count}");
        AppendBar(sb, "MQL", named.Mql);
        AppendBar(sb, "SQL", named.Sql);
    }

    private static void AppendBar(StringBuilder sb, string stage, ScoreBarCrossing? bar)
    {
        if (bar is null)
            return;
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"  {stage} bar {Bar(bar.BeforeBar)} -> {Bar(bar.AfterBar)}: {bar.AtOrAboveBefore} -> {bar.AtOrAboveAfter} leads at or above ({bar.Rising} rise across it, {bar.Falling} fall below it)");
    }

    private static string Bar(double? bar) => bar is { } b ? b.ToString(CultureInfo.InvariantCulture) : "none";

    private static void AppendFlow(StringBuilder sb, string name, StageFlow flow)
    {
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"{name}: {flow.EnteringCount} would enter, {flow.LeavingCount} would leave.");
        foreach (var lead in flow.Entering)
            sb.AppendLine(c, $"  + {lead.LeadId} {lead.BeforeScore} -> {lead.AfterScore} ({Because(lead)})");
        foreach (var lead in flow.Leaving)
            sb.AppendLine(c, $"  - {lead.LeadId} {lead.BeforeScore} -> {lead.AfterScore} ({Because(lead)})");
    }

    private static string Because(LeadChange lead) => lead.Rules.Count == 0
        ? "thresholds or grades, no rule's points changed"
        : string.Join(", ", lead.Rules.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.RuleId} {r.BeforePoints}->{r.AfterPoints}")));
}

public sealed record DryRunFilterView(string? Stage, string? FormId, DateTimeOffset? From, DateTimeOffset? To, int? MaxLeads);

public sealed record NamedCount(string Name, long Count);

public sealed record StageFlow(long EnteringCount, long LeavingCount, IReadOnlyList<LeadChange> Entering, IReadOnlyList<LeadChange> Leaving);

/// <summary>A lead whose stage would change; <see cref="Rules"/> are the rules whose points for it differ most between the models.</summary>
public sealed record LeadChange(
    string LeadId,
    string BeforeStage,
    string AfterStage,
    double BeforeScore,
    double AfterScore,
    string BeforeGrade,
    string AfterGrade,
    IReadOnlyList<RuleDifference> Rules);

/// <summary>Points a rule awarded the lead over its whole history (undecayed) under each model.</summary>
public sealed record RuleDifference(string RuleId, double BeforePoints, double AfterPoints);

public sealed record Distribution(IReadOnlyList<NamedCount> Scores, IReadOnlyList<NamedCount> Grades, IReadOnlyList<NamedCount> Stages);

/// <summary>A named score's engagement bands (the default score's bands) before and after; the bars that name it.</summary>
public sealed record NamedScoreDistribution(
    string Name,
    bool InCurrent,
    bool InProposed,
    IReadOnlyList<NamedCount> Before,
    IReadOnlyList<NamedCount> After,
    ScoreBarCrossing? Mql,
    ScoreBarCrossing? Sql);

/// <summary>
/// Leads whose named score (at asOf) is at or above an <c>orScores</c> bar: the current model's bar before, the proposed one
/// after (null where that model's bar does not name the score); <see cref="Rising"/> leads go from below to at or above it,
/// <see cref="Falling"/> the other way. The score alone: the grade and a sales rejection's floor, which qualification also
/// weighs, are in the stage moves.
/// </summary>
public sealed record ScoreBarCrossing(double? BeforeBar, double? AfterBar, long AtOrAboveBefore, long AtOrAboveAfter, long Rising, long Falling);

public sealed record WeeklySqls(string Week, long Before, long After);

/// <summary>Kinds: <c>never-matched</c> (no replayed event met the rule) and <c>unreachable</c> (no form or content can produce its value).</summary>
public sealed record DryRunWarning(string Kind, string RuleId, string? Field, string Message);
