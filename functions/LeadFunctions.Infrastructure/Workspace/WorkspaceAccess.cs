using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Workspace;

/// <summary>Why a workspace request was refused: becomes an RFC 7807 problem with this status.</summary>
public sealed record WorkspaceRefusal(int Status, string Code, string Title, string Detail)
{
    public string Type => Domain.ProblemTypes.Of(Code);
}

/// <summary>The outcome of a workspace check: the signed-in user, or the refusal to answer with.</summary>
public sealed record WorkspaceAuthorization(WorkspaceUser? User, WorkspaceRefusal? Refusal)
{
    [MemberNotNullWhen(true, nameof(Refusal))]
    [MemberNotNullWhen(false, nameof(User))]
    public bool Refused => Refusal is not null;
}

/// <summary>
/// Who is calling a workspace endpoint, and may they. The workspace endpoints are anonymous at the Functions host (so capture,
/// tracking and link endpoints beside them stay anonymous too) and decide here, from the principal App Service Authentication
/// injects. That header is trusted only when the platform says authentication is on (<see cref="WorkspaceOptions.PlatformAuthenticationEnabled"/>):
/// without it anybody on the internet could send a principal of their own making.
/// </summary>
public sealed partial class WorkspaceAccess(IOptions<WorkspaceOptions> options, ILogger<WorkspaceAccess> logger)
{
    public static readonly WorkspaceRefusal NotConfigured = new(StatusCodes.Status401Unauthorized, "workspace-sign-in-not-configured",
        "Workspace sign-in is not configured.",
        "App Service Authentication is not enabled for this app, so no signed-in user can be trusted. See docs/workspace.md.");

    public static readonly WorkspaceRefusal NotSignedIn = new(StatusCodes.Status401Unauthorized, "not-signed-in",
        "Sign in to use the workspace.", "The request carries no signed-in user. Sign in with Microsoft Entra ID (/.auth/login/aad) and try again.");

    /// <summary>
    /// The signed-in user when they hold one of <paramref name="roles"/> (admin always passes; none named means any workspace
    /// role); otherwise a 401 (not signed in, or sign-in not configured) or 403 (signed in without the role) refusal.
    /// </summary>
    public WorkspaceAuthorization Authorize(IHeaderDictionary headers, params IReadOnlyCollection<string> roles)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(roles);
        if (!options.Value.PlatformAuthenticationEnabled)
        {
            if (headers.ContainsKey(EasyAuthPrincipal.PrincipalHeader))
                LogUntrustedPrincipal(logger);
            return new WorkspaceAuthorization(null, NotConfigured);
        }

        var user = EasyAuthPrincipal.Read(headers[EasyAuthPrincipal.PrincipalHeader].ToString(), headers[EasyAuthPrincipal.PrincipalIdHeader].ToString());
        if (user is null)
            return new WorkspaceAuthorization(null, NotSignedIn);
        if (!user.HasAnyRole(roles))
        {
            LogRoleMissing(logger, user.Id, string.Join(',', roles));
            var needed = roles.Count == 0 ? "a workspace role (sales, marketing or admin)" : "one of the roles " + string.Join(", ", roles.Append(WorkspaceRoles.Admin).Distinct());
            return new WorkspaceAuthorization(user, new WorkspaceRefusal(StatusCodes.Status403Forbidden, "workspace-role-required",
                "Your account may not do this.", $"This needs {needed}. Ask an administrator to assign you the role in the app registration."));
        }
        return new WorkspaceAuthorization(user, null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A workspace request sent a principal header while App Service Authentication is off; it was ignored")]
    private static partial void LogUntrustedPrincipal(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace user {UserId} refused: needs one of [{Roles}]")]
    private static partial void LogRoleMissing(ILogger logger, string userId, string roles);
}
