using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadFunctions.Infrastructure.Workspace;

/// <summary>
/// Reads (and, for the local host and tests, writes) the principal App Service Authentication hands the app in
/// <c>X-MS-CLIENT-PRINCIPAL</c>: Base64 JSON <c>{ "auth_typ", "name_typ", "role_typ", "claims": [ { "typ", "val" } ] }</c>.
/// Parsing is bounded (header size, claim count, value lengths); anything malformed reads as nobody signed in, never an error.
/// Whether the header may be trusted at all is <see cref="WorkspaceAccess"/>'s decision, not this reader's.
/// </summary>
public static class EasyAuthPrincipal
{
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";
    public const string PrincipalIdHeader = "X-MS-CLIENT-PRINCIPAL-ID";
    public const string PrincipalNameHeader = "X-MS-CLIENT-PRINCIPAL-NAME";
    public const string PrincipalIdpHeader = "X-MS-CLIENT-PRINCIPAL-IDP";

    /// <summary>Every header App Service Authentication injects starts with this; the platform drops any a client sends.</summary>
    public const string HeaderPrefix = "X-MS-CLIENT-PRINCIPAL";

    public const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";
    public const string RolesClaim = "roles";
    public const string NameClaim = "name";
    public const string PreferredUserNameClaim = "preferred_username";

    /// <summary>The claim types Easy Auth names for Entra ID principals.</summary>
    public const string EntraNameType = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
    public const string EntraRoleType = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

    /// <summary>
    /// Larger than any principal we expect (a token with a few hundred group claims is ~20 KB of Base64), small enough that a
    /// forged header costs nothing to refuse. Front ends cap headers near this too.
    /// </summary>
    internal const int MaxHeaderChars = 32 * 1024;
    internal const int MaxClaims = 500;
    internal const int MaxIdLength = 128;
    internal const int MaxNameLength = 200;

    /// <summary>The signed-in user, or null when the header is absent, too large, not Base64 JSON, or names no id.</summary>
    public static WorkspaceUser? Read(string? principal, string? principalId = null)
    {
        if (string.IsNullOrWhiteSpace(principal) || principal.Length > MaxHeaderChars)
            return null;
        var buffer = new byte[principal.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(principal.Trim(), buffer, out var written))
            return null;

        Payload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(buffer.AsSpan(0, written), PrincipalJson.Default.Payload);
        }
        catch (JsonException)
        {
            return null;
        }
        if (payload?.Claims is not { } claims || claims.Count > MaxClaims)
            return null;

        string? First(string? type) => type is null ? null
            : claims.FirstOrDefault(c => string.Equals(c?.Type, type, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(c?.Value))?.Value?.Trim();

        var id = First(ObjectIdClaim) ?? First("oid") ?? principalId?.Trim();
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            return null;

        // The display name first: it is what a decision's actor should read as, where name_typ is usually the sign-in address.
        var name = First(NameClaim) ?? First(payload.NameType) ?? First(PreferredUserNameClaim);
        if (name is { Length: > MaxNameLength })
            name = name[..MaxNameLength];

        var roleType = string.IsNullOrWhiteSpace(payload.RoleType) ? EntraRoleType : payload.RoleType;
        var roles = claims
            .Where(c => c is not null && (string.Equals(c.Type, roleType, StringComparison.OrdinalIgnoreCase) || string.Equals(c.Type, RolesClaim, StringComparison.OrdinalIgnoreCase)))
            .Select(c => WorkspaceRoles.Normalize(c!.Value))
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        return new WorkspaceUser(id, string.IsNullOrWhiteSpace(name) ? null : name, [.. WorkspaceRoles.All.Where(roles.Contains)]);
    }

    /// <summary>
    /// The header value Easy Auth would send for this user with Entra ID: what the local host injects for its development user,
    /// so the functions read a local sign-in exactly as they read one in Azure.
    /// </summary>
    public static string Encode(WorkspaceUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var claims = new List<Claim?>
        {
            new(ObjectIdClaim, user.Id),
            new("http://schemas.microsoft.com/identity/claims/tenantid", "00000000-0000-0000-0000-000000000000"),
        };
        if (user.Name is { Length: > 0 } name)
            claims.Add(new Claim(NameClaim, name));
        claims.AddRange(user.Roles.Select(r => new Claim(RolesClaim, r)));
        var payload = new Payload { AuthType = "aad", NameType = EntraNameType, RoleType = EntraRoleType, Claims = claims };
        return Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(payload, PrincipalJson.Default.Payload));
    }

    internal sealed class Payload
    {
        [JsonPropertyName("auth_typ")]
        public string? AuthType { get; set; }

        [JsonPropertyName("name_typ")]
        public string? NameType { get; set; }

        [JsonPropertyName("role_typ")]
        public string? RoleType { get; set; }

        [JsonPropertyName("claims")]
        public List<Claim?>? Claims { get; set; }
    }

    internal sealed class Claim
    {
        public Claim()
        {
        }

        public Claim(string type, string value)
        {
            Type = type;
            RawValue = JsonSerializer.SerializeToElement(value, PrincipalJson.Default.String);
        }

        [JsonPropertyName("typ")]
        public string? Type { get; set; }

        /// <summary>Kept as JSON: a claim another provider sends as a number must not make the whole principal unreadable.</summary>
        [JsonPropertyName("val")]
        public JsonElement RawValue { get; set; }

        [JsonIgnore]
        public string? Value => RawValue.ValueKind == JsonValueKind.String ? RawValue.GetString() : null;
    }
}

[JsonSerializable(typeof(EasyAuthPrincipal.Payload))]
[JsonSerializable(typeof(string))]
[JsonSourceGenerationOptions(MaxDepth = 8)]
internal sealed partial class PrincipalJson : JsonSerializerContext;
