using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Scoring;

/// <summary>
/// Reads and validates the scoring model file. Every problem is collected and reported together, each naming where it is
/// (e.g. <c>engagementRules[3] (careers-page): points must be a number</c>), because a marketer fixing a model wants the whole list.
/// </summary>
public static class ScoringModelLoader
{
    /// <summary>
    /// Compiled once at load. The model is reviewed configuration, but URLs come from visitors, so matching has a timeout:
    /// a pattern that backtracks catastrophically fails the event (retried, then poisoned) instead of hanging the processor.
    /// </summary>
    private const RegexOptions UrlRegexOptions = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled;
    private static readonly TimeSpan UrlRegexTimeout = TimeSpan.FromSeconds(1);

    private static readonly HashSet<string> MatchKeys = new(StringComparer.Ordinal)
    {
        "eventType", "formId", "formIntent", "url", "urlRegex", "funnelStage", "campaign",
    };

    private static readonly HashSet<string> FunnelStages = new(StringComparer.Ordinal) { "top", "middle", "bottom" };

    private static readonly string[] GradeLetters = ["A", "B", "C", "D"];

    /// <summary>Named scores a model may define: each is kept on every lead row that earns it, so their number is bounded.</summary>
    public const int MaxNamedScores = 10;

    /// <summary>Rules one named score may have.</summary>
    public const int MaxRulesPerScore = 200;

