using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Nurture;

/// <summary>The stage change that lets a lead into a programme.</summary>
public enum NurtureEntryKind
{
    /// <summary>The lead became an MQL from below (Subscriber, Lead, or new).</summary>
    Mql,
    /// <summary>The lead came back to MQL from SQL or later: sales rejected or recycled it.</summary>
    Requalified,
}

/// <summary>A named score a programme's entry asks for, at least <see cref="Min"/>.</summary>
public sealed record NurtureScoreFilter(string Name, double Min);

/// <summary>
/// Who enters a programme: the stage change (<see cref="On"/>) and every filter given (all must hold). A missing filter lets
/// everyone through; values are compared ignoring case.
/// </summary>
public sealed record NurtureEntry
{
    public required IReadOnlySet<NurtureEntryKind> On { get; init; }
    public IReadOnlyList<string> FitGrades { get; init; } = [];
    public NurtureScoreFilter? Score { get; init; }
    /// <summary>Profile field (matched ignoring case) to the values any of which lets the lead in.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Profile { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    /// <summary>Form ids or intents (<see cref="FormIntent"/> names) of the form that brought the lead in.</summary>
    public IReadOnlyList<string> Forms { get; init; } = [];

    public bool Matches(LeadSummary lead, NurtureEntryKind kind)
    {
        ArgumentNullException.ThrowIfNull(lead);
        if (!On.Contains(kind))
            return false;
        if (FitGrades.Count > 0 && !FitGrades.Contains(lead.FitGrade, StringComparer.OrdinalIgnoreCase))
            return false;
        if (Score is { } score && !(NurtureScores.Of(lead, score.Name) is { } value && value >= score.Min))
            return false;
        foreach (var (field, values) in Profile)
        {
            var given = lead.Profile.FirstOrDefault(p => string.Equals(p.Key, field, StringComparison.OrdinalIgnoreCase)).Value;
            if (given is null || !values.Contains(given.Trim(), StringComparer.OrdinalIgnoreCase))
                return false;
        }
        if (Forms.Count > 0 && !Forms.Any(f => NurtureBehaviour.SameForm(f, lead.OriginForm, lead.OriginIntent)))
            return false;
        return true;
    }

    /// <summary>Which kind of entry a stage change is, or null when it is not a move into MQL.</summary>
    public static NurtureEntryKind? KindOf(StageChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.To != LifecycleStage.Mql || change.From == LifecycleStage.Mql)
            return null;
        return change.From is >= LifecycleStage.Sql ? NurtureEntryKind.Requalified : NurtureEntryKind.Mql;
    }

    public static string Name(NurtureEntryKind kind) => kind == NurtureEntryKind.Requalified ? "requalified" : "mql";
}

/// <summary>
/// The score a programme's entry names: "engagement" is the lead's default engagement score, any other name a named score of
/// the scoring model (one the lead never earned counts as 0). Names the model does not define are refused at start.
/// </summary>
public static class NurtureScores
{
    public const string Engagement = "engagement";

    public static double? Of(LeadSummary lead, string name)
    {
        ArgumentNullException.ThrowIfNull(lead);
        if (string.Equals(name, Engagement, StringComparison.OrdinalIgnoreCase))
            return lead.EngagementScore;
        return lead.Scores.TryGetValue(name, out var value) ? value : 0;
    }
}

public enum BehaviourKind
{
    /// <summary>A human open of an e-mail of the programme (<see cref="NurtureBehaviour.EmailStep"/>).</summary>
    Open,
    /// <summary>A human click in that e-mail: on the link named <see cref="NurtureBehaviour.Value"/>, or one whose URL matches it as a glob.</summary>
    Click,
    /// <summary>A page view whose URL matches the glob <see cref="NurtureBehaviour.Value"/>.</summary>
    Visit,
    /// <summary>A form submission of that form id or intent.</summary>
    Form,
}

