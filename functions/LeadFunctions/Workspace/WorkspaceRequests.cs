using System.Diagnostics.CodeAnalysis;
using LeadFunctions.Infrastructure.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Workspace;

/// <summary>A workspace check mapped for a function: the user, or the problem response to return as it is.</summary>
public sealed record WorkspaceCheck(WorkspaceUser? User, IActionResult? Refusal)
{
    /// <summary>Refused only because nobody is signed in yet (the page sends such a person to sign in).</summary>
    public bool NotSignedIn { get; init; }

    [MemberNotNullWhen(true, nameof(Refusal))]
    [MemberNotNullWhen(false, nameof(User))]
    public bool Refused => Refusal is not null;
}

/// <summary>
/// The one line a workspace function starts with:
/// <code>
/// var check = access.Authorize(request, WorkspaceRoles.Sales);
/// if (check.Refused)
///     return check.Refusal;
/// // check.User is the signed-in user (admin passes every check).
/// </code>
/// </summary>
public static class WorkspaceRequests
{
    public static WorkspaceCheck Authorize(this WorkspaceAccess access, HttpRequest request, params IReadOnlyCollection<string> roles)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(request);
        var result = access.Authorize(request.Headers, roles);
        // What a person sees in the workspace is theirs alone: no shared cache may keep it, whatever the answer.
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return result.Refused
            ? new WorkspaceCheck(result.User, Problem(result.Refusal)) { NotSignedIn = result.Refusal == WorkspaceAccess.NotSignedIn }
            : new WorkspaceCheck(result.User, null);
    }

    public static ObjectResult Problem(WorkspaceRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return new ObjectResult(new ProblemDetails
        {
            Status = refusal.Status,
            Type = refusal.Type,
            Title = refusal.Title,
            Detail = refusal.Detail,
        })
        {
            StatusCode = refusal.Status,
        };
    }
}
