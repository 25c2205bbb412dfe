using System.Text.Json.Nodes;
using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>
/// The optional Front Door + WAF (enableFrontDoorWaf): absent unless asked for, and when enabled, rate limits per client IP on
/// the anonymous capture endpoints, with the app admitting only that Front Door.
/// </summary>
public sealed class FrontDoorWafTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    private static readonly Lazy<(CompiledTemplate Template, JsonObject Parameters)> Enabled = new(() => CompiledTemplate.WithParameters(new Dictionary<string, string>
    {
        ["environmentName"] = "'waf-test'",
        ["location"] = "'westeurope'",
        ["salesEscalationAddress"] = "'ops@example.com'",
        ["enableFrontDoorWaf"] = "true",
        ["formsRateLimitThreshold"] = "40",
        ["rateLimitDurationInMinutes"] = "5",
    }));

    private static readonly string[] FrontDoorTypes =
    [
        "Microsoft.Cdn/profiles", "Microsoft.Cdn/profiles/afdEndpoints", "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies",
        "Microsoft.Cdn/profiles/securityPolicies", "Microsoft.Cdn/profiles/originGroups", "Microsoft.Cdn/profiles/originGroups/origins",
        "Microsoft.Cdn/profiles/afdEndpoints/routes",
    ];

    private static IEnumerable<TemplateResource> FrontDoorResources(CompiledTemplate template) =>
        template.Resources.Where(r => r.Type.StartsWith("Microsoft.Cdn/", StringComparison.OrdinalIgnoreCase)
            || r.Type.Equals("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies", StringComparison.OrdinalIgnoreCase));

    [Fact]
    public void Front_door_is_off_unless_enabled()
    {
        var parameter = Template.Root["parameters"]!["enableFrontDoorWaf"]!;

        Assert.Equal("bool", parameter["type"]!.GetValue<string>());
        Assert.False(parameter["defaultValue"]!.GetValue<bool>());
        Assert.Equal("${ENABLE_FRONT_DOOR_WAF=false}", MainParameters()["enableFrontDoorWaf"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void With_the_default_parameters_no_front_door_resource_is_deployed()
    {
        var resources = FrontDoorResources(Template).ToList();

        Assert.Equal(FrontDoorTypes.Order(StringComparer.Ordinal), resources.Select(r => r.Type).Distinct().Order(StringComparer.Ordinal));
        Assert.All(resources, r => Assert.False(Template.IsDeployed(r), $"{r.Type} would be deployed with enableFrontDoorWaf=false"));
    }

    [Fact]
    public void Enabled_it_builds_without_warnings_and_every_front_door_resource_is_deployed()
    {
        var (template, parameters) = Enabled.Value;

        Assert.True(string.IsNullOrWhiteSpace(template.Build.StandardError), template.Build.ToString());
        var resources = FrontDoorResources(template).ToList();
        Assert.Equal(FrontDoorTypes.Length, resources.Count);
        Assert.All(resources, r => Assert.True(template.IsDeployed(r, parameters), $"{r.Type} is not deployed with enableFrontDoorWaf=true"));
    }

    [Theory]
    [InlineData("FormsPerClientIp", "/api/forms/", "formsRateLimitThreshold")]
    [InlineData("EventsPerClientIp", "/api/events", "eventsRateLimitThreshold")]
    public void The_waf_policy_blocks_a_client_ip_over_the_rate_limit_on_each_capture_endpoint(string ruleName, string path, string thresholdParameter)
    {
        var waf = Template.Single("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies");
        var rule = waf.Properties["customRules"]!["rules"]!.AsArray().Single(r => (string?)r!["name"] == ruleName)!;
        var condition = Assert.Single(rule["matchConditions"]!.AsArray())!;

        Assert.Equal("RateLimitRule", rule["ruleType"]!.GetValue<string>());
        Assert.Equal("Block", rule["action"]!.GetValue<string>());
        Assert.Equal("SocketAddr", Assert.Single(waf.Scope.Resolve(rule["groupBy"])!.AsArray())!["variableName"]!.GetValue<string>());
        Assert.Equal("RequestUri", condition["matchVariable"]!.GetValue<string>());
        Assert.Equal(path, Assert.Single(condition["matchValue"]!.AsArray())!.GetValue<string>());
        Assert.Contains("Lowercase", condition["transforms"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal($"[parameters('{thresholdParameter}')]", rule["rateLimitThreshold"]!.GetValue<string>());
        Assert.Equal("[parameters('rateLimitDurationInMinutes')]", rule["rateLimitDurationInMinutes"]!.GetValue<string>());
        Assert.NotNull(Template.Root["parameters"]![thresholdParameter]!["defaultValue"]);
    }

    [Fact]
    public void The_waf_policy_prevents_by_default_and_answers_blocked_clients_with_429()
    {
        var waf = Template.Single("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies");

        Assert.Equal("Prevention", Template.Root["parameters"]!["frontDoorWafMode"]!["defaultValue"]!.GetValue<string>());
        Assert.Equal(429, waf.Properties["policySettings"]!["customBlockResponseStatusCode"]!.GetValue<int>());
    }

    [Fact]
    public void Parameters_given_when_enabled_reach_the_waf_rules()
    {
        var (template, parameters) = Enabled.Value;
        var waf = template.Single("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies");

        Assert.Equal(40, parameters["formsRateLimitThreshold"]!["value"]!.GetValue<int>());
        Assert.Equal("[parameters('formsRateLimitThreshold')]", waf.Scope.Deployment!["properties"]!["parameters"]!["formsRateLimitThreshold"]!["value"]!.GetValue<string>());
        Assert.Equal(5, parameters["rateLimitDurationInMinutes"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public void The_waf_policy_guards_the_endpoint_that_routes_to_the_function_app()
    {
        var policy = Template.Single("Microsoft.Cdn/profiles/securityPolicies").Properties["parameters"]!;
        var route = Template.Single("Microsoft.Cdn/profiles/afdEndpoints/routes").Properties;
        var origin = Template.Single("Microsoft.Cdn/profiles/originGroups/origins");

        Assert.Equal("WebApplicationFirewall", policy["type"]!.GetValue<string>());
        Assert.Contains("FrontDoorWebApplicationFirewallPolicies", policy["wafPolicy"]!["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("/*", Assert.Single(policy["associations"]![0]!["patternsToMatch"]!.AsArray())!.GetValue<string>());
        Assert.Equal("HttpsOnly", route["forwardingProtocol"]!.GetValue<string>());
        Assert.Null(route["cacheConfiguration"]);
        Assert.Contains("functionHostName", origin.Properties["hostName"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Enabled_the_function_app_admits_only_this_front_door_and_links_and_pages_use_it()
    {
        var site = Template.Single("Microsoft.Web/sites");
        var siteConfig = site.Properties["siteConfig"]!;
        var module = site.Scope.Deployment!["properties"]!["parameters"]!.AsObject();

        Assert.Contains("AzureFrontDoor.Backend", siteConfig["ipSecurityRestrictions"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("x-azure-fdid", siteConfig["ipSecurityRestrictions"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("parameters('frontDoorId')", siteConfig["ipSecurityRestrictionsDefaultAction"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("outputs.frontDoorId", module["frontDoorId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("parameters('publicBaseUrl')", Template.AppSettings["Tracking__BaseUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("reference('frontDoor').outputs.url", Template.Root["variables"]!["apiUrl"]?.GetValue<string>() ?? Template.Root["outputs"]!["LEADFUNCTIONS_API_URL"]!["value"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static JsonObject MainParameters() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();
}