/// <summary>
/// Something the lead does that a branch waits for or a goal ends a programme on. Probable bots (a scanner opening or following
/// every link) never match: a branch is steered by people only.
/// </summary>
public sealed record NurtureBehaviour(BehaviourKind Kind, string? Value, string? EmailStep = null)
{
    /// <summary>Whether the event is this behaviour, for programme <paramref name="programmeId"/>.</summary>
    public bool Matches(LeadEvent e, string programmeId)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (string.Equals(e.Property(LeadEventProperties.ProbableBot), "true", StringComparison.OrdinalIgnoreCase))
            return false;
        switch (Kind)
        {
            case BehaviourKind.Open or BehaviourKind.Click:
                if (e.Type != (Kind == BehaviourKind.Open ? LeadEventTypes.EmailOpen : LeadEventTypes.EmailClick)
                    || e.Property(LeadEventProperties.Programme) != programmeId
                    || (EmailStep is not null && e.Property(LeadEventProperties.Step) != EmailStep))
                    return false;
                if (Kind == BehaviourKind.Open || Value is null)
                    return true;
                return IsUrlGlob(Value)
                    ? e.Property(LeadEventProperties.Url) is { } url && Glob.Matches(Value, url)
                    : string.Equals(e.Property(LeadEventProperties.Link), Value, StringComparison.OrdinalIgnoreCase);
            case BehaviourKind.Visit:
                return e.Type == LeadEventTypes.PageView && e.Property(LeadEventProperties.Url) is { } page && Glob.Matches(Value ?? "*", page);
            default:
                return e.Type == LeadEventTypes.FormSubmission && SameForm(Value ?? "", e.FormId, e.Intent?.ToString());
        }
    }

    /// <summary>A click condition with a slash or a wildcard is a URL glob; otherwise it names a link (<c>data-link</c>).</summary>
    public static bool IsUrlGlob(string value) => value.Contains('/', StringComparison.Ordinal) || value.Contains('*', StringComparison.Ordinal);

    public static bool SameForm(string wanted, string? formId, string? intent) =>
        (formId is not null && string.Equals(wanted, formId, StringComparison.OrdinalIgnoreCase))
        || (intent is not null && string.Equals(Normalise(wanted), Normalise(intent), StringComparison.OrdinalIgnoreCase));

    private static string Normalise(string name) => name.Replace("-", "", StringComparison.Ordinal);

    public override string ToString() => Kind switch
    {
        BehaviourKind.Open => $"open of '{EmailStep}'",
        BehaviourKind.Click => $"click on '{Value ?? "any link"}' in '{EmailStep}'",
        BehaviourKind.Visit => $"visit to '{Value}'",
        _ => $"form '{Value}'",
    };
}

/// <summary>
/// A step that sends nothing: it waits up to <see cref="Wait"/> for <see cref="When"/>, then goes to <see cref="Then"/> or
/// <see cref="Else"/> (a step id; null ends the programme).
/// </summary>
public sealed record NurtureBranch(TimeSpan Wait, NurtureBehaviour When, string? Then, string? Else)
{
    /// <summary>
    /// The step to go to when the branch fires. <paramref name="lastHappenedAt"/> is the latest time the behaviour was recorded for
    /// the lead, read when the branch fires (so a click that was processed late still counts); it counts when it is at or after the
    /// start of the wait.
    /// </summary>
    public string? Resolve(DateTimeOffset waitStartedAt, DateTimeOffset? lastHappenedAt) =>
        Happened(waitStartedAt, lastHappenedAt) ? Then : Else;

    public static bool Happened(DateTimeOffset since, DateTimeOffset? lastHappenedAt) =>
        lastHappenedAt is { } at && at >= since - NurturePlanner.StoreTolerance;
}

/// <summary>Case-insensitive wildcard match over a whole string: <c>*</c> any run of characters, <c>?</c> one. Linear, no regex.</summary>
public static class Glob
{
    public static bool Matches(string pattern, string text)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(text);
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
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
