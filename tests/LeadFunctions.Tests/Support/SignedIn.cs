using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Tests.Workspace;
using LeadFunctions.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Support;

/// <summary>
/// Calling workspace functions in-process as a signed-in person: the access check with App Service Authentication on, an
/// Entra principal on the request, and the answer without the security-header wrapper so tests can look at it.
/// </summary>
internal static class SignedIn
{
    public static WorkspaceAccess Access { get; } =
        new(Options.Create(new WorkspaceOptions { PlatformAuthenticationEnabled = true }), NullLogger<WorkspaceAccess>.Instance);

    /// <summary>An access log that keeps nothing: these tests are about what the function answers.</summary>
    public static IAccessLog NoAccessLog { get; } = new DiscardingAccessLog();

    /// <summary>Puts a signed-in user with <paramref name="roles"/> (admin by default) on the request.</summary>
    public static HttpRequest As(HttpRequest request, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers[EasyAuthPrincipal.PrincipalHeader] = Principals.Entra(roles.Length == 0 ? [WorkspaceRoles.Admin] : roles);
        return request;
    }

    /// <summary>Local-host settings that sign every request in as a development user with <paramref name="roles"/> (comma-separated).</summary>
    public static Dictionary<string, string?> DevelopmentUser(string roles = "sales,marketing,admin", Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? [], StringComparer.OrdinalIgnoreCase)
        {
            ["LocalHost:DevelopmentUser:Id"] = "00000000-0000-0000-0000-00000000d3e7",
            ["LocalHost:DevelopmentUser:Name"] = "Dev Tester",
            ["LocalHost:DevelopmentUser:Roles"] = roles,
        };
        return all;
    }

    public static IActionResult Unwrap(IActionResult result) => result is WorkspaceResult wrapped ? wrapped.Inner : result;

    private sealed class DiscardingAccessLog : IAccessLog
    {
        public Task RecordAsync(WorkspaceUser user, string action, string function, string? leadId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task RecordListAsync(WorkspaceUser user, string function, int leadsReturned, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
