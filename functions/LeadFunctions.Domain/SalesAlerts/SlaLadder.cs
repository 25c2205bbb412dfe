using System.Globalization;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Nurture;

namespace LeadFunctions.Domain.SalesAlerts;

/// <summary>What a rung of the SLA ladder does when nobody has acted on an SQL by its time.</summary>
public enum SlaStepKind
{
    /// <summary>Reminds the rep the lead is routed to.</summary>
    Remind,
    /// <summary>Tells the manager (the escalation address, or the step's own <c>to</c>).</summary>
    Escalate,
    /// <summary>Hands the lead to the next rep of its routing pool, with a full alert.</summary>
    Reroute,
    /// <summary>Records the SLA as breached and tells the manager.</summary>
    Breach,
}

/// <summary>One rung: its id (part of the e-mail's outbox id, so it is sent once), kind, delay after the SQL, recipient and template.</summary>
public sealed record SlaStep(string Id, SlaStepKind Kind, TimeSpan After, string? To, string Template)
{
    public string Marker => "sla-" + Id;
}

/// <summary>A step as configured (<c>SalesAlerts:Sla:0:Kind</c>...), before validation.</summary>
public sealed record SlaStepSource(string? Id, string? Kind, string? After, string? To, string? Template);

/// <summary>
/// The SLA ladder of a new SQL: steps in order of their delay after the SQL, each sent at most once and only while nobody in sales
/// has acted on that SQL episode. The shipped default follows the speed-to-lead research (see docs/nurture.md): a reminder inside
/// the first half hour, the manager at one hour, another rep at four, and the breach at a day.
/// </summary>
public sealed partial record SlaLadder(IReadOnlyList<SlaStep> Steps)
{
    public const int MaxSteps = 10;
    public static readonly TimeSpan MaxAfter = TimeSpan.FromDays(30);

    public static IReadOnlyList<SlaStepSource> DefaultSources { get; } =
    [
        new(null, "remind", "15m", null, null),
        new(null, "escalate", "1h", null, null),
        new(null, "reroute", "4h", null, null),
        new(null, "breach", "24h", null, null),
    ];

    public static SlaLadder Default { get; } = Parse(DefaultSources, "SalesAlerts:Sla");

    /// <summary>When the SLA is due: the breach step, or the last step when there is none.</summary>
    public TimeSpan Deadline => (Steps.FirstOrDefault(s => s.Kind == SlaStepKind.Breach) ?? Steps[^1]).After;

    /// <summary>How long the rep has before the lead leaves their hands (escalation or re-routing), or the deadline.</summary>
    public TimeSpan RespondWithin => Steps.FirstOrDefault(s => s.Kind is SlaStepKind.Escalate or SlaStepKind.Reroute)?.After ?? Deadline;

    public SlaStep? Find(string id) => Steps.FirstOrDefault(s => s.Id == id);

    public static string DefaultTemplate(SlaStepKind kind) => kind switch
    {
        SlaStepKind.Remind => "sla-reminder",
        SlaStepKind.Escalate => "sla-escalation",
        SlaStepKind.Reroute => "sales-alert",
        _ => "sla-breach",
    };

    /// <summary>Short text of a delay for ids and e-mails: <c>15m</c>, <c>1h</c>, <c>1.5h</c>, <c>2d</c>.</summary>
    public static string Describe(TimeSpan delay)
    {
        if (delay.TotalDays >= 1 && delay.TotalHours % 24 == 0 && delay.TotalDays != 1)
            return delay.TotalDays.ToString("0.#", CultureInfo.InvariantCulture) + "d";
        if (delay.TotalHours >= 1)
            return delay.TotalHours.ToString("0.#", CultureInfo.InvariantCulture) + "h";
        if (delay.TotalMinutes >= 1)
            return delay.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + "m";
        return delay.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + "s";
    }

    /// <param name="setting">The configuration path, so every error names the step as it is configured.</param>
    public static SlaLadder Parse(IReadOnlyList<SlaStepSource> sources, string setting)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var errors = new List<string>();
        if (sources.Count == 0)
            errors.Add($"{setting}: give at least one step.");
        if (sources.Count > MaxSteps)
            errors.Add($"{setting}: at most {MaxSteps} steps, not {sources.Count}.");

        var steps = new List<SlaStep>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        TimeSpan? previous = null;
        for (var i = 0; i < sources.Count; i++)
        {
            var source = sources[i];
            var label = $"{setting}:{i}";
            var stepErrors = errors.Count;
            if (!Enum.TryParse<SlaStepKind>(source.Kind?.Trim(), ignoreCase: true, out var kind) || !Enum.IsDefined(kind) || int.TryParse(source.Kind, out _))
            {
                errors.Add($"{label}: Kind '{source.Kind}' is not one of remind, escalate, reroute, breach.");
                continue;
            }
            if (string.IsNullOrWhiteSpace(source.After) || !NurtureCatalogueReader.TryParseDelay(source.After, out var after) || after <= TimeSpan.Zero || after > MaxAfter)
            {
                errors.Add($"{label} ({kind.ToString().ToLowerInvariant()}): After '{source.After}' must be a delay after the SQL between 1 second and 30 days, such as 15m, 4h or 1d.");
                continue;
            }
            var id = string.IsNullOrWhiteSpace(source.Id) ? $"{kind.ToString().ToLowerInvariant()}-{Describe(after).Replace('.', '-')}" : source.Id.Trim();
            label = $"{setting}:{i} ({id})";
            if (!IdPattern().IsMatch(id))
                errors.Add($"{label}: Id must be lower-case letters, digits and dashes.");
            else if (!ids.Add(id))
                errors.Add($"{label}: Id is used by an earlier step; give each step its own Id.");
            if (previous is { } before && after <= before)
                errors.Add($"{label}: After {Describe(after)} must be later than the previous step's {Describe(before)} (list the steps in order).");
            previous = after;
            var to = string.IsNullOrWhiteSpace(source.To) ? null : source.To.Trim();
            if (to is not null)
            {
                if (kind is SlaStepKind.Remind or SlaStepKind.Reroute)
                    errors.Add($"{label}: To is only for escalate and breach steps (a reminder goes to the lead's rep, a re-route to the next rep).");
                else if (!EmailAddress.TryNormalize(to, out _))
                    errors.Add($"{label}: To '{to}' is not an e-mail address.");
            }
            if (kind == SlaStepKind.Breach && i != sources.Count - 1)
                errors.Add($"{label}: the breach step must be the last step.");
            var template = string.IsNullOrWhiteSpace(source.Template) ? DefaultTemplate(kind) : source.Template.Trim();
            if (errors.Count == stepErrors)
                steps.Add(new SlaStep(id, kind, after, to, template));
        }

        if (errors.Count > 0)
            throw new SlaLadderException(errors);
        return new SlaLadder(steps);
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")]
    private static partial Regex IdPattern();
}

public sealed class SlaLadderException(IReadOnlyList<string> errors)
    : Exception("The SLA ladder is not valid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
