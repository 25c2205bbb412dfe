using Microsoft.AspNetCore.Http;

namespace LeadFunctions.Leads;

/// <summary>
/// WORKSPACE-AUTH: the one place people-facing endpoints get the actor of a change, until the workspace access service (signed-in
/// Easy Auth principal) is merged and replaces this. Every decision made meanwhile is recorded as this placeholder, never as
/// anything the request claims, so nobody can act under another's name.
/// </summary>
internal static class PendingWorkspaceActor
{
    public const string Placeholder = "workspace-user-unverified";

    public static string For(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Placeholder;
    }
}
