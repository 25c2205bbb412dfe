namespace LeadFunctions.Infrastructure.Workspace;

/// <summary>
/// A person (or a machine client with an app-role token) signed in to the workspace through App Service Authentication.
/// <see cref="Id"/> is the Entra object id: the only thing about the user that goes into logs and the access log.
/// </summary>
/// <param name="Id">The Entra ID object id (<c>oid</c>), stable for the user across sessions and apps of the tenant.</param>
/// <param name="Name">The display name (or sign-in name) for the workspace page and decision actors; null when the token has none.</param>
/// <param name="Roles">The workspace roles held (<see cref="WorkspaceRoles"/>), lower case, each once; other role claims are left out.</param>
public sealed record WorkspaceUser(string Id, string? Name, IReadOnlyList<string> Roles)
{
    /// <summary>
    /// Who to record as the actor of a decision the user makes (the <c>actor</c> of a <c>sales-decision</c> event): the name
    /// colleagues recognise, else the object id. Decision rows are business records shown to colleagues, not logs.
    /// </summary>
    public string ActorName => string.IsNullOrWhiteSpace(Name) ? Id : Name;

    public bool IsInRole(string role) => Roles.Contains(role, StringComparer.Ordinal);

    /// <summary>Whether the user holds one of <paramref name="accepted"/>; admin is accepted everywhere, no roles named means any workspace role.</summary>
    public bool HasAnyRole(IReadOnlyCollection<string> accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        if (IsInRole(WorkspaceRoles.Admin))
            return true;
        return accepted.Count == 0 ? Roles.Count > 0 : Roles.Any(accepted.Contains);
    }
}
