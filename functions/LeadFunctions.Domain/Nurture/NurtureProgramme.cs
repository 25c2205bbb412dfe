using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Configuration;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Nurture;

/// <summary>What a step's delay counts from.</summary>
public enum StepAnchor
{
    /// <summary>The moment the lead was enrolled (became an MQL).</summary>
    Enrolment,
    /// <summary>The moment the previous step was actually sent.</summary>
    PreviousStep,
}

/// <summary>
/// One step of a programme: an e-mail (when it goes: a delay from its anchor; what it says: subject and template; where the lead
/// goes after it: <see cref="Next"/>), or a <see cref="Branch"/> that sends nothing and picks the next step by what the lead did.
/// </summary>
public sealed record NurtureStep(string Id, TimeSpan Delay, StepAnchor After, string Subject, string Template)
{
    /// <summary>The step after this e-mail; null when the programme ends here. Unused for a branch.</summary>
    public string? Next { get; init; }

    public NurtureBranch? Branch { get; init; }

    public bool IsBranch => Branch is not null;
}

/// <summary>What ends a programme besides becoming an SQL, unsubscribing and another programme taking over: reaching a goal.</summary>
public sealed record NurtureExit(IReadOnlyList<NurtureBehaviour> Goals)
{
    public static readonly NurtureExit None = new([]);
}

/// <summary>
/// A versioned programme of nurture e-mails. Step ids are the identity of a sent e-mail (outbox id = lead + programme + step),
/// so a new version that keeps a step's id never sends that step again to a lead that already had it.
/// </summary>
public sealed record NurtureProgramme(string Id, string Version, IReadOnlyList<NurtureStep> Steps)
{
    /// <summary>Higher wins when several programmes' entries match a lead; two programmes never share one.</summary>
    public int Priority { get; init; }

    /// <summary>Who enters; null for a programme nobody enters by a stage change.</summary>
    public NurtureEntry? Entry { get; init; }

    public NurtureExit Exit { get; init; } = NurtureExit.None;

    /// <summary>The days and hours its e-mails may go, in the lead's time zone; null sends at any time.</summary>
    public SendWindow? Window { get; init; }

    public int IndexOf(string stepId)
    {
        for (var i = 0; i < Steps.Count; i++)
        {
            if (Steps[i].Id == stepId)
                return i;
        }
        return -1;
    }

    public NurtureStep? Find(string? stepId) => stepId is null ? null : Steps.FirstOrDefault(s => s.Id == stepId);

    /// <summary>The step after the e-mail step <paramref name="stepId"/>: its <see cref="NurtureStep.Next"/>, null at the end.</summary>
    public NurtureStep? After(string stepId) => Find(Find(stepId)?.Next);
}

/// <summary>All programmes, and which one a lead enters.</summary>
public sealed record NurtureCatalogue(string Version, IReadOnlyDictionary<string, NurtureProgramme> Programmes)
{
    /// <summary>The zone of a lead whose profile gives neither a time zone nor a known country; null means UTC.</summary>
    public TimeZoneInfo? DefaultTimeZone { get; init; }

    public NurtureProgramme? Find(string programmeId) => Programmes.GetValueOrDefault(programmeId);

    /// <summary>
    /// The programme the lead enters on a stage change of kind <paramref name="kind"/>: the highest-priority one whose entry matches,
    /// above <paramref name="above"/> when given (a takeover must outrank the programme the lead is in). Null when none does.
    /// </summary>
    public NurtureProgramme? Select(LeadSummary lead, NurtureEntryKind kind, int? above = null) =>
        Programmes.Values
            .Where(p => p.Entry is not null && (above is null || p.Priority > above) && p.Entry.Matches(lead, kind))
            .OrderByDescending(p => p.Priority)
            .FirstOrDefault();
}

