using System.Reflection;
using System.Runtime.Versioning;
using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>The function app is what azd and the code expect: Flex Consumption, the right runtime, found by its azd tag.</summary>
public sealed class FunctionAppTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    [Fact]
    public void Plan_is_flex_consumption_on_linux()
    {
        var plan = Template.Single("Microsoft.Web/serverfarms");

        Assert.Equal("FC1", plan.Node["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("FlexConsumption", plan.Node["sku"]!["tier"]!.GetValue<string>());
        Assert.True(plan.Properties["reserved"]!.GetValue<bool>());
    }

    [Fact]
    public void Runtime_is_dotnet_isolated_at_the_version_the_worker_targets()
    {
        var runtime = Template.Single("Microsoft.Web/sites").Properties["functionAppConfig"]!["runtime"]!;
        var targetFramework = AppCode.WorkerAssembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName;

        Assert.Equal("dotnet-isolated", runtime["name"]!.GetValue<string>());
        Assert.Equal($".NETCoreApp,Version=v{runtime["version"]!.GetValue<string>()}", targetFramework);
    }

    [Fact]
    public void Deployment_package_lives_in_a_blob_container_reached_with_the_user_assigned_identity()
    {
        var site = Template.Single("Microsoft.Web/sites");
        var storage = site.Properties["functionAppConfig"]!["deployment"]!["storage"]!;

        Assert.Equal("blobContainer", storage["type"]!.GetValue<string>());
        Assert.Equal("UserAssignedIdentity", storage["authentication"]!["type"]!.GetValue<string>());
        Assert.Equal("[parameters('identityId')]", storage["authentication"]!["userAssignedIdentityResourceId"]!.GetValue<string>());
        Assert.Equal("UserAssigned", site.Node["identity"]!["type"]!.GetValue<string>());
        Assert.Equal("[parameters('identityId')]", site.Properties["keyVaultReferenceIdentity"]!.GetValue<string>());
        Assert.Single(Template.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"));
    }

    [Fact]
    public void App_is_tagged_with_the_azd_service_name_that_azure_yaml_declares()
    {
        var site = Template.Single("Microsoft.Web/sites");
        var azureYaml = File.ReadAllLines(Path.Combine(BicepCli.RepoRoot, "azure.yaml"));

        Assert.Contains("'azd-service-name'", site.Node["tags"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("functions", site.Scope.ResolveParameter("azdServiceName")!.GetValue<string>());
        Assert.Contains("  functions:", azureYaml);
        Assert.Contains("    project: ./functions/LeadFunctions", azureYaml);
        Assert.Contains("    host: function", azureYaml);
        Assert.Contains("    language: dotnet", azureYaml);
        Assert.True(File.Exists(Path.Combine(BicepCli.RepoRoot, "functions", "LeadFunctions", "LeadFunctions.csproj")));
    }

    [Fact]
    public void Every_resource_group_resource_carries_the_azd_environment_tag()
    {
        var rg = Template.Single("Microsoft.Resources/resourceGroups");
        var tagged = Template.Resources.Where(r => r.Node["tags"] is not null).ToList();

        Assert.Equal("[variables('tags')]", rg.Node["tags"]!.GetValue<string>());
        Assert.Contains("azd-env-name", Template.Root["variables"]!["tags"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.True(tagged.Count >= 8, $"only {tagged.Count} resources are tagged");
    }
}
