using System.Text.RegularExpressions;
using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>Conventions azd and readers rely on: described parameters, UPPER_SNAKE outputs, names from one unique token.</summary>
public sealed partial class TemplateConventionTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    [Fact]
    public void Every_parameter_of_every_template_has_a_description()
    {
        var templates = Template.Resources.Select(r => r.Scope.Template).Append(Template.Root).Distinct().ToList();
        Assert.True(templates.Count >= 7, "the modules were not found in the compiled template");

        foreach (var template in templates)
        {
            foreach (var (name, parameter) in template["parameters"]?.AsObject() ?? [])
                Assert.False(string.IsNullOrWhiteSpace(parameter?["metadata"]?["description"]?.GetValue<string>()), $"Parameter '{name}' has no @description.");
        }
    }

    [Fact]
    public void Outputs_of_the_main_template_are_upper_snake_case_for_azd()
    {
        var outputs = Template.Root["outputs"]!.AsObject().Select(o => o.Key).ToList();

        Assert.All(outputs, name => Assert.Matches(UpperSnake(), name));
        foreach (var required in new[] { "AZURE_LOCATION", "AZURE_FUNCTION_APP_NAME", "AZURE_FUNCTION_URL", "SERVICE_FUNCTIONS_ENDPOINT_URL", "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_KEY_VAULT_NAME" })
            Assert.Contains(required, outputs);
    }

    [Fact]
    public void Resource_names_come_from_a_token_unique_to_subscription_environment_and_location()
    {
        var token = Template.Root["variables"]!["resourceToken"]!.GetValue<string>();

        Assert.Equal("[toLower(uniqueString(subscription().id, parameters('environmentName'), parameters('location')))]", token);
        foreach (var name in new[] { "functionAppName", "storageAccountName", "keyVaultName", "identityName", "communicationServiceName" })
            Assert.Contains("variables('resourceToken')", Template.Root["variables"]![name]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Location_parameter_is_marked_for_azd_to_prompt_for_it()
    {
        Assert.Equal("location", Template.Root["parameters"]!["location"]!["metadata"]!["azd"]!["type"]!.GetValue<string>());
    }

    [GeneratedRegex("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")]
    private static partial Regex UpperSnake();
}
