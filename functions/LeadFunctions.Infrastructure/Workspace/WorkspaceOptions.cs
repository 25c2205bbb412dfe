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
    /// How long an access row is kept (by its latest access), in days; the retention timer deletes older rows. There is no "keep
    /// forever": an audit log is personal data about the lead and the user too. A year answers "who looked at this person" for a
    /// subject request or an incident found late, the upper end of the CNIL's 2021 recommendation for logging data (six months
    /// to a year); shorter than a month would hardly serve accountability.
    /// </summary>
    [Range(30, 3650, ErrorMessage = "Workspace:AccessLogDays must be between 30 and 3650.")]
    public int AccessLogDays { get; set; } = 365;

    /// <summary>
    /// At most this many access rows per lead: the retention timer keeps the newest and deletes the rest. A row is one user's
    /// accesses with one action on one day, so 1,000 is years of daily reads by a whole sales team, and well under 1 MiB per lead.
    /// </summary>
    [Range(10, 100000, ErrorMessage = "Workspace:AccessLogRowsPerLead must be between 10 and 100000.")]
    public int AccessLogRowsPerLead { get; set; } = 1000;

    /// <summary>Pages (of up to 1,000 rows) one retention run reads from the access log; the next run resumes where it stopped.</summary>
    [Range(1, 10000, ErrorMessage = "Workspace:AccessLogPagesPerRun must be between 1 and 10000.")]
    public int AccessLogPagesPerRun { get; set; } = 200;

    /// <summary>
    /// Whether App Service Authentication is on, from <see cref="PlatformAuthEnabledSetting"/>. Not bindable from the
    /// <c>Workspace</c> section on purpose: only the platform's own flag may make the app trust the principal header.
    /// </summary>
    public bool PlatformAuthenticationEnabled { get; internal set; }
}
