using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>The templates compile and lint clean with the Bicep CLI restored from NuGet: any error or warning fails the run.</summary>
public sealed class BicepToolingTests
{
    [Fact]
    public void Main_template_builds_without_errors_or_warnings()
    {
        var build = CompiledTemplate.Instance.Build;

        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.True(string.IsNullOrWhiteSpace(build.StandardError), build.ToString());
    }

    [Fact]
    public void Main_template_lints_without_errors_or_warnings()
    {
        var lint = BicepCli.Run("lint", BicepCli.MainBicep);

        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.True(string.IsNullOrWhiteSpace(lint.StandardError) && string.IsNullOrWhiteSpace(lint.StandardOutput), lint.ToString());
    }

    [Fact]
    public void Linter_configuration_sits_beside_the_template_and_turns_the_security_rules_into_errors()
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "bicepconfig.json")))!;
        var rules = config["analyzers"]!["core"]!["rules"]!.AsObject();

        foreach (var rule in new[] { "outputs-should-not-contain-secrets", "secure-secrets-in-params", "use-secure-value-for-secure-inputs", "no-hardcoded-env-urls" })
            Assert.Equal("error", rules[rule]?["level"]?.GetValue<string>());
        Assert.All(rules, r => Assert.NotEqual("off", r.Value?["level"]?.GetValue<string>()));
    }

    [Fact]
    public void No_compiled_template_is_left_in_the_infra_folder()
    {
        _ = CompiledTemplate.Instance;

        var stray = Directory.EnumerateFiles(BicepCli.InfraDirectory, "*.json", SearchOption.AllDirectories)
            .Select(Path.GetFileName)
            .Where(name => name is not "bicepconfig.json" && !name!.EndsWith(".parameters.json", StringComparison.Ordinal));
        Assert.Empty(stray);
    }
}
