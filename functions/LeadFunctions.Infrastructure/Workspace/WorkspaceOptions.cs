using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Workspace;

/// <summary>The workspace for people (section <c>Workspace</c>, e.g. <c>Workspace__AccessLogTable</c>).</summary>
public sealed class WorkspaceOptions
{
    public const string SectionName = "Workspace";

    /// <summary>
    /// The app setting App Service sets to <c>True</c> when App Service Authentication is on for the app. Only then does the
    /// platform strip client-sent <c>X-MS-CLIENT-PRINCIPAL*</c> headers, so only then is the principal header worth anything.
    /// </summary>
    public const string PlatformAuthEnabledSetting = "WEBSITE_AUTH_ENABLED";

    /// <summary>The table of who read or changed which lead (<see cref="AccessLog"/>).</summary>
    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Workspace:AccessLogTable must be a valid table name (letters and digits, 3-63, starting with a letter).")]
    public string AccessLogTable { get; set; } = "AccessLog";

    /// <summary>
    /// Whether App Service Authentication is on, from <see cref="PlatformAuthEnabledSetting"/>. Not bindable from the
    /// <c>Workspace</c> section on purpose: only the platform's own flag may make the app trust the principal header.
    /// </summary>
    public bool PlatformAuthenticationEnabled { get; internal set; }
}
