using System.Text.RegularExpressions;
using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Scoring;

/// <summary>
/// The scoring model as the engine uses it: validated, with URL patterns compiled and rules indexed by event type,
/// so scoring an event never parses or allocates configuration. Built only by <see cref="ScoringModelLoader"/>.
/// </summary>
public sealed class ScoringModel
{
    internal ScoringModel(
        string version,
        TimeSpan halfLife,
        IReadOnlyList<EngagementRule> engagementRules,
        IReadOnlyList<FitRule> fitRules,
        IReadOnlyList<GradeBand> grades,
        QualificationPolicy qualification,
        IReadOnlyList<NamedScore>? scores = null)
    {
        Version = version;
        HalfLife = halfLife;
        EngagementRules = engagementRules;
        FitRules = fitRules;
        Grades = grades;
        Qualification = qualification;
        Scores = scores ?? [];
        _scoresByName = Scores.ToDictionary(s => s.Name, StringComparer.Ordinal);

        var byType = new Dictionary<string, EngagementRule[]>(StringComparer.Ordinal);
        var untyped = engagementRules.Where(r => r.Match.EventType is null).ToArray();
        foreach (var type in LeadEventTypes.All)
            byType[type] = engagementRules.Where(r => r.Match.EventType is null || r.Match.EventType == type).ToArray();
        _rulesByType = byType;
        _untypedRules = untyped;
    }

    private readonly Dictionary<string, EngagementRule[]> _rulesByType;
    private readonly EngagementRule[] _untypedRules;
    private readonly Dictionary<string, NamedScore> _scoresByName;

    /// <summary>Recorded on every ledger row and transition, so a score can always be traced to the model that produced it.</summary>
    public string Version { get; }

    /// <summary>Time for an engagement point to lose half its weight.</summary>
    public TimeSpan HalfLife { get; }

    public IReadOnlyList<EngagementRule> EngagementRules { get; }
    public IReadOnlyList<FitRule> FitRules { get; }

    /// <summary>Grade bands, best (A) first.</summary>
    public IReadOnlyList<GradeBand> Grades { get; }

    public QualificationPolicy Qualification { get; }

    /// <summary>
    /// Named engagement scores kept beside the default one (<see cref="LedgerRules.EngagementScore"/>), each with its own rules,
    /// caps and half-life; empty for a model with only the default score.
    /// </summary>
    public IReadOnlyList<NamedScore> Scores { get; }

    /// <summary>The named score called <paramref name="name"/>, or null (the default score is not a named one).</summary>
    public NamedScore? Score(string name) => _scoresByName.GetValueOrDefault(name);

    /// <summary>The rules that could match an event of this type, in model order.</summary>
    internal EngagementRule[] RulesFor(string eventType) =>
        _rulesByType.TryGetValue(eventType, out var rules) ? rules : _untypedRules;

    /// <summary>The grade of a fit score: the first band (A first) whose minimum it reaches; below every band is the last grade.</summary>
    public string GradeFor(double fitScore)
    {
        foreach (var band in Grades)
        {
            if (fitScore >= band.MinScore)
                return band.Grade;
        }
        return Grades[^1].Grade;
    }
}

/// <summary>
/// A named engagement score (e.g. one per product): points from its own <see cref="Rules"/>, decaying with its own
/// <see cref="HalfLife"/>. <see cref="MqlBar"/> and <see cref="SqlBar"/> are the values at which it qualifies a lead on its own,
/// from <c>qualification.mql.orScores</c> and <c>qualification.sql.orScores</c>; null when the bar does not name it.
/// </summary>
public sealed class NamedScore
{
    internal NamedScore(string name, TimeSpan halfLife, IReadOnlyList<EngagementRule> rules, double? mqlBar, double? sqlBar)
    {
        Name = name;
        HalfLife = halfLife;
        Rules = rules;
        MqlBar = mqlBar;
        SqlBar = sqlBar;
        foreach (var type in LeadEventTypes.All)
            _rulesByType[type] = rules.Where(r => r.Match.EventType is null || r.Match.EventType == type).ToArray();
        _untypedRules = rules.Where(r => r.Match.EventType is null).ToArray();
    }

    private readonly Dictionary<string, EngagementRule[]> _rulesByType = new(StringComparer.Ordinal);
    private readonly EngagementRule[] _untypedRules;

