using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Scoring.DryRun;

/// <summary>A rule that waits for a value nothing we ship can send, naming the rule and the match field.</summary>
public sealed record UnreachableRule(string RuleId, string Field, string Reason);

/// <summary>
/// The cross-file check of the shipped configuration (tests/.../ShippedConfigurationTests), as a function a proposal can be run
/// through: every value a rule waits for must be one a form or the content catalogue can produce. A rule that fails it can
/// never award points, however long the model runs.
/// </summary>
public static class ScoringModelReachability
{
    public static IReadOnlyList<UnreachableRule> Check(ScoringModel model, FormCatalog forms, ContentCatalogue content)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(forms);
        ArgumentNullException.ThrowIfNull(content);
        var found = new List<UnreachableRule>();

        foreach (var rule in model.EngagementRules)
        {
            var match = rule.Match;
            if (match.FormId is { } formId && !forms.Forms.Any(f => string.Equals(f.Id, formId, StringComparison.OrdinalIgnoreCase)))
                found.Add(new(rule.Id, "match.formId", $"no form has the id '{formId}'"));
            if (match.FormIntent is { } intent && !forms.Forms.Any(f => f.Intent == intent && (match.FormId is null || string.Equals(f.Id, match.FormId, StringComparison.OrdinalIgnoreCase))))
                found.Add(new(rule.Id, "match.formIntent", match.FormId is null ? $"no form has the intent '{Kebab(intent)}'" : $"form '{match.FormId}' does not have the intent '{Kebab(intent)}'"));
            if (match.FunnelStage is { } stage && !content.Items.Any(i => string.Equals(i.FunnelStage, stage, StringComparison.OrdinalIgnoreCase)))
                found.Add(new(rule.Id, "match.funnelStage", $"no content in the catalogue has the funnel stage '{stage}'"));
        }

        foreach (var rule in model.FitRules)
        {
            var choices = ChoicesFor(forms, rule.Field);
            // A free-text field can hold anything; only a choice field's values are known.
            if (choices.Count == 0)
                continue;
            var unreachable = rule.Operator switch
            {
                FitOperator.Equals or FitOperator.OneOf => rule.Values.Where(v => !choices.Contains(v, StringComparer.OrdinalIgnoreCase)).ToList(),
                FitOperator.Contains => rule.Values.Where(v => !choices.Any(c => c.Contains(v, StringComparison.OrdinalIgnoreCase))).ToList(),
                _ => choices.Any(c => rule.Matches(new Dictionary<string, string> { [rule.Field] = c })) ? [] : ["(no choice is in range)"],
            };
            if (unreachable.Count > 0)
                found.Add(new(rule.Id, "values", $"'{rule.Field}' waits for {string.Join(", ", unreachable)}, but the forms offer only {string.Join(", ", choices)}"));
        }

        return [.. found.OrderBy(f => f.RuleId, StringComparer.Ordinal).ThenBy(f => f.Field, StringComparer.Ordinal)];
    }

    private static string Kebab(FormIntent intent) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(intent.ToString());

    private static List<string> ChoicesFor(FormCatalog forms, string profileField) =>
        forms.Forms.SelectMany(f => f.Fields)
            .Where(f => f.Type == FormFieldType.Choice && string.Equals(f.ProfileField, profileField, StringComparison.Ordinal))
            .SelectMany(f => f.Options)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
}
