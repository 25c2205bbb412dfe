using LeadFunctions.Domain.Capture;
using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>
/// The sample landing page after `azd up`: hosted on a Static Web App (the Functions host serves no pages), with the function
/// app's Capture__SiteBaseUrl pointing at it and the shipped forms accepting it, so a new user has a working page.
/// </summary>
public sealed class SampleSiteTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    /// <summary>A Static Web App's default address has this shape (a generated name on azurestaticapps.net).</summary>
    private static readonly Uri StaticWebAppUrl = new("https://nice-sea-0a1b2c3d4.6.azurestaticapps.net");

    [Fact]
    public void The_page_is_hosted_on_a_free_static_web_app_that_azd_deploys_as_the_web_service()
    {
        var site = Template.Single("Microsoft.Web/staticSites");
        var azureYaml = File.ReadAllLines(Path.Combine(BicepCli.RepoRoot, "azure.yaml"));

        Assert.Equal("Free", site.Node["sku"]!["name"]!.GetValue<string>());
        Assert.Contains("'azd-service-name'", site.Node["tags"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("web", site.Scope.ResolveParameter("azdServiceName")!.GetValue<string>());
        Assert.Contains("  web:", azureYaml);
        Assert.Contains("    host: staticwebapp", azureYaml);
        Assert.Contains("    project: ./web", azureYaml);
        Assert.Contains("    dist: dist", azureYaml);
        Assert.True(Directory.Exists(Path.Combine(BicepCli.RepoRoot, "web")));
    }

    [Fact]
    public void Before_each_deploy_a_hook_builds_the_page_with_the_provisioned_api_url()
    {
        var azureYaml = File.ReadAllText(Path.Combine(BicepCli.RepoRoot, "azure.yaml"));
        var hook = File.ReadAllText(Path.Combine(BicepCli.RepoRoot, "infra", "hooks", "build-site.mjs"));
        var outputs = Template.Root["outputs"]!.AsObject();

        Assert.Contains("predeploy:", azureYaml, StringComparison.Ordinal);
        Assert.Contains("run: node infra/hooks/build-site.mjs", azureYaml, StringComparison.Ordinal);
        Assert.Contains("LEADFUNCTIONS_API_URL", hook, StringComparison.Ordinal);
        Assert.Contains("LEADFUNCTIONS_API_URL", outputs.Select(o => o.Key));
        Assert.Contains("LEADFUNCTIONS_SITE_URL", outputs.Select(o => o.Key));
        Assert.Contains("SERVICE_WEB_ENDPOINT_URL", outputs.Select(o => o.Key));
        Assert.True(File.Exists(Path.Combine(BicepCli.RepoRoot, "functions", "LeadFunctions", "wwwroot", "config.js")));
    }

    [Fact]
    public void The_function_apps_site_base_url_is_the_static_web_apps_address_unless_another_site_is_named()
    {
        var settings = Template.AppSettings;
        var app = Template.Single("Microsoft.Web/sites");
        var passed = app.Scope.Deployment!["properties"]!["parameters"]!["siteBaseUrl"]!.GetValue<string>();

        Assert.Equal("[parameters('siteBaseUrl')]", settings["Capture__SiteBaseUrl"]!.GetValue<string>());
        Assert.Contains("empty(parameters('siteBaseUrl'))", passed, StringComparison.Ordinal);
        Assert.Contains("reference('web').outputs.url.value", passed, StringComparison.Ordinal);
        Assert.Equal("", Template.Root["parameters"]!["siteBaseUrl"]!["defaultValue"]!.GetValue<string>());
        var url = Template.Single("Microsoft.Web/staticSites").Scope.Template["outputs"]!["url"]!["value"]!.GetValue<string>();
        Assert.StartsWith("[format('https://{0}', reference(resourceId('Microsoft.Web/staticSites'", url, StringComparison.Ordinal);
        Assert.EndsWith(".defaultHostname)]", url, StringComparison.Ordinal);
    }

    [Fact]
    public void The_static_web_apps_address_is_a_valid_site_base_url_for_the_app()
    {
        Assert.True(FormCatalog.TryParseSiteBaseUrl(StaticWebAppUrl.AbsoluteUri, out _));
    }

    [Theory]
    [InlineData("demo-request")]
    [InlineData("newsletter")]
    [InlineData("whitepaper-lead-scoring")]
    [InlineData("webinar-2025-autumn")]
    public void The_shipped_sample_forms_accept_the_hosted_page_and_send_visitors_back_to_it(string formId)
    {
        var catalog = FormCatalog.Load(Path.Combine(BicepCli.RepoRoot, "functions", "LeadFunctions", "config", "forms.json"), StaticWebAppUrl);
        Assert.True(catalog.TryGet(formId, out var form));
        var siteOrigin = StaticWebAppUrl.GetLeftPart(UriPartial.Authority);

        Assert.True(form!.AllowsOrigin(siteOrigin, "func-abc123.azurewebsites.net"), $"{formId} refuses the page on {siteOrigin}");
        Assert.StartsWith(siteOrigin + "/", form.ThankYouUrl.AbsoluteUri, StringComparison.Ordinal);
        if (form.ErrorUrl is not null)
            Assert.StartsWith(siteOrigin + "/", form.ErrorUrl.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains(siteOrigin, catalog.AllOrigins);
    }

    [Fact]
    public void The_template_never_reads_the_static_web_apps_deployment_token()
    {
        // azd reads it through Resource Manager when it deploys; it is in no template, output or app setting.
        Assert.DoesNotContain("listSecrets", Template.Json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("apiKey", Template.Json, StringComparison.OrdinalIgnoreCase);
    }
}