    /// <summary>Lower-case letters, digits and dashes, starting with a letter, at most 32 characters: safe in JSON, URLs and logs.</summary>
    private static readonly Regex ScoreName = new("^[a-z][a-z0-9-]{0,31}$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public static ScoringModel LoadFile(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidScoringModelException([$"the model file '{path}' cannot be read: {ex.Message}"]);
        }
        return Load(json);
    }

    public static ScoringModel Load(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidScoringModelException([$"the model is not valid JSON: {ex.Message}"]);
        }

        using (document)
        {
            var errors = new List<string>();
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidScoringModelException(["the model must be a JSON object"]);

            var version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString())
                ? v.GetString()!.Trim()
                : null;
            if (version is null)
                errors.Add("version must be a non-empty string");

            var halfLife = ReadHalfLife(root, errors);
            // Engagement rule ids are unique across the default score and every named one: caps are counted per rule id.
            var ruleIds = new HashSet<string>(StringComparer.Ordinal);
            var rules = ReadEngagementRules(root, errors, ruleIds);
            var declared = new HashSet<string>(StringComparer.Ordinal);
            var scores = ReadScores(root, halfLife, errors, ruleIds, declared);
            var fitRules = ReadFitRules(root, errors);
            var grades = ReadGrades(root, errors);
            var qualification = ReadQualification(root, errors, declared);

            if (errors.Count > 0)
                throw new InvalidScoringModelException(errors);
            var named = scores
                .Select(d => new NamedScore(d.Name, d.HalfLife, d.Rules,
                    qualification!.Mql.OrScores.FirstOrDefault(b => b.Score == d.Name)?.Min,
                    qualification.Sql.OrScores.FirstOrDefault(b => b.Score == d.Name)?.Min))
                .ToList();
            return new ScoringModel(version!, halfLife, rules, fitRules, grades, qualification!, named);
        }
    }

    private static TimeSpan ReadHalfLife(JsonElement root, List<string> errors, string prefix = "")
    {
        if (!root.TryGetProperty("decay", out var decay) || decay.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{prefix}decay must be an object with halfLifeDays");
            return TimeSpan.Zero;
        }
        if (!decay.TryGetProperty("halfLifeDays", out var days) || days.ValueKind != JsonValueKind.Number || !days.TryGetDouble(out var value))
        {
            errors.Add($"{prefix}decay.halfLifeDays must be a number");
            return TimeSpan.Zero;
        }
        if (value <= 0 || value > 3650)
        {
            errors.Add($"{prefix}decay.halfLifeDays must be greater than 0 and at most 3650");
            return TimeSpan.Zero;
        }
        return TimeSpan.FromDays(value);
    }

    private static List<EngagementRule> ReadEngagementRules(JsonElement root, List<string> errors, HashSet<string> ruleIds)
    {
        if (!root.TryGetProperty("engagementRules", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            errors.Add("engagementRules must be an array");
            return [];
        }
        return ReadRuleArray(array, "engagementRules", errors, ruleIds);
    }

    /// <summary>A named score as read, before the qualification bars that name it are attached.</summary>
    private sealed record ScoreDefinition(string Name, TimeSpan HalfLife, List<EngagementRule> Rules);

    /// <summary>
    /// <c>scores</c>: optional, at most <see cref="MaxNamedScores"/> objects <c>{ "name", "decay"?, "rules" }</c>. A score without
    /// <c>decay</c> decays with the model's half-life. Messages name the score: <c>scores[1] (product-b).rules[0] (b-demo): …</c>.
    /// </summary>
    private static List<ScoreDefinition> ReadScores(JsonElement root, TimeSpan defaultHalfLife, List<string> errors, HashSet<string> ruleIds, HashSet<string> declared)
    {
        var scores = new List<ScoreDefinition>();
        if (!root.TryGetProperty("scores", out var array) || array.ValueKind == JsonValueKind.Null)
            return scores;
        if (array.ValueKind != JsonValueKind.Array)
        {
            errors.Add("scores must be an array of named scores");
            return scores;
        }
        if (array.GetArrayLength() > MaxNamedScores)
            errors.Add($"scores has {array.GetArrayLength().ToString(CultureInfo.InvariantCulture)} named scores; at most {MaxNamedScores.ToString(CultureInfo.InvariantCulture)} are allowed");

        var names = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            var at = index++;
            if (element.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"scores[{at.ToString(CultureInfo.InvariantCulture)}]: must be an object with name and rules");
                continue;
            }
            var errorsBefore = errors.Count;
            var name = element.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()!.Trim() : null;
            var where = name is { Length: > 0 } ? $"scores[{at.ToString(CultureInfo.InvariantCulture)}] ({name})" : $"scores[{at.ToString(CultureInfo.InvariantCulture)}]";
            if (string.IsNullOrEmpty(name))
                errors.Add($"{where}: name must be a non-empty string");
            else if (name == LedgerRules.EngagementScore)
                errors.Add($"{where}: name '{LedgerRules.EngagementScore}' is the default score; give a named score another name");
            else if (!ScoreName.IsMatch(name))
                errors.Add($"{where}: name must be lower-case letters, digits and dashes, start with a letter, at most 32 characters");
            else if (!names.Add(name))
                errors.Add($"{where}: name is used by another score");
            if (name is { Length: > 0 })
                declared.Add(name);

            var halfLife = element.TryGetProperty("decay", out _) ? ReadHalfLife(element, errors, where + ": ") : defaultHalfLife;

            List<EngagementRule> rules = [];
            if (!element.TryGetProperty("rules", out var ruleArray) || ruleArray.ValueKind != JsonValueKind.Array || ruleArray.GetArrayLength() == 0)
                errors.Add($"{where}: rules must be a non-empty array of engagement rules");
            else if (ruleArray.GetArrayLength() > MaxRulesPerScore)
                errors.Add($"{where}: rules has {ruleArray.GetArrayLength().ToString(CultureInfo.InvariantCulture)} rules; at most {MaxRulesPerScore.ToString(CultureInfo.InvariantCulture)} are allowed");
            else
                rules = ReadRuleArray(ruleArray, where + ".rules", errors, ruleIds);

            if (errors.Count == errorsBefore)
                scores.Add(new ScoreDefinition(name!, halfLife, rules));
        }
        return scores;
    }

    private static List<EngagementRule> ReadRuleArray(JsonElement array, string name, List<string> errors, HashSet<string> ruleIds)
    {
        var rules = new List<EngagementRule>();
        foreach (var (element, id, where, count) in RuleElements(array, name, errors, ruleIds))
        {
            double points = 0;
            if (!element.TryGetProperty("points", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetDouble(out points))
                errors.Add($"{where}: points must be a number");

            var match = ReadMatch(element, where, errors);
            var cap = ReadCap(element, where, errors);
            if (errors.Count == count)
                rules.Add(new EngagementRule(id!, points, match!, cap, rules.Count));
        }
        return rules;
    }

    private static RuleMatch? ReadMatch(JsonElement rule, string where, List<string> errors)
    {
        if (!rule.TryGetProperty("match", out var match) || match.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{where}: match must be an object with at least one of {string.Join(", ", MatchKeys)}");
            return null;
        }

        var result = new RuleMatch();
        var any = false;
        foreach (var property in match.EnumerateObject())
        {
            if (!MatchKeys.Contains(property.Name))
            {
                errors.Add($"{where}: match.{property.Name} is not a known criterion (use {string.Join(", ", MatchKeys)})");
                continue;
            }
            if (property.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(property.Value.GetString()))
            {
                errors.Add($"{where}: match.{property.Name} must be a non-empty string");
                continue;
            }
            any = true;
            var text = property.Value.GetString()!.Trim();
            switch (property.Name)
            {
                case "eventType":
                    if (!LeadEventTypes.All.Contains(text))
                        errors.Add($"{where}: match.eventType '{text}' is not an event type (use {string.Join(", ", LeadEventTypes.All.Order(StringComparer.Ordinal))})");
                    result = result with { EventType = text };
                    break;
                case "formId":
                    result = result with { FormId = text };
                    break;
                case "formIntent":
                    if (TryParseIntent(text, out var intent))
                        result = result with { FormIntent = intent };
                    else
                        errors.Add($"{where}: match.formIntent '{text}' is not a form intent (use newsletter-signup, content-download, event-registration, demo-request, quote-request)");
                    break;
                case "url":
                    if (result.UrlPattern is not null)
                        errors.Add($"{where}: match has both url and urlRegex; use one");
                    result = result with { UrlPattern = text, UrlGlob = text };
                    break;
                case "urlRegex":
                    if (result.UrlPattern is not null)
                        errors.Add($"{where}: match has both url and urlRegex; use one");
                    try
                    {
                        result = result with { UrlPattern = text, Url = new Regex(text, UrlRegexOptions, UrlRegexTimeout) };
                    }
                    catch (ArgumentException ex)
                    {
                        errors.Add($"{where}: match.urlRegex is not a valid regular expression: {ex.Message}");
                    }
                    break;
                case "funnelStage":
                    if (!FunnelStages.Contains(text))
                        errors.Add($"{where}: match.funnelStage must be top, middle or bottom");
                    result = result with { FunnelStage = text };
                    break;
                case "campaign":
                    result = result with { Campaign = text };
                    break;
            }
        }
        if (!any)
            errors.Add($"{where}: match must name at least one criterion");
        return result;
    }

    private static RuleCap? ReadCap(JsonElement rule, string where, List<string> errors)
    {
        if (!rule.TryGetProperty("cap", out var cap) || cap.ValueKind == JsonValueKind.Null)
            return null;
        if (cap.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{where}: cap must be an object like {{ \"count\": 3, \"per\": \"day\" }}");
            return null;
        }
        var ok = true;
        if (!cap.TryGetProperty("count", out var c) || c.ValueKind != JsonValueKind.Number || !c.TryGetInt32(out var count) || count < 1)
        {
            errors.Add($"{where}: cap.count must be a whole number of at least 1");
            ok = false;
            count = 0;
        }
        var per = CapPeriod.Ever;
        var perText = cap.TryGetProperty("per", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        switch (perText)
        {
            case "day": per = CapPeriod.Day; break;
            case "week": per = CapPeriod.Week; break;
            case "ever": per = CapPeriod.Ever; break;
            default:
                errors.Add($"{where}: cap.per must be day, week or ever");
                ok = false;
                break;
        }
        return ok ? new RuleCap(count, per) : null;
    }

    private static List<FitRule> ReadFitRules(JsonElement root, List<string> errors)
    {
        var rules = new List<FitRule>();
        if (!root.TryGetProperty("fitRules", out var array))
            return rules;
        if (array.ValueKind != JsonValueKind.Array)
        {
            errors.Add("fitRules must be an array");
            return rules;
        }

        foreach (var (element, id, where, count) in RuleElements(array, "fitRules", errors))
        {
            var field = element.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(f.GetString())
                ? f.GetString()!.Trim()
                : null;
            if (field is null)
                errors.Add($"{where}: field must name a profile field");

            double points = 0;
            if (!element.TryGetProperty("points", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetDouble(out points))
                errors.Add($"{where}: points must be a number");

            var operators = new[] { "equals", "oneOf", "contains", "range" }.Where(name => element.TryGetProperty(name, out _)).ToList();
            FitOperator op = FitOperator.Equals;
            IReadOnlyList<string> values = [];
            double? min = null, max = null;
            if (operators.Count != 1)
            {
                errors.Add($"{where}: give exactly one condition: equals, oneOf, contains or range");
            }
            else
            {
                var condition = element.GetProperty(operators[0]);
                switch (operators[0])
                {
                    case "equals":
                        op = FitOperator.Equals;
                        if (condition.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(condition.GetString()))
                            values = [condition.GetString()!.Trim()];
                        else
                            errors.Add($"{where}: equals must be a non-empty string");
                        break;
                    case "oneOf":
                    case "contains":
                        op = operators[0] == "oneOf" ? FitOperator.OneOf : FitOperator.Contains;
                        values = ReadStrings(condition);
                        if (values.Count == 0)
                            errors.Add($"{where}: {operators[0]} must be a non-empty string or array of non-empty strings");
                        break;
                    case "range":
                        op = FitOperator.Range;
                        if (condition.ValueKind != JsonValueKind.Object)
                        {
                            errors.Add($"{where}: range must be an object with min and/or max");
                            break;
                        }
                        min = ReadOptionalNumber(condition, "min", where, errors);
                        max = ReadOptionalNumber(condition, "max", where, errors);
                        if (min is null && max is null)
                            errors.Add($"{where}: range needs min or max");
                        else if (min > max)
                            errors.Add($"{where}: range.min is greater than range.max");
                        break;
                }
            }
            if (errors.Count == count)
                rules.Add(new FitRule(id!, field!, op, values, min, max, points));
        }
        return rules;
    }

    private static List<GradeBand> ReadGrades(JsonElement root, List<string> errors)
    {
        var bands = new List<GradeBand>();
        if (!root.TryGetProperty("grades", out var grades) || grades.ValueKind != JsonValueKind.Object)
        {
            errors.Add("grades must be an object giving the minimum fit score of A, B, C and D");
            return [new GradeBand("D", double.MinValue)];
        }
        double? previous = null;
        foreach (var letter in GradeLetters)
        {
            if (!grades.TryGetProperty(letter, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var min))
            {
                errors.Add($"grades.{letter} must be a number (the minimum fit score for grade {letter})");
                continue;
            }
            if (previous is not null && min > previous)
                errors.Add($"grades.{letter} ({min.ToString(CultureInfo.InvariantCulture)}) must not be above the grade before it ({previous.Value.ToString(CultureInfo.InvariantCulture)})");
            previous = min;
            bands.Add(new GradeBand(letter, min));
        }
        foreach (var property in grades.EnumerateObject())
        {
            if (!GradeLetters.Contains(property.Name, StringComparer.Ordinal))
                errors.Add($"grades.{property.Name} is not a grade (use A, B, C, D)");
        }
        return bands.Count > 0 ? bands : [new GradeBand("D", double.MinValue)];
    }

    private static QualificationPolicy? ReadQualification(JsonElement root, List<string> errors, HashSet<string> scores)
    {
        if (!root.TryGetProperty("qualification", out var q) || q.ValueKind != JsonValueKind.Object)
        {
            errors.Add("qualification must be an object with mql and sql");
            return null;
        }
        var mql = ReadBar(q, "mql", errors, scores);
        var sql = ReadBar(q, "sql", errors, scores);
        if (mql is not null && sql is not null && sql.MinEngagement < mql.MinEngagement)
            errors.Add("qualification.sql.minEngagement must not be below qualification.mql.minEngagement");
        if (mql is not null && sql is not null)
        {
            foreach (var sqlBar in sql.OrScores)
            {
                if (mql.OrScores.FirstOrDefault(b => b.Score == sqlBar.Score) is { } mqlBar && sqlBar.Min < mqlBar.Min)
                    errors.Add($"qualification.sql.orScores.{sqlBar.Score} must not be below qualification.mql.orScores.{sqlBar.Score}");
            }
        }
        return mql is null || sql is null ? null : new QualificationPolicy(mql, sql);
    }

    /// <summary>
    /// <c>orScores</c>: optional, <c>{ "score-name": minimum, … }</c>; each name must be a score under <c>scores</c> (not the default
    /// <c>engagement</c>, which <c>minEngagement</c> already sets).
    /// </summary>
    private static List<ScoreBar> ReadOrScores(JsonElement bar, string name, List<string> errors, HashSet<string> scores)
    {
        var result = new List<ScoreBar>();
        if (!bar.TryGetProperty("orScores", out var or) || or.ValueKind == JsonValueKind.Null)
            return result;
        if (or.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"qualification.{name}.orScores must be an object of score names and minimums, like {{ \"product-a\": 40 }}");
            return result;
        }
        foreach (var property in or.EnumerateObject())
        {
            var where = $"qualification.{name}.orScores.{property.Name}";
            if (property.Name == LedgerRules.EngagementScore)
            {
                errors.Add($"{where}: the default score's bar is minEngagement; orScores names named scores");
                continue;
            }
            if (!scores.Contains(property.Name))
            {
                errors.Add($"{where}: there is no score named '{property.Name}' under scores");
                continue;
            }
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out var min) || min <= 0)
            {
                errors.Add($"{where} must be a number greater than 0");
                continue;
            }
            result.Add(new ScoreBar(property.Name, min));
        }
        return result;
    }

    private static QualificationBar? ReadBar(JsonElement q, string name, List<string> errors, HashSet<string> scores)
    {
        if (!q.TryGetProperty(name, out var bar) || bar.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"qualification.{name} must be an object with minEngagement and minGrade");
            return null;
        }
        var ok = true;
        if (!bar.TryGetProperty("minEngagement", out var e) || e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var minEngagement))
        {
            errors.Add($"qualification.{name}.minEngagement must be a number");
            ok = false;
            minEngagement = 0;
        }
        else if (minEngagement <= 0)
        {
            errors.Add($"qualification.{name}.minEngagement must be greater than 0");
            ok = false;
        }
        var grade = bar.TryGetProperty("minGrade", out var g) && g.ValueKind == JsonValueKind.String ? g.GetString() : null;
        if (grade is null || !GradeLetters.Contains(grade, StringComparer.Ordinal))
        {
            errors.Add($"qualification.{name}.minGrade must be one of A, B, C, D");
            ok = false;
        }
        var orScores = ReadOrScores(bar, name, errors, scores);
        return ok ? new QualificationBar(minEngagement, grade!) { OrScores = orScores } : null;
    }

    /// <summary>
    /// Walks a rule array the same way for every kind of rule: a non-object element is reported and skipped, and each object
    /// comes with the label its messages use (<c>fitRules[2] (big-company)</c>), its id already checked for presence and
    /// uniqueness, and the error count from before that check, so the caller keeps the rule only if nothing about it was wrong.
    /// </summary>
    private static IEnumerable<RuleElement> RuleElements(JsonElement array, string name, List<string> errors, HashSet<string>? sharedIds = null)
    {
        var ids = sharedIds ?? new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            var at = index;
            index++;
            if (element.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{name}[{at}]: must be an object");
                continue;
            }
            var id = ReadId(element);
            var where = id is null ? $"{name}[{at}]" : $"{name}[{at}] ({id})";
            var errorsBefore = errors.Count;
            if (id is null)
                errors.Add($"{where}: id must be a non-empty string");
            else if (!ids.Add(id))
                errors.Add($"{where}: id is used by another rule");
            yield return new RuleElement(element, id, where, errorsBefore);
        }
    }

    /// <summary>One object of a rule array; <see cref="Id"/> is null only when an error already says so.</summary>
    private readonly record struct RuleElement(JsonElement Element, string? Id, string Where, int ErrorsBefore);

    private static string? ReadId(JsonElement element) =>
        element.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(id.GetString())
            ? id.GetString()!.Trim()
            : null;

    private static List<string> ReadStrings(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.String)
            return string.IsNullOrWhiteSpace(element.GetString()) ? [] : [element.GetString()!.Trim()];
        if (element.ValueKind != JsonValueKind.Array)
            return [];
        var values = new List<string>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                return [];
            values.Add(item.GetString()!.Trim());
        }
        return values;
    }

    private static double? ReadOptionalNumber(JsonElement element, string name, string where, List<string> errors)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
            return number;
        errors.Add($"{where}: range.{name} must be a number");
        return null;
    }

    internal static bool TryParseIntent(string text, out FormIntent intent)
    {
        foreach (var candidate in Enum.GetValues<FormIntent>())
        {
            if (string.Equals(JsonNamingPolicy.KebabCaseLower.ConvertName(candidate.ToString()), text, StringComparison.Ordinal))
            {
                intent = candidate;
                return true;
            }
        }
        intent = default;
        return false;
    }
}

/// <summary>The model file is wrong; <see cref="Errors"/> names each rule and problem.</summary>
public sealed class InvalidScoringModelException : Exception
{
    public InvalidScoringModelException(IReadOnlyList<string> errors)
        : base("The scoring model is invalid: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<string> Errors { get; }
}
