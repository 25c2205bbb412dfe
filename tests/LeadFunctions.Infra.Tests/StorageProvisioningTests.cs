using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>
/// The app does not create storage in Azure (Storage__CreateIfMissing=false), so every table and queue a feature
/// registers (RequiredTable/RequiredQueue) must be provisioned by the template.
/// </summary>
public sealed partial class StorageProvisioningTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    [Fact]
    public void Every_table_the_app_registers_is_provisioned()
    {
        var (required, _) = AppCode.RequiredStorage(TemplateSettings.Resolve(Template));
        var provisioned = Names("Microsoft.Storage/storageAccounts/tableServices/tables");

        Assert.Contains("Leads", required);
        Assert.All(required, table => Assert.Contains(table, provisioned, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public void Every_queue_the_app_registers_is_provisioned()
    {
        var (_, required) = AppCode.RequiredStorage(TemplateSettings.Resolve(Template));
        var provisioned = Names("Microsoft.Storage/storageAccounts/queueServices/queues");

        Assert.Contains("lead-events", required);
        Assert.Contains("lead-events-poison", required);
        Assert.All(required, queue => Assert.Contains(queue, provisioned, StringComparer.Ordinal));
    }

    /// <summary>Names of the child resources of a type: a copy loop over a parameter array, or a literal last segment.</summary>
    private static List<string> Names(string type)
    {
        var names = new List<string>();
        foreach (var resource in Template.OfType(type))
        {
            var loop = CopyLoopParameter().Match(resource.NameExpression);
            if (loop.Success)
                names.AddRange((resource.Scope.ResolveParameter(loop.Groups[1].Value) as JsonArray ?? []).Select(n => n!.GetValue<string>()));
            else if (LiteralLastSegment().Match(resource.NameExpression) is { Success: true } literal)
                names.Add(literal.Groups[1].Value);
        }
        return names;
    }

    [GeneratedRegex(@"parameters\('(\w+)'\)\[copyIndex\(\)\]\)\]$")]
    private static partial Regex CopyLoopParameter();

    [GeneratedRegex(@"'([A-Za-z0-9-]+)'\)\]$")]
    private static partial Regex LiteralLastSegment();
}
