using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Configuration;

namespace LeadFunctions.Domain.Nurture;

/// <summary>What a step's delay counts from.</summary>
public enum StepAnchor
{
    /// <summary>The moment the lead was enrolled (became an MQL).</summary>
    Enrolment,
    /// <summary>The moment the previous step was actually sent.</summary>
    PreviousStep,
}

/// <summary>One e-mail of a programme: when it goes (a delay from its anchor), what it says (subject and template).</summary>
public sealed record NurtureStep(string Id, TimeSpan Delay, StepAnchor After, string Subject, string Template);

/// <summary>
/// A versioned, ordered sequence of nurture e-mails. Step ids are the identity of a sent e-mail (outbox id = lead + programme + step),
/// so a new version that keeps a step's id never sends that step again to a lead that already had it.
/// </summary>
public sealed record NurtureProgramme(string Id, string Version, IReadOnlyList<NurtureStep> Steps)
{
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

    public NurtureStep? After(string stepId)
    {
        var index = IndexOf(stepId);
        return index >= 0 && index + 1 < Steps.Count ? Steps[index + 1] : null;
    }
}

/// <summary>All programmes and the one an MQL is enrolled in.</summary>
public sealed record NurtureCatalogue(string Version, string EnrolOnMql, IReadOnlyDictionary<string, NurtureProgramme> Programmes)
{
    public NurtureProgramme EnrolmentProgramme => Programmes[EnrolOnMql];

    /// <summary>The zone of a lead whose profile gives neither a time zone nor a known country; null means UTC.</summary>
    public TimeZoneInfo? DefaultTimeZone { get; init; }

    public NurtureProgramme? Find(string programmeId) => Programmes.GetValueOrDefault(programmeId);
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

            var steps = new List<NurtureStep>();
            var stepIds = new HashSet<string>(StringComparer.Ordinal);
            var sourceSteps = source.Steps ?? [];
            if (sourceSteps.Count == 0)
                errors.Add($"{name}: steps is empty.");
            for (var s = 0; s < sourceSteps.Count; s++)
            {
                var step = sourceSteps[s];
                var stepName = string.IsNullOrWhiteSpace(step.Id) ? $"{name} step {s + 1}" : $"{name} step '{step.Id}'";
                if (string.IsNullOrWhiteSpace(step.Id) || !IdPattern().IsMatch(step.Id))
                    errors.Add($"{stepName}: id must be lower-case letters, digits and dashes (1-40 characters).");
                else if (!stepIds.Add(step.Id))
                    errors.Add($"{stepName}: id is used twice in the programme.");

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

                steps.Add(new NurtureStep(step.Id ?? "", delay, anchor, step.Subject ?? "", step.Template ?? ""));
            }

            var window = SendWindowReader.Parse(source.SendWindow, name, errors);
            if (!string.IsNullOrWhiteSpace(source.Id))
                programmes.TryAdd(source.Id, new NurtureProgramme(source.Id, source.Version ?? "", steps) { Window = window });
        }

        if (string.IsNullOrWhiteSpace(model.EnrolOnMql))
            errors.Add("enrolOnMql is missing: name the programme an MQL is enrolled in.");
        else if (!programmes.ContainsKey(model.EnrolOnMql))
            errors.Add($"enrolOnMql names programme '{model.EnrolOnMql}', which is not defined.");

        var defaultTimeZone = SendWindowReader.ParseTimeZone(model.DefaultTimeZone, errors);
        if (errors.Count > 0)
            throw new NurtureConfigurationException(errors);
        return new NurtureCatalogue(model.Version!, model.EnrolOnMql!, programmes) { DefaultTimeZone = defaultTimeZone };
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
        public string? EnrolOnMql { get; set; }
        public string? DefaultTimeZone { get; set; }
        public List<ProgrammeModel>? Programmes { get; set; }
    }

    private sealed class ProgrammeModel
    {
        public string? Id { get; set; }
        public string? Version { get; set; }
        public string? Description { get; set; }
        public List<StepModel>? Steps { get; set; }
        public SendWindowModel? SendWindow { get; set; }
    }

    private sealed class StepModel
    {
        public string? Id { get; set; }
        public string? Delay { get; set; }
        public string? After { get; set; }
        public string? Subject { get; set; }
        public string? Template { get; set; }
    }
}
