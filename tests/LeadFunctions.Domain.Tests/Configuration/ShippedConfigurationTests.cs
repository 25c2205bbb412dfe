using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Tests.Configuration;

/// <summary>
/// The shipped files are edited by different people (forms by marketing, the model with sales): these tests keep them
/// speaking the same values, so a fit rule can never silently wait for an answer no form can give.
/// </summary>
public sealed class ShippedConfigurationTests
{
    private static readonly FormCatalog Forms = FormCatalog.Load(Path.Combine(AppContext.BaseDirectory, "config", "forms.json"));
    private static readonly ScoringModel Model = ScoringModelLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "config", "scoring-model.json"));

    public static TheoryData<string> FitRulesOnChoiceFields()
    {
        var data = new TheoryData<string>();
        foreach (var rule in Model.FitRules.Where(r => ChoicesFor(r.Field).Count > 0))
            data.Add(rule.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(FitRulesOnChoiceFields))]
    public void A_fit_rule_on_a_choice_field_names_only_values_a_shipped_form_can_send(string ruleId)
    {
        // Arrange
        var rule = Model.FitRules.Single(r => r.Id == ruleId);
        var choices = ChoicesFor(rule.Field);

        // Act
        var unreachable = rule.Operator switch
        {
            FitOperator.Equals or FitOperator.OneOf => rule.Values.Where(v => !choices.Contains(v, StringComparer.OrdinalIgnoreCase)).ToList(),
            FitOperator.Contains => rule.Values.Where(v => !choices.Any(c => c.Contains(v, StringComparison.OrdinalIgnoreCase))).ToList(),
            _ => choices.Any(c => rule.Matches(new Dictionary<string, string> { [rule.Field] = c })) ? [] : ["(no choice is in range)"],
        };

        // Assert
        Assert.True(unreachable.Count == 0,
            $"fit rule '{rule.Id}' on '{rule.Field}' waits for {string.Join(", ", unreachable)}, but the forms offer only {string.Join(", ", choices)}");
    }

    [Fact]
    public void An_executive_at_a_mid_sized_company_from_the_demo_form_gets_a_good_fit_grade()
    {
        // Arrange: the answers a real visitor would pick on the shipped demo form.
        var profile = new Dictionary<string, string> { ["role"] = "executive", ["companySize"] = "51-200" };

        // Act
        var score = Model.FitRules.Where(r => r.Matches(profile)).Sum(r => r.Points);

        // Assert
        Assert.Equal("B", Model.GradeFor(score));
    }

    private static List<string> ChoicesFor(string profileField) =>
        Forms.Forms.SelectMany(f => f.Fields)
            .Where(f => f.Type == FormFieldType.Choice && string.Equals(f.ProfileField, profileField, StringComparison.Ordinal))
            .SelectMany(f => f.Options)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
}
