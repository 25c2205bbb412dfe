using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>
/// Sign-in for the workspace (infra/modules/auth.bicep): App Service Authentication with Entra ID once an app registration's
/// client id is given, letting anonymous requests through so capture, tracking and links keep working, and the functions decide.
/// </summary>
public sealed class WorkspaceAuthTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    private static TemplateResource AuthSettings(CompiledTemplate template) =>
        template.OfType("Microsoft.Web/sites/config").Single(r => r.NameExpression.Contains("'authsettingsV2'", StringComparison.Ordinal));

    [Fact]
    public void Sign_in_is_off_until_a_workspace_client_id_is_given()
    {
        var parameter = Template.Root["parameters"]!["workspaceClientId"]!;
        var module = AuthSettings(Template).Scope.Deployment!;

        Assert.Equal("", parameter["defaultValue"]!.GetValue<string>());
        Assert.Equal("[not(empty(parameters('workspaceClientId')))]", module["condition"]!.GetValue<string>());
    }

    [Fact]
    public void With_a_client_id_the_template_builds_without_warnings_and_passes_it_to_the_module()
    {
        var (template, parameters) = CompiledTemplate.WithParameters(new Dictionary<string, string>
        {
            ["environmentName"] = "'auth-test'",
            ["location"] = "'westeurope'",
            ["salesEscalationAddress"] = "'ops@example.com'",
            ["workspaceClientId"] = "'3f1b9c0e-1111-4a2b-8c3d-5e6f7a8b9c0d'",
        });

        Assert.True(string.IsNullOrWhiteSpace(template.Build.StandardError), template.Build.ToString());
        Assert.Equal("3f1b9c0e-1111-4a2b-8c3d-5e6f7a8b9c0d", parameters["workspaceClientId"]!["value"]!.GetValue<string>());
        var module = AuthSettings(template).Scope.Deployment!;
        Assert.Equal("[parameters('workspaceClientId')]", module["properties"]!["parameters"]!["clientId"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void The_platform_is_on_and_unauthenticated_requests_reach_the_functions()
    {
        var properties = AuthSettings(Template).Properties;

        Assert.True(properties["platform"]!["enabled"]!.GetValue<bool>());
        Assert.False(properties["globalValidation"]!["requireAuthentication"]!.GetValue<bool>());
        Assert.Equal("AllowAnonymous", properties["globalValidation"]!["unauthenticatedClientAction"]!.GetValue<string>());
        Assert.True(properties["httpSettings"]!["requireHttps"]!.GetValue<bool>());
        Assert.True(properties["login"]!["tokenStore"]!["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public void Entra_id_validates_tokens_of_the_tenant_for_the_workspace_app_registration()
    {
        var resource = AuthSettings(Template);
        var entra = resource.Properties["identityProviders"]!["azureActiveDirectory"]!;

        Assert.True(entra["enabled"]!.GetValue<bool>());
        Assert.Equal("[parameters('clientId')]", entra["registration"]!["clientId"]!.GetValue<string>());
        // The sovereign-cloud-safe login endpoint, never a hard-coded login.microsoftonline.com.
        Assert.Equal("[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, parameters('tenantId'))]", entra["registration"]!["openIdIssuer"]!.GetValue<string>());
        Assert.Equal("[tenant().tenantId]", resource.Scope.Template["parameters"]!["tenantId"]!["defaultValue"]!.GetValue<string>());
        var audiences = entra["validation"]!["allowedAudiences"]!.GetValue<string>();
        Assert.Contains("parameters('clientId')", audiences, StringComparison.Ordinal);
        Assert.Contains("format('api://{0}', parameters('clientId'))", audiences, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_in_is_configured_on_the_function_app_itself()
    {
        var resource = AuthSettings(Template);
        var site = Template.Single("Microsoft.Web/sites");

        Assert.Equal("[format('{0}/{1}', parameters('functionAppName'), 'authsettingsV2')]", resource.NameExpression);
        Assert.Equal(site.Scope.ResolveParameter("name")!.ToJsonString(), resource.Scope.ResolveParameter("functionAppName")!.ToJsonString());
    }

    [Fact]
    public void The_access_log_table_is_provisioned_and_named_in_the_app_settings()
    {
        Assert.Equal("AccessLog", Template.AppSettings["Workspace__AccessLogTable"]!.GetValue<string>());
        Assert.Contains("AccessLog", Template.Root["variables"]!["tableNames"]!.AsArray().Select(t => t!.GetValue<string>()));
    }
}
