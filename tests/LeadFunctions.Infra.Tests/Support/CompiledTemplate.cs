using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LeadFunctions.Infra.Tests.Support;

/// <summary>A resource in the compiled ARM template, with the (nested) template it sits in, so expressions can be resolved.</summary>
public sealed record TemplateResource(string Type, JsonObject Node, TemplateScope Scope)
{
    public JsonObject Properties => Node["properties"] as JsonObject ?? [];

    public string NameExpression => Node["name"]?.GetValue<string>() ?? "";
}

/// <summary>
/// One template (the root or a module's nested template) and the parameter values its parent deployment passes in.
/// Resolves the two expression forms modules use to hand values around: <c>[parameters('x')]</c> and <c>[variables('x')]</c>.
/// </summary>
public sealed partial class TemplateScope(JsonObject template, JsonObject? parameterValues, TemplateScope? parent)
{
    public JsonObject Template { get; } = template;

    /// <summary>The module (<c>Microsoft.Resources/deployments</c>) this template is nested in; null for the root.</summary>
    public JsonObject? Deployment { get; init; }

    /// <summary>The scope of the template this one is nested in.</summary>
    public TemplateScope? Parent => parent;

    /// <summary>
    /// The conditions (<c>[parameters('x')]</c>...) of every module around this template, innermost first: all must hold
    /// for its resources to be deployed.
    /// </summary>
    public IEnumerable<string> Conditions()
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope.Deployment?["condition"]?.GetValue<string>() is { } condition)
                yield return condition;
        }
    }

    public JsonNode? Resolve(JsonNode? node)
    {
        if (node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            var parameter = ParameterReference().Match(text);
            if (parameter.Success)
                return ResolveParameter(parameter.Groups[1].Value);
            var variable = VariableReference().Match(text);
            if (variable.Success)
                return Resolve(Template["variables"]?[variable.Groups[1].Value]);
        }
        return node;
    }

    public JsonNode? ResolveParameter(string name)
    {
        if (parameterValues?[name] is JsonObject passed)
            return parent is null ? passed["value"] : parent.Resolve(passed["value"]);
        return Template["parameters"]?[name]?["defaultValue"];
    }

    [GeneratedRegex(@"^\[parameters\('([^']+)'\)\]$")]
    private static partial Regex ParameterReference();

    [GeneratedRegex(@"^\[variables\('([^']+)'\)\]$")]
    private static partial Regex VariableReference();
}

/// <summary>The ARM JSON that <c>bicep build infra/main.bicep</c> produces, compiled once per test run into a temp folder.</summary>
public sealed class CompiledTemplate
{
    private static readonly Lazy<CompiledTemplate> Main = new(Compile);

    private CompiledTemplate(BicepRun build, string json)
    {
        Build = build;
        Json = json;
        Root = JsonNode.Parse(json)!.AsObject();
        var resources = new List<TemplateResource>();
        Collect(new TemplateScope(Root, null, null), resources);
        Resources = resources;
    }

    public static CompiledTemplate Instance => Main.Value;

    /// <summary>
    /// Compiles main.bicep with parameter values, as <c>bicep build-params</c> does for a <c>.bicepparam</c> file
    /// (<c>using</c> main.bicep plus one <c>param name = value</c> line each), written to a temp folder.
    /// </summary>
    public static (CompiledTemplate Template, JsonObject Parameters) WithParameters(IReadOnlyDictionary<string, string> bicepValues)
    {
        var folder = Directory.CreateTempSubdirectory("leadfunctions-bicepparam-");
        try
        {
            var file = Path.Combine(folder.FullName, "test.bicepparam");
            // Bicep refuses absolute paths in `using`.
            var main = Path.GetRelativePath(folder.FullName, BicepCli.MainBicep).Replace('\\', '/');
            File.WriteAllLines(file, bicepValues.Select(p => $"param {p.Key} = {p.Value}").Prepend($"using '{main}'"));
            var build = BicepCli.Run("build-params", file, "--stdout");
            if (build.ExitCode != 0)
                throw new InvalidOperationException($"bicep build-params failed: {build}");
            var output = JsonNode.Parse(build.StandardOutput)!;
            var parameters = JsonNode.Parse(output["parametersJson"]!.GetValue<string>())!["parameters"]!.AsObject();
            return (new CompiledTemplate(build, output["templateJson"]!.GetValue<string>()), parameters);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Whether a resource would be deployed with these parameter values: every module condition around it is a
    /// <c>[parameters('x')]</c> that is true (the value given, else the parameter's default).
    /// </summary>
    public bool IsDeployed(TemplateResource resource, JsonObject? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(resource);
        foreach (var condition in resource.Scope.Conditions().Concat(resource.Node["condition"] is JsonValue own ? [own.GetValue<string>()] : []))
        {
            var match = Regex.Match(condition, @"^\[parameters\('([^']+)'\)\]$");
            if (!match.Success)
                throw new InvalidOperationException($"A condition this check cannot evaluate: {condition}");
            var name = match.Groups[1].Value;
            var value = parameters?[name]?["value"] ?? Root["parameters"]?[name]?["defaultValue"];
            if (value?.GetValue<bool>() != true)
                return false;
        }
        return true;
    }

    public BicepRun Build { get; }

    public string Json { get; }

    public JsonObject Root { get; }

    /// <summary>Every resource, modules' resources included.</summary>
    public IReadOnlyList<TemplateResource> Resources { get; }

    public IEnumerable<TemplateResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    public TemplateResource Single(string type) => OfType(type).Single();

    /// <summary>The function app's settings: the <c>Microsoft.Web/sites/config</c> resource named appsettings.</summary>
    public JsonObject AppSettings =>
        OfType("Microsoft.Web/sites/config").Single(r => r.NameExpression.Contains("'appsettings'", StringComparison.Ordinal)).Properties;

    private static CompiledTemplate Compile()
    {
        // Compiled JSON goes to a temp folder: infra/ holds sources only (and .gitignore would hide a stray main.json).
        var output = Directory.CreateTempSubdirectory("leadfunctions-bicep-");
        try
        {
            var build = BicepCli.Run("build", BicepCli.MainBicep, "--outdir", output.FullName);
            var file = Path.Combine(output.FullName, "main.json");
            if (build.ExitCode != 0 || !File.Exists(file))
                throw new InvalidOperationException($"bicep build failed: {build}");
            return new CompiledTemplate(build, File.ReadAllText(file));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static void Collect(TemplateScope scope, List<TemplateResource> into)
    {
        var resources = scope.Template["resources"];
        IEnumerable<JsonNode?> nodes = resources switch
        {
            JsonArray array => array,
            JsonObject symbolic => symbolic.Select(p => p.Value),
            _ => [],
        };
        foreach (var node in nodes.OfType<JsonObject>())
        {
            var type = node["type"]?.GetValue<string>() ?? "";
            into.Add(new TemplateResource(type, node, scope));
            if (type == "Microsoft.Resources/deployments" && node["properties"]?["template"] is JsonObject nested)
                Collect(new TemplateScope(nested, node["properties"]?["parameters"] as JsonObject, scope) { Deployment = node }, into);
        }
    }
}
