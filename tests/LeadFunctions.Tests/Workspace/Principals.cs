using System.Text;
using System.Text.Json.Nodes;

namespace LeadFunctions.Tests.Workspace;

/// <summary>Principal headers as App Service Authentication sends them for Microsoft Entra ID sign-ins.</summary>
internal static class Principals
{
    public const string DanaId = "7d9f2c1e-4b6a-4e8f-9a51-3c2d1b0e8f77";
    public const string DanaName = "Dana Sales";
    public const string DanaEmail = "dana.sales@contoso.example";

    /// <summary>A browser sign-in: the claims Easy Auth passes on from an Entra ID v2 id token, app roles in <c>roles</c>.</summary>
    public static string Entra(params string[] roles) => Encode(EntraJson(roles));

    public static JsonObject EntraJson(params string[] roles)
    {
        var claims = new JsonArray
        {
            Claim("aud", "3f1b9c0e-1111-4a2b-8c3d-5e6f7a8b9c0d"),
            Claim("iss", "https://login.microsoftonline.com/0b2c4d6e-2222-4f3a-9b1c-7d8e9f0a1b2c/v2.0"),
            Claim("iat", "1763200000"),
            Claim("nbf", "1763200000"),
            Claim("exp", "1763203900"),
            Claim("aio", "AWQAm/8YAAAA"),
            Claim("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", DanaEmail),
            Claim("name", DanaName),
            Claim("http://schemas.microsoft.com/identity/claims/objectidentifier", DanaId),
            Claim("preferred_username", DanaEmail),
            Claim("rh", "1.AQsA"),
            Claim("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", "kQ3mN0pRsT_uVwXyZ"),
            Claim("http://schemas.microsoft.com/identity/claims/tenantid", "0b2c4d6e-2222-4f3a-9b1c-7d8e9f0a1b2c"),
            Claim("uti", "sZ0eAbCdEf"),
            Claim("ver", "2.0"),
        };
        foreach (var role in roles)
            claims.Add(Claim("roles", role));
        return new JsonObject
        {
            ["auth_typ"] = "aad",
            ["claims"] = claims,
            ["name_typ"] = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            ["role_typ"] = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
        };
    }

    public static string Encode(JsonNode payload) => Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.ToJsonString()));

    public static JsonObject Claim(string type, string value) => new() { ["typ"] = type, ["val"] = value };
}
