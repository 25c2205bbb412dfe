using LeadFunctions.Infrastructure.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Workspace;

/// <summary>The signed-in workspace user, as <c>GET /api/workspace/me</c> returns it.</summary>
public sealed record WorkspaceUserResponse(string Id, string? Name, IReadOnlyList<string> Roles);

/// <summary>
/// <c>GET /api/workspace/me</c>: who the workspace sees signed in, and with which roles (any workspace role). Anonymous at the host:
/// the check is the Easy Auth principal, through <see cref="WorkspaceAccess"/>; 401 when nobody is signed in, 403 without a role.
/// </summary>
public sealed class GetWorkspaceUser(WorkspaceAccess access)
{
    [Function(nameof(GetWorkspaceUser))]
    public IActionResult Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace/me")] HttpRequest request)
    {
        var check = access.Authorize(request);
        if (check.Refused)
            return check.Refusal;
        return new OkObjectResult(new WorkspaceUserResponse(check.User.Id, check.User.Name, check.User.Roles));
    }
}
