using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>The app's identity holds exactly the data-plane roles it needs, each assignment named deterministically.</summary>
public sealed class RoleAssignmentTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    public static TheoryData<string, string, string> Roles => new()
    {
        { "Storage Blob Data Owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Microsoft.Storage/storageAccounts" },
        { "Storage Queue Data Contributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Microsoft.Storage/storageAccounts" },
        { "Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Microsoft.Storage/storageAccounts" },
        { "Monitoring Metrics Publisher", "3913510d-42f4-4e42-8a64-420c390055eb", "Microsoft.Insights/components" },
        { "Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6", "Microsoft.KeyVault/vaults" },
        { "Communication and Email Service Owner", "09976791-48a7-449e-bb21-39d1a415f350", "Microsoft.Communication/communicationServices" },
    };

    [Theory]
    [MemberData(nameof(Roles))]
    public void App_identity_is_granted_the_role_on_the_resource_that_needs_it(string role, string roleId, string scopeType)
    {
        var assignments = Template.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => (a.Scope.Resolve(a.Properties["roleDefinitionId"])?.ToString() ?? "").Contains(roleId, StringComparison.Ordinal)
                || ResolvedRoleId(a) == roleId)
            .Where(IsForAppIdentity)
            .ToList();

        var assignment = Assert.Single(assignments);
        Assert.Equal("ServicePrincipal", assignment.Properties["principalType"]!.GetValue<string>());
        Assert.StartsWith($"[resourceId('{scopeType}'", assignment.Node["scope"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(assignment.NameExpression.StartsWith("[guid(", StringComparison.Ordinal), $"{role}: the assignment name must be a deterministic guid(...).");
        Assert.Contains("userAssignedIdentities", assignment.NameExpression, StringComparison.Ordinal);
    }

    [Fact]
    public void App_identity_gets_no_role_beyond_the_ones_listed()
    {
        var expected = Roles.Select(r => (string)r[1]).ToHashSet(StringComparer.Ordinal);

        var granted = Template.OfType("Microsoft.Authorization/roleAssignments").Where(IsForAppIdentity).Select(ResolvedRoleId).ToList();

        Assert.Equal(expected.Order(StringComparer.Ordinal), granted.Order(StringComparer.Ordinal));
    }

    /// <summary>The role GUID, with <c>variables('x')</c> resolved in the assignment's own template.</summary>
    private static string ResolvedRoleId(TemplateResource assignment)
    {
        var expression = assignment.Properties["roleDefinitionId"]!.GetValue<string>();
        var variable = System.Text.RegularExpressions.Regex.Match(expression, @"variables\('(\w+)'\)");
        return variable.Success ? assignment.Scope.Template["variables"]![variable.Groups[1].Value]!.GetValue<string>() : expression;
    }

    private static bool IsForAppIdentity(TemplateResource assignment)
    {
        var principal = assignment.Scope.Resolve(assignment.Properties["principalId"])?.ToString() ?? "";
        return principal.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", StringComparison.Ordinal) && principal.EndsWith(".principalId]", StringComparison.Ordinal);
    }
}