    public string Name { get; }
    public TimeSpan HalfLife { get; }
    public IReadOnlyList<EngagementRule> Rules { get; }
    public double? MqlBar { get; }
    public double? SqlBar { get; }

    internal EngagementRule[] RulesFor(string eventType) =>
        _rulesByType.TryGetValue(eventType, out var rules) ? rules : _untypedRules;
}

/// <summary>Points for events that match every criterion given in <see cref="Match"/>.</summary>
public sealed record EngagementRule(string Id, double Points, RuleMatch Match, RuleCap? Cap, int Index)
{
    /// <summary>The ledger note of a capped match, built once rather than per event.</summary>
    internal string? CapNote { get; } = Cap is null ? null : Cap.Per switch
    {
        CapPeriod.Day => $"capped: at most {Cap.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)} per day",
        CapPeriod.Week => $"capped: at most {Cap.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)} per week",
        _ => $"capped: at most {Cap.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)} ever",
    };
}

/// <summary>Glob matching without a regex: linear for the patterns people write, no allocation.</summary>
internal static class Glob
{
    public static bool IsMatch(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern)
    {
        int t = 0, p = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t])))
            {
                t++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}

/// <summary>Criteria an event must all meet; a null criterion matches anything.</summary>
public sealed record RuleMatch
{
    public string? EventType { get; init; }
    public string? FormId { get; init; }
    public FormIntent? FormIntent { get; init; }
    /// <summary>The original glob or regular expression, kept for explanations.</summary>
    public string? UrlPattern { get; init; }
    internal Regex? Url { get; init; }
    /// <summary>A glob matched against the whole URL: <c>*</c> any run of characters, <c>?</c> one character, ignoring case.</summary>
    internal string? UrlGlob { get; init; }
    public string? FunnelStage { get; init; }
    public string? Campaign { get; init; }
}

public enum CapPeriod
{
    /// <summary>A UTC calendar day.</summary>
    Day,
    /// <summary>An ISO week (Monday to Sunday, UTC).</summary>
    Week,
    Ever,
}

/// <summary>At most <see cref="Count"/> awards of a rule per <see cref="Per"/>; further matches are recorded with zero points.</summary>
public sealed record RuleCap(int Count, CapPeriod Per);

public enum FitOperator
{
    Equals,
    OneOf,
    Contains,
    Range,
}

/// <summary>Points when a profile field meets a condition; text comparisons ignore case and surrounding spaces.</summary>
public sealed record FitRule(string Id, string Field, FitOperator Operator, IReadOnlyList<string> Values, double? Min, double? Max, double Points)
{
    public bool Matches(IReadOnlyDictionary<string, string> profile)
    {
        if (!profile.TryGetValue(Field, out var raw) || string.IsNullOrWhiteSpace(raw))
            return false;
        var value = raw.AsSpan().Trim();
        switch (Operator)
        {
            case FitOperator.Equals:
            case FitOperator.OneOf:
                foreach (var candidate in Values)
                {
                    if (value.Equals(candidate, StringComparison.OrdinalIgnoreCase))
                        return true;
                }
                return false;
            case FitOperator.Contains:
                foreach (var candidate in Values)
                {
                    if (value.Contains(candidate, StringComparison.OrdinalIgnoreCase))
                        return true;
                }
                return false;
            case FitOperator.Range:
                if (!double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number))
                    return false;
                return (Min is null || number >= Min) && (Max is null || number <= Max);
            default:
                return false;
        }
    }
}

/// <summary>A fit grade and the lowest fit score that earns it.</summary>
public sealed record GradeBand(string Grade, double MinScore);

/// <summary>What it takes to be an MQL or SQL: both an engagement threshold and a minimum fit grade.</summary>
public sealed record QualificationPolicy(QualificationBar Mql, QualificationBar Sql);

/// <summary>
/// A stage's bar: the fit grade, and the default engagement score at <see cref="MinEngagement"/> or, instead, any named score at
/// its own bar in <see cref="OrScores"/>.
/// </summary>
public sealed record QualificationBar(double MinEngagement, string MinGrade)
{
    /// <summary>Named scores that also qualify, each at its own minimum, in model order; empty for the default score alone.</summary>
    public IReadOnlyList<ScoreBar> OrScores { get; init; } = [];
}

/// <summary>A named score and the value it must reach to qualify a lead.</summary>
public sealed record ScoreBar(string Score, double Min);
