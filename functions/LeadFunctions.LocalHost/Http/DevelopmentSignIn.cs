using LeadFunctions.Infrastructure.Workspace;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace LeadFunctions.LocalHost.Http;

/// <summary>
/// The local host's App Service Authentication. Like the platform, it drops every <c>X-MS-CLIENT-PRINCIPAL*</c> header a client
/// sends; when a development user is configured (<c>LocalHost:DevelopmentUser:Id</c>, <c>:Name</c>, <c>:Roles</c>) it signs
/// every request in as that user, with the principal header Easy Auth would send, and sets <c>WEBSITE_AUTH_ENABLED=True</c>.
/// The functions then read the sign-in exactly as they do in Azure. There is no login page: whoever reaches 127.0.0.1 is the
/// development user.
/// </summary>
internal static class DevelopmentSignIn
{
    public const string Section = "LocalHost:DevelopmentUser";
    public const string IdSetting = Section + ":Id";
    public const string NameSetting = Section + ":Name";
    public const string RolesSetting = Section + ":Roles";

    /// <summary>The configured development user; null when none is; an error naming the setting when it is half or wrongly configured.</summary>
    public static WorkspaceUser? From(IConfiguration configuration)
    {
        var id = configuration[IdSetting]?.Trim();
        var name = configuration[NameSetting]?.Trim();
        var roles = configuration[RolesSetting] ?? "";
        if (string.IsNullOrEmpty(id))
        {
            if (!string.IsNullOrWhiteSpace(name) || !string.IsNullOrWhiteSpace(roles))
                throw new InvalidOperationException($"{IdSetting} is required when {NameSetting} or {RolesSetting} is set (any GUID-like id, e.g. 00000000-0000-0000-0000-000000000001).");
            return null;
        }

        var parsed = new List<string>();
        foreach (var role in roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            parsed.Add(WorkspaceRoles.Normalize(role)
                ?? throw new InvalidOperationException($"{RolesSetting}: '{role}' is not a workspace role (use {string.Join(", ", WorkspaceRoles.All)})."));
        }
        var user = new WorkspaceUser(id, string.IsNullOrEmpty(name) ? null : name, [.. WorkspaceRoles.All.Where(parsed.Contains)]);
        // Through the same reader the functions use: an id it would refuse is a configuration error now, not a silent 401 later.
        return EasyAuthPrincipal.Read(EasyAuthPrincipal.Encode(user)) is not null
            ? user
            : throw new InvalidOperationException($"{IdSetting} must be letters, digits, '-', '_' or '.' (at most 128), like an Entra object id.");
    }

    public static void UseDevelopmentSignIn(this WebApplication app, WorkspaceUser? user)
    {
        var principal = user is null ? null : EasyAuthPrincipal.Encode(user);
        app.Use((context, next) =>
        {
            var headers = context.Request.Headers;
            foreach (var forged in headers.Keys.Where(k => k.StartsWith(EasyAuthPrincipal.HeaderPrefix, StringComparison.OrdinalIgnoreCase)).ToList())
                headers.Remove(forged);
            if (user is not null)
            {
                headers[EasyAuthPrincipal.PrincipalHeader] = principal;
                headers[EasyAuthPrincipal.PrincipalIdHeader] = user.Id;
                headers[EasyAuthPrincipal.PrincipalNameHeader] = user.Name ?? user.Id;
                headers[EasyAuthPrincipal.PrincipalIdpHeader] = "aad";
            }
            return next(context);
        });
    }
}
