using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LeadFunctions.Infrastructure.Hosting;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LeadFunctions.Infra.Tests.Support;

/// <summary>One setting an options class binds, as an app setting name (<c>Section__Property</c>).</summary>
public sealed record OptionKey(string AppSetting, Type OptionsType, PropertyInfo Property);

/// <summary>
/// What the application reads, found in the code itself rather than in a hand-kept list: options classes (each has a
/// <c>SectionName</c> const), binding expressions like <c>%NurtureSchedule%</c> and trigger connections on function
/// methods, the tables and queues features register, and the documented local settings.
/// </summary>
public static partial class AppCode
{
    /// <summary>The Functions worker (its Program is internal, so it is loaded by name).</summary>
    public static Assembly WorkerAssembly { get; } = Assembly.Load("LeadFunctions");

    /// <summary>Every assembly of the app: the worker, its infrastructure and its domain.</summary>
    public static IReadOnlyList<Assembly> Assemblies { get; } =
    [
        WorkerAssembly,
        typeof(LeadPipelineRegistration).Assembly,
        typeof(Domain.Events.LeadEvent).Assembly,
    ];

    public static IReadOnlyList<Type> OptionsTypes { get; } =
        Assemblies.SelectMany(SafeTypes)
            .Where(t => t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true, FieldType: var f } && f == typeof(string))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();

    /// <summary>Every scalar setting of every options class (collections cannot be one app setting and are left out).</summary>
    public static IReadOnlyList<OptionKey> OptionKeys { get; } =
        OptionsTypes.SelectMany(t => ScalarKeys(t, SectionOf(t).Replace(":", "__", StringComparison.Ordinal), t, depth: 0)).ToList();

    public static string SectionOf(Type optionsType) =>
        (string)optionsType.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;

    /// <summary>The names in <c>%Name%</c> binding expressions on function parameters (timer schedules, queue names...).</summary>
    public static IReadOnlyList<string> BindingExpressionSettings { get; } =
        TriggerAttributes().SelectMany(StringArguments)
            .SelectMany(s => BindingExpression().Matches(s).Select(m => m.Groups[1].Value))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The <c>Connection</c> names of queue/blob/table triggers and bindings.</summary>
    public static IReadOnlyList<string> TriggerConnections { get; } =
        TriggerAttributes().SelectMany(a => a.NamedArguments.Where(n => n.MemberName == "Connection").Select(n => n.TypedValue.Value))
            .OfType<string>().Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Names of the function methods, so a test can show that it looked at something.</summary>
    public static IReadOnlyList<string> FunctionNames { get; } =
        FunctionMethods().Select(m => m.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>The <c>Values</c> of local.settings.sample.json: the documented set of settings.</summary>
    public static IReadOnlyDictionary<string, string> SampleLocalSettings()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.RepoRoot, "local.settings.sample.json")))!;
        return json["Values"]!.AsObject().ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "", StringComparer.Ordinal);
    }

    /// <summary>
    /// Runs the pipeline's registrations with the given settings and asks every feature which tables and queues it needs,
    /// the same way <c>StorageProvisioner</c> does at start.
    /// </summary>
    public static (IReadOnlyList<string> Tables, IReadOnlyList<string> Queues) RequiredStorage(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value)));
        builder.AddLeadPipeline();
        using var services = builder.Services.BuildServiceProvider();
        var tables = services.GetServices<RequiredTable>().Select(t => t.Name(services)).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
        var queues = services.GetServices<RequiredQueue>().Select(q => q.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return (tables, queues);
    }

    private static IEnumerable<OptionKey> ScalarKeys(Type type, string prefix, Type optionsType, int depth)
    {
        if (depth > 5)
            yield break;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0)
                continue;
            var key = $"{prefix}__{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsScalar(propertyType))
                yield return new OptionKey(key, optionsType, property);
            else if (!typeof(IEnumerable).IsAssignableFrom(propertyType) && propertyType.IsClass)
            {
                foreach (var nested in ScalarKeys(propertyType, key, optionsType, depth + 1))
                    yield return nested;
            }
        }
    }

    private static bool IsScalar(Type t) =>
        t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(DateTimeOffset)
        || t == typeof(DateTime) || t == typeof(Uri) || t == typeof(Guid);

    private static IEnumerable<MethodInfo> FunctionMethods() =>
        SafeTypes(WorkerAssembly)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttributesData().Any(a => a.AttributeType.Name == "FunctionAttribute"));

    private static IEnumerable<CustomAttributeData> TriggerAttributes() =>
        FunctionMethods().SelectMany(m => m.GetParameters().SelectMany(p => p.GetCustomAttributesData()).Concat(m.GetCustomAttributesData()))
            .Where(a => a.AttributeType.Namespace?.StartsWith("Microsoft.Azure.Functions.Worker", StringComparison.Ordinal) == true);

    private static IEnumerable<string> StringArguments(CustomAttributeData attribute) =>
        attribute.ConstructorArguments.Select(a => a.Value).Concat(attribute.NamedArguments.Select(a => a.TypedValue.Value)).OfType<string>();

    private static IEnumerable<Type> SafeTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }

    [GeneratedRegex("%([A-Za-z0-9_:.-]+)%")]
    private static partial Regex BindingExpression();
}