public sealed class NurtureConfigurationException(IReadOnlyList<string> errors)
    : Exception("The nurture configuration is not valid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Reads <c>config/nurture.json</c>. Every problem is reported at once, each naming the programme and step, so a bad edit
/// fails the start of the app with a message the marketer can act on rather than a half-working timer.
/// </summary>
public static partial class NurtureCatalogueReader
{
    /// <summary>What <c>next</c> says for "the programme ends after this e-mail".</summary>
    public const string End = "end";

    public static NurtureCatalogue Parse(string json, Func<string, bool>? templateExists = null)
    {
        var model = ConfigurationJson.Read<FileModel>(json, "nurture.json", problems => new NurtureConfigurationException(problems));

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(model.Version))
            errors.Add("version is missing (give the file a version, e.g. \"2026-01\").");

        var programmes = new Dictionary<string, NurtureProgramme>(StringComparer.Ordinal);
        var list = model.Programmes ?? [];
        if (list.Count == 0)
            errors.Add("programmes is empty: define at least one programme.");

        // The first format named one programme for every new MQL; it still reads, as that programme entering on mql and requalified.
        var legacy = !string.IsNullOrWhiteSpace(model.EnrolOnMql);
        if (legacy && list.Any(p => p.Entry is not null))
            errors.Add("enrolOnMql: cannot be combined with a programme's entry; remove enrolOnMql and give that programme \"entry\": { \"on\": [\"mql\", \"requalified\"] }.");
        else if (legacy && !list.Any(p => p.Id == model.EnrolOnMql))
            errors.Add($"enrolOnMql names programme '{model.EnrolOnMql}', which is not defined.");
        else if (!legacy && list.Count > 0 && list.All(p => p.Entry is null))
            errors.Add("no programme has an entry: give at least one programme \"entry\": { \"on\": [\"mql\"] } (or name it in the older enrolOnMql).");

        for (var p = 0; p < list.Count; p++)
        {
            var source = list[p];
            var name = string.IsNullOrWhiteSpace(source.Id) ? $"programmes[{p}]" : $"programme '{source.Id}'";
            if (string.IsNullOrWhiteSpace(source.Id) || !IdPattern().IsMatch(source.Id))
                errors.Add($"{name}: id must be lower-case letters, digits and dashes (1-40 characters).");
            else if (programmes.ContainsKey(source.Id))
                errors.Add($"{name}: id is used by another programme.");
            if (string.IsNullOrWhiteSpace(source.Version))
                errors.Add($"{name}: version is missing.");

            var entry = legacy && source.Id == model.EnrolOnMql
                ? new NurtureEntry { On = new HashSet<NurtureEntryKind> { NurtureEntryKind.Mql, NurtureEntryKind.Requalified } }
                : ReadEntry(source.Entry, name, errors);

            var sourceSteps = source.Steps ?? [];
            if (sourceSteps.Count == 0)
                errors.Add($"{name}: steps is empty.");
            var stepIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var step in sourceSteps)
            {
                if (!string.IsNullOrWhiteSpace(step.Id) && !stepIds.Add(step.Id))
                    errors.Add($"{name} step '{step.Id}': id is used twice in the programme.");
            }

            var steps = new List<NurtureStep>();
            for (var s = 0; s < sourceSteps.Count; s++)
                steps.Add(ReadStep(sourceSteps, s, name, stepIds, templateExists, errors));
            CheckGraph(steps, name, errors);

            var exit = ReadExit(source.Exit, name, errors);
            var window = SendWindowReader.Parse(source.SendWindow, name, errors);
            if (!string.IsNullOrWhiteSpace(source.Id))
            {
                programmes.TryAdd(source.Id, new NurtureProgramme(source.Id, source.Version ?? "", steps)
                {
                    Priority = source.Priority ?? 0,
                    Entry = entry,
                    Exit = exit,
                    Window = window,
                });
            }
        }

        foreach (var tie in programmes.Values.Where(p => p.Entry is not null).GroupBy(p => p.Priority).Where(g => g.Count() > 1))
            errors.Add($"programmes {string.Join(" and ", tie.Select(p => $"'{p.Id}'"))} have the same priority {tie.Key}: give each programme with an entry its own priority (higher wins).");

        var defaultTimeZone = SendWindowReader.ParseTimeZone(model.DefaultTimeZone, errors);
        if (errors.Count > 0)
            throw new NurtureConfigurationException(errors);
        return new NurtureCatalogue(model.Version!, programmes) { DefaultTimeZone = defaultTimeZone };
    }

    private static NurtureEntry? ReadEntry(EntryModel? entry, string name, List<string> errors)
    {
        if (entry is null)
            return null;
        var on = new HashSet<NurtureEntryKind>();
        foreach (var value in entry.On ?? [])
        {
            switch (value?.Trim().ToLowerInvariant())
            {
                case "mql": on.Add(NurtureEntryKind.Mql); break;
                case "requalified": on.Add(NurtureEntryKind.Requalified); break;
                default: errors.Add($"{name}: entry.on '{value}' must be \"mql\" (became an MQL) or \"requalified\" (back to MQL after sales sent it back)."); break;
            }
        }
        if (on.Count == 0 && (entry.On is null || entry.On.Count == 0))
            errors.Add($"{name}: entry.on is missing: say which stage changes let a lead in (\"mql\", \"requalified\").");

        var grades = entry.FitGrades ?? [];
        if (grades.Any(string.IsNullOrWhiteSpace))
            errors.Add($"{name}: entry.fitGrades has an empty grade.");

        NurtureScoreFilter? score = null;
        if (entry.Score is { } s)
        {
            if (string.IsNullOrWhiteSpace(s.Name))
                errors.Add($"{name}: entry.score.name is missing (\"engagement\" or a named score).");
            if (s.Min is not { } min || double.IsNaN(min))
                errors.Add($"{name}: entry.score.min is missing.");
            score = new NurtureScoreFilter(s.Name?.Trim() ?? "", s.Min ?? 0);
        }

        var profile = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (field, values) in entry.Profile ?? [])
        {
            if (string.IsNullOrWhiteSpace(field))
                errors.Add($"{name}: entry.profile has an empty field name.");
            else if (values is null || values.Count == 0 || values.Any(string.IsNullOrWhiteSpace))
                errors.Add($"{name}: entry.profile.{field} must list at least one non-empty value.");
            else
                profile[field.Trim()] = [.. values.Select(v => v.Trim())];
        }

        var forms = entry.Forms ?? [];
        if (forms.Any(string.IsNullOrWhiteSpace))
            errors.Add($"{name}: entry.forms has an empty form id.");

        return new NurtureEntry
        {
            On = on,
            FitGrades = [.. grades.Where(g => !string.IsNullOrWhiteSpace(g)).Select(g => g.Trim())],
            Score = score,
            Profile = profile,
            Forms = [.. forms.Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => f.Trim())],
        };
    }

    private static NurtureExit ReadExit(ExitModel? exit, string name, List<string> errors)
    {
        if (exit is null)
            return NurtureExit.None;
        var goals = new List<NurtureBehaviour>();
        var sourceGoals = exit.Goals ?? [];
        for (var g = 0; g < sourceGoals.Count; g++)
        {
            var goal = sourceGoals[g];
            var given = new[] { goal.Form, goal.Visit }.Count(v => v is not null);
            if (given != 1 || string.IsNullOrWhiteSpace(goal.Form ?? goal.Visit))
                errors.Add($"{name}: exit.goals[{g}] must give exactly one of form (a form id or intent) or visit (a URL glob such as \"*/pricing*\").");
            else
                goals.Add(goal.Form is not null ? new NurtureBehaviour(BehaviourKind.Form, goal.Form.Trim()) : new NurtureBehaviour(BehaviourKind.Visit, goal.Visit!.Trim()));
        }
        return new NurtureExit(goals);
    }

    private static NurtureStep ReadStep(List<StepModel> sourceSteps, int s, string name, HashSet<string> stepIds, Func<string, bool>? templateExists, List<string> errors)
    {
        var step = sourceSteps[s];
        var stepName = string.IsNullOrWhiteSpace(step.Id) ? $"{name} step {s + 1}" : $"{name} step '{step.Id}'";
        if (string.IsNullOrWhiteSpace(step.Id) || !IdPattern().IsMatch(step.Id))
            errors.Add($"{stepName}: id must be lower-case letters, digits and dashes (1-40 characters).");

        string? Target(string field, string? value, bool allowEnd)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{stepName}: {field} is missing (a step id{(allowEnd ? " or \"end\"" : "")}).");
                return null;
            }
            if (allowEnd && value == End)
                return null;
            if (value == step.Id)
                errors.Add($"{stepName}: {field} points at the step itself.");
            else if (!stepIds.Contains(value))
                errors.Add($"{stepName}: {field} names step '{value}', which is not in the programme.");
            return value;
        }

        if (step.Branch is { } branch)
        {
            if (step.Subject is not null || step.Template is not null || step.Delay is not null || step.Next is not null)
                errors.Add($"{stepName}: a branch sends nothing: it takes wait, then and else, not delay, subject, template or next.");
            TimeSpan wait = TimeSpan.Zero;
            if (string.IsNullOrWhiteSpace(branch.Wait))
                errors.Add($"{stepName}: branch.wait is missing (how long to wait for the behaviour, e.g. \"3d\").");
            else if (!TryParseDelay(branch.Wait, out wait) || wait <= TimeSpan.Zero)
                errors.Add($"{stepName}: branch.wait '{branch.Wait}' is not a positive duration (e.g. \"3d\", \"36h\").");

            var conditions = new[] { branch.Open is true ? "open" : null, branch.Click, branch.Visit, branch.Form }.Count(c => c is not null);
            NurtureBehaviour when = new(BehaviourKind.Open, null);
            string? email = null;
            if (branch.Open is true || branch.Click is not null)
            {
                // An open or click is of one e-mail: the one named, else the nearest e-mail step before the branch in the file.
                email = branch.Email ?? sourceSteps.Take(s).LastOrDefault(x => x.Branch is null)?.Id;
                if (email is null)
                    errors.Add($"{stepName}: branch.email is missing: an open or click condition needs the e-mail step it watches, and no e-mail step comes before this branch.");
                else if (!stepIds.Contains(email) || sourceSteps.First(x => x.Id == email).Branch is not null)
                    errors.Add($"{stepName}: branch.email names '{email}', which is not an e-mail step of the programme.");
            }
            else if (branch.Email is not null)
            {
                errors.Add($"{stepName}: branch.email is only for open and click conditions.");
            }
            if (conditions != 1)
                errors.Add($"{stepName}: branch needs exactly one condition: open (true), click (a link name or URL glob), visit (a URL glob) or form (a form id or intent).");
            else if (branch.Open is true)
                when = new NurtureBehaviour(BehaviourKind.Open, null, email);
            else if (branch.Click is { } click)
                when = new NurtureBehaviour(BehaviourKind.Click, string.IsNullOrWhiteSpace(click) || click.Trim() == "*" ? null : click.Trim(), email);
            else if (branch.Visit is { } visit)
                when = string.IsNullOrWhiteSpace(visit) ? Fail("visit") : new NurtureBehaviour(BehaviourKind.Visit, visit.Trim());
            else if (branch.Form is { } form)
                when = string.IsNullOrWhiteSpace(form) ? Fail("form") : new NurtureBehaviour(BehaviourKind.Form, form.Trim());

            NurtureBehaviour Fail(string field)
            {
                errors.Add($"{stepName}: branch.{field} is empty.");
                return when;
            }

            var then = Target("then", step.Then, allowEnd: true);
            var otherwise = Target("else", step.Else, allowEnd: true);
            // A branch waits from the moment it is reached: the previous step's send, or enrolment when it comes first.
            return new NurtureStep(step.Id ?? "", wait, s == 0 ? StepAnchor.Enrolment : StepAnchor.PreviousStep, "", "")
            {
                Branch = new NurtureBranch(wait, when, then, otherwise),
            };
        }

        if (step.Then is not null || step.Else is not null)
            errors.Add($"{stepName}: then and else belong to a branch step (give it \"branch\": {{ \"wait\": \"3d\", \"click\": \"guide\" }}).");

        TimeSpan delay = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(step.Delay))
            errors.Add($"{stepName}: delay is missing (e.g. \"0\", \"2d\", \"36h\", \"3.00:00:00\").");
        else if (!TryParseDelay(step.Delay, out delay))
            errors.Add($"{stepName}: delay '{step.Delay}' is not a duration (use e.g. \"30m\", \"36h\", \"2d\" or \"d.hh:mm:ss\", not negative).");

        StepAnchor anchor = StepAnchor.PreviousStep;
        switch (step.After?.Trim().ToLowerInvariant())
        {
            case null or "" or "previous" or "previous-step":
                anchor = s == 0 ? StepAnchor.Enrolment : StepAnchor.PreviousStep;
                break;
            case "enrolment" or "enrollment":
                anchor = StepAnchor.Enrolment;
                break;
            default:
                errors.Add($"{stepName}: after '{step.After}' must be \"enrolment\" or \"previous\".");
                break;
        }

        if (string.IsNullOrWhiteSpace(step.Subject))
            errors.Add($"{stepName}: subject is missing.");
        else if (step.Subject.Length > 200)
            errors.Add($"{stepName}: subject is longer than 200 characters.");
        if (string.IsNullOrWhiteSpace(step.Template))
            errors.Add($"{stepName}: template is missing.");
        else if (!TemplateNamePattern().IsMatch(step.Template))
            errors.Add($"{stepName}: template '{step.Template}' must be a plain name (letters, digits, dashes; no path).");
        else if (templateExists is not null && !templateExists(step.Template))
            errors.Add($"{stepName}: template '{step.Template}' has no file (expected {step.Template}.html.liquid and {step.Template}.txt.liquid).");

        // Without next, an e-mail is followed by the next step in the file, as before branches existed.
        var next = step.Next is null
            ? (s + 1 < sourceSteps.Count ? sourceSteps[s + 1].Id : null)
            : Target("next", step.Next, allowEnd: true);
        return new NurtureStep(step.Id ?? "", delay, anchor, step.Subject ?? "", step.Template ?? "") { Next = next };
    }

    /// <summary>
    /// Every step must be reachable from the first, and no path may come back to a step it passed: an e-mail goes once per lead, so
    /// a loop could only wait forever.
    /// </summary>
    private static void CheckGraph(List<NurtureStep> steps, string name, List<string> errors)
    {
        if (steps.Count == 0)
            return;
        var byId = steps.Where(s => s.Id.Length > 0).GroupBy(s => s.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        IEnumerable<string> Edges(NurtureStep step) => step.Branch is { } b ? new[] { b.Then, b.Else }.OfType<string>() : step.Next is { } n ? [n] : [];

        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the path, 2 done
        var reported = new HashSet<string>(StringComparer.Ordinal);
        void Visit(NurtureStep step)
        {
            state[step.Id] = 1;
            foreach (var target in Edges(step).Distinct(StringComparer.Ordinal))
            {
                if (!byId.TryGetValue(target, out var next) || target == step.Id)
                    continue; // reported where the target was read
                if (state.GetValueOrDefault(target) == 1)
                {
                    if (reported.Add(step.Id))
                        errors.Add($"{name} step '{step.Id}': goes back to step '{target}', which leads here: steps may not loop (each e-mail goes once per lead).");
                }
                else if (state.GetValueOrDefault(target) == 0)
                {
                    Visit(next);
                }
            }
            state[step.Id] = 2;
        }
        Visit(steps[0]);
        foreach (var step in steps.Skip(1).Where(s => s.Id.Length > 0 && !state.ContainsKey(s.Id)))
            errors.Add($"{name} step '{step.Id}': is unreachable: no step's next, then or else leads to it from the first step.");
    }

    /// <summary>Accepts <c>0</c>, <c>45m</c>, <c>36h</c>, <c>2d</c>, or a .NET TimeSpan (<c>2.12:00:00</c>).</summary>
    public static bool TryParseDelay(string text, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        var value = text.Trim();
        if (value == "0")
            return true;
        var match = ShortDelayPattern().Match(value);
        if (match.Success)
        {
            var amount = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            delay = match.Groups[2].Value switch
            {
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            return true;
        }
        return TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out delay) && delay >= TimeSpan.Zero;
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
    private static partial Regex TemplateNamePattern();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(m|h|d)$")]
    private static partial Regex ShortDelayPattern();

    private sealed class FileModel
    {
        [JsonPropertyName("$schema")] public string? Schema { get; set; }
        public string? Version { get; set; }
        /// <summary>The first format: the one programme every new MQL entered. Still read; see <see cref="ProgrammeModel.Entry"/>.</summary>
        public string? EnrolOnMql { get; set; }
        public string? DefaultTimeZone { get; set; }
        public List<ProgrammeModel>? Programmes { get; set; }
    }

    private sealed class ProgrammeModel
    {
        public string? Id { get; set; }
        public string? Version { get; set; }
        public string? Description { get; set; }
        public int? Priority { get; set; }
        public EntryModel? Entry { get; set; }
        public ExitModel? Exit { get; set; }
        public List<StepModel>? Steps { get; set; }
        public SendWindowModel? SendWindow { get; set; }
    }

    private sealed class EntryModel
    {
        public List<string?>? On { get; set; }
        public List<string>? FitGrades { get; set; }
        public ScoreModel? Score { get; set; }
        public Dictionary<string, List<string>>? Profile { get; set; }
        public List<string>? Forms { get; set; }
    }

    private sealed class ScoreModel
    {
        public string? Name { get; set; }
        public double? Min { get; set; }
    }

    private sealed class ExitModel
    {
        public List<GoalModel>? Goals { get; set; }
    }

    private sealed class GoalModel
    {
        public string? Form { get; set; }
        public string? Visit { get; set; }
    }

    private sealed class StepModel
    {
        public string? Id { get; set; }
        public string? Delay { get; set; }
        public string? After { get; set; }
        public string? Subject { get; set; }
        public string? Template { get; set; }
        public string? Next { get; set; }
        public BranchModel? Branch { get; set; }
        public string? Then { get; set; }
        public string? Else { get; set; }
    }

    private sealed class BranchModel
    {
        public string? Wait { get; set; }
        public bool? Open { get; set; }
        public string? Click { get; set; }
        public string? Visit { get; set; }
        public string? Form { get; set; }
        /// <summary>The e-mail step an open or click is of; by default the nearest e-mail step before the branch.</summary>
        public string? Email { get; set; }
    }
}
