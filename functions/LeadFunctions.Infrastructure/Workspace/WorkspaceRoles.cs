namespace LeadFunctions.Infrastructure.Workspace;

/// <summary>
/// The app roles of the workspace, as the Entra ID app registration defines them (their <c>value</c>s) and the principal carries
/// them in its role claims. See docs/workspace.md for what each may do.
/// </summary>
public static class WorkspaceRoles
{
    /// <summary>Reads leads and acts on them (accept, reject, advance).</summary>
    public const string Sales = "sales";

    /// <summary>Reads leads, the funnel, the scoring model and the nurture backlog; moves no lead.</summary>
    public const string Marketing = "marketing";

    /// <summary>Everything; accepted by every workspace endpoint whatever roles it names.</summary>
    public const string Admin = "admin";

    /// <summary>Every role, in the order they are listed to users.</summary>
    public static IReadOnlyList<string> All { get; } = [Sales, Marketing, Admin];

    /// <summary>The role as the workspace spells it (lower case), or null when it is none of the workspace's roles.</summary>
    public static string? Normalize(string? role)
    {
        var trimmed = role?.Trim();
        return All.FirstOrDefault(r => string.Equals(r, trimmed, StringComparison.OrdinalIgnoreCase));
    }
}
