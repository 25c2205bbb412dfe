using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LeadFunctions.Infra.Tests.Support;

/// <summary>
/// The function app's settings as the app would see them after deployment, as far as they can be known before it:
/// literals and parameter defaults are resolved; values only Azure knows (endpoints, client ids) get stand-ins of the right shape.
/// </summary>
public static partial class TemplateSettings
{
    public static IReadOnlyDictionary<string, string?> Resolve(CompiledTemplate template)
    {
        var config = template.OfType("Microsoft.Web/sites/config").Single(r => r.NameExpression.Contains("'appsettings'", StringComparison.Ordinal));
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, node) in template.AppSettings)
            settings[key] = ResolveValue(config.Scope, node) ?? StandIn(key);
        return settings;
    }

    private static string? ResolveValue(TemplateScope scope, JsonNode? node)
    {
        var resolved = scope.Resolve(node);
        if (resolved is null)
            return null;
        if (resolved is JsonValue value && value.TryGetValue<string>(out var text))
        {
            var stringOf = StringOfParameter().Match(text);
            if (stringOf.Success)
                return scope.ResolveParameter(stringOf.Groups[1].Value)?.ToString();
            return text.StartsWith('[') ? null : text;
        }
        return resolved.ToString();
    }

    private static string StandIn(string key) => key switch
    {
        _ when key.EndsWith("ClientId", StringComparison.OrdinalIgnoreCase) => "00000000-0000-0000-0000-000000000001",
        // 1, or 2 behind Front Door: the template picks it from enableFrontDoorWaf at deployment.
        _ when key.EndsWith("ForwardedForHops", StringComparison.OrdinalIgnoreCase) => "1",
        // Key Vault resolves the reference to the webhook secret the template stored: hex of two GUIDs (main.bicep).
        _ when key.EndsWith("WebhookSecret", StringComparison.Ordinal) => $"{Guid.NewGuid():N}{Guid.NewGuid():N}",
        _ when key.EndsWith("Address", StringComparison.OrdinalIgnoreCase) => "DoNotReply@00000000-0000-0000-0000-000000000001.azurecomm.net",
        _ when key.EndsWith("Uri", StringComparison.OrdinalIgnoreCase) || key.EndsWith("Url", StringComparison.OrdinalIgnoreCase) || key.EndsWith("Endpoint", StringComparison.OrdinalIgnoreCase)
            => "https://placeholder.example.com/",
        // Key Vault resolves the reference to the secret the template stored: a fresh key made of three GUIDs (main.bicep).
        _ when key.EndsWith("SigningKey", StringComparison.Ordinal) || key == "LeadIds__Key" => $"{Guid.NewGuid()}{Guid.NewGuid()}{Guid.NewGuid()}",
        _ when key.Contains("CONNECTION_STRING", StringComparison.Ordinal) => "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://placeholder.example.com/",
        _ => "stand-in-for-a-value-only-azure-knows-0123456789abcdef",
    };

    [GeneratedRegex(@"^\[string\(parameters\('([^']+)'\)\)\]$")]
    private static partial Regex StringOfParameter();
}
