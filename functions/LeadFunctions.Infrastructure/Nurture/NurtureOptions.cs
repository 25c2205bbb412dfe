using System.ComponentModel.DataAnnotations;
using LeadFunctions.Domain.SalesAlerts;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>Nurture programmes and the timer that sends them (section <c>Nurture</c>).</summary>
public sealed class NurtureOptions
{
    public const string SectionName = "Nurture";

    /// <summary>The programmes file, relative to the app folder unless absolute.</summary>
    [Required(ErrorMessage = "Nurture:ProgrammesFile is required.")]
    public string ProgrammesFile { get; set; } = "config/nurture.json";

    /// <summary>The Liquid template folder, relative to the app folder unless absolute.</summary>
    [Required(ErrorMessage = "Nurture:TemplatesFolder is required.")]
    public string TemplatesFolder { get; set; } = "config/templates";

    /// <summary>No more than this many marketing e-mails to one lead in any 7 days.</summary>
    [Range(1, 100, ErrorMessage = "Nurture:MaxMarketingEmailsPerWeek must be between 1 and 100.")]
    public int MaxMarketingEmailsPerWeek { get; set; } = 3;

    /// <summary>Sender of nurture e-mail; empty means <c>Email:FromAddress</c>.</summary>
    [EmailAddress(ErrorMessage = "Nurture:FromAddress must be an e-mail address.")]
    public string? FromAddress { get; set; }

    public string? FromName { get; set; }

    /// <summary>Where a lead's reply to a nurture e-mail goes (the sender is usually a no-reply address); empty means no Reply-To.</summary>
    [EmailAddress(ErrorMessage = "Nurture:ReplyToAddress must be an e-mail address.")]
    public string? ReplyToAddress { get; set; }

    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Nurture:DueTable must be a valid table name.")]
    public string DueTable { get; set; } = "NurtureDue";

    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Nurture:StateTable must be a valid table name.")]
    public string StateTable { get; set; } = "NurtureState";

    /// <summary>How long a run owns an outbox record it claimed; a crashed run's claim is taken over after this.</summary>
    [Range(30, 3600, ErrorMessage = "Nurture:ClaimLeaseSeconds must be between 30 and 3600.")]
    public int ClaimLeaseSeconds { get; set; } = 300;

    /// <summary>At most this many due items per timer run; the rest wait for the next run.</summary>
    [Range(1, 10000, ErrorMessage = "Nurture:MaxItemsPerRun must be between 1 and 10000.")]
    public int MaxItemsPerRun { get; set; } = 500;

    /// <summary>How long work scheduled at a stage change waits for the lead's commit before it is dropped as never committed.</summary>
    [Range(10, 86400, ErrorMessage = "Nurture:CommitGraceSeconds must be between 10 and 86400.")]
    public int CommitGraceSeconds { get; set; } = 600;

    /// <summary>The double opt-in e-mail's template (in <see cref="TemplatesFolder"/>).</summary>
    [Required(ErrorMessage = "Nurture:ConfirmationTemplate is required.")]
    public string ConfirmationTemplate { get; set; } = "consent-confirmation";

    /// <summary>Its subject (Liquid, same model as the template).</summary>
    [Required(ErrorMessage = "Nurture:ConfirmationSubject is required.")]
    public string ConfirmationSubject { get; set; } = "{{ lead.firstName | default: 'Hello' }}, please confirm you want our e-mails";

    /// <summary>At most one confirmation e-mail to an address in any this many hours, however often a form names it.</summary>
    [Range(1, 720, ErrorMessage = "Nurture:ConfirmationWindowHours must be between 1 and 720.")]
    public int ConfirmationWindowHours { get; set; } = 24;

    /// <summary>How long a confirmation link works and a pending request waits for it; at least the window, so one e-mail covers it.</summary>
    [Range(1, 90, ErrorMessage = "Nurture:ConfirmationValidDays must be between 1 and 90.")]
    public int ConfirmationValidDays { get; set; } = 7;

    /// <summary>Failed runs of one item (transient failures, or runs that died sending it) before it is parked.</summary>
    [Range(1, 100, ErrorMessage = "Nurture:MaxSendAttempts must be between 1 and 100.")]
    public int MaxSendAttempts { get; set; } = 8;

    /// <summary>The back-off after the first transient failure; it doubles per failure (jittered) up to <see cref="MaxRetryDelaySeconds"/>.</summary>
    [Range(1, 86400, ErrorMessage = "Nurture:RetryDelaySeconds must be between 1 and 86400.")]
    public int RetryDelaySeconds { get; set; } = 60;

    [Range(1, 604800, ErrorMessage = "Nurture:MaxRetryDelaySeconds must be between 1 and 604800.")]
    public int MaxRetryDelaySeconds { get; set; } = 3600;

    /// <summary>
    /// A run starts no new item after this long, so it ends inside the function timeout (5 minutes on Consumption); what is
    /// left stays due for the next run.
    /// </summary>
    [Range(10, 3600, ErrorMessage = "Nurture:RunBudgetSeconds must be between 10 and 3600.")]
    public int RunBudgetSeconds { get; set; } = 240;
}

/// <summary>Sales alerts, routing and the SLA clock (section <c>SalesAlerts</c>).</summary>
public sealed class SalesAlertOptions
{
    public const string SectionName = "SalesAlerts";

    [Required(ErrorMessage = "SalesAlerts:RoutingFile is required.")]
    public string RoutingFile { get; set; } = "config/sales-routing.json";

    /// <summary>
    /// The SLA ladder: steps (<c>Kind</c> remind, escalate, reroute or breach; <c>After</c> the SQL, e.g. <c>15m</c>; optional
    /// <c>Id</c>, <c>To</c>, <c>Template</c>), checked at start. Empty means <see cref="SlaLadder.DefaultSources"/>. Configured steps
    /// replace the default as a whole (<c>SalesAlerts__Sla__0__Kind</c>, <c>SalesAlerts__Sla__0__After</c>, ...).
    /// </summary>
    public List<SlaStepOptions> Sla { get; set; } = [];

    /// <summary>Who is told, once, when nobody acted on an SQL within the SLA.</summary>
    [Required(ErrorMessage = "SalesAlerts:EscalationAddress is required (who hears about SQLs nobody accepted within the SLA)."),
     EmailAddress(ErrorMessage = "SalesAlerts:EscalationAddress must be an e-mail address.")]
    public string EscalationAddress { get; set; } = "";

    /// <summary>Sender of alerts; empty means <c>Email:FromAddress</c>.</summary>
    [EmailAddress(ErrorMessage = "SalesAlerts:FromAddress must be an e-mail address.")]
    public string? FromAddress { get; set; }

    public string? FromName { get; set; } = "Sales alerts";

    /// <summary>Templates of the alert and the escalation e-mail (in <c>Nurture:TemplatesFolder</c>).</summary>
    public string AlertTemplate { get; set; } = "sales-alert";
    public string EscalationTemplate { get; set; } = "sla-escalation";

    private SlaLadder? _ladder;

    /// <summary>The validated ladder (the default when none is configured); throws <see cref="SlaLadderException"/> naming each bad step.</summary>
    public SlaLadder GetLadder() => _ladder ??= Sla.Count == 0
        ? SlaLadder.Default
        : SlaLadder.Parse([.. Sla.Select(s => new SlaStepSource(s.Id, s.Kind, s.After, s.To, s.Template))], SectionName + ":Sla");
}

/// <summary>One step of <see cref="SalesAlertOptions.Sla"/>.</summary>
public sealed class SlaStepOptions
{
    /// <summary>Part of the step's outbox id; defaults to kind and delay (<c>remind-15m</c>). Renaming a step makes it a new e-mail.</summary>
    public string? Id { get; set; }
    public string? Kind { get; set; }
    /// <summary>Delay after the lead became an SQL: <c>15m</c>, <c>4h</c>, <c>1d</c> or a TimeSpan.</summary>
    public string? After { get; set; }
    /// <summary>Escalate and breach steps only: who is told; defaults to <c>SalesAlerts:EscalationAddress</c>.</summary>
    public string? To { get; set; }
    public string? Template { get; set; }
}

/// <summary>Signed links: open pixel, click redirect, unsubscribe, accept/reject (section <c>Tracking</c>).</summary>
public sealed class TrackingOptions
{
    public const string SectionName = "Tracking";

    /// <summary>
    /// HMAC key that signs every new link. Outside Development: at least 256 random bits (e.g. <c>openssl rand -base64 32</c>),
    /// never the sample key (see <see cref="Domain.Tracking.SigningKeyPolicy"/>). Keep it in Key Vault.
    /// </summary>
    [Required(ErrorMessage = "Tracking:SigningKey is required (generate one with: openssl rand -base64 32; keep it in Key Vault).")]
    public string SigningKey { get; set; } = "";

    /// <summary>The id written into every token <see cref="SigningKey"/> signs; give each new key a new id.</summary>
    public string SigningKeyId { get; set; } = Domain.Tracking.TrackingTokenSigner.DefaultKeyId;

    /// <summary>Keys that signed links already sent: they still verify, but sign nothing new. Drop one once its links may expire.</summary>
    public List<TrackingKeyOptions> PreviousSigningKeys { get; set; } = [];

    /// <summary>
    /// Opens and clicks score only this long after sending, and each open (and each link) of a message scores once in that time.
    /// After it the pixel and the redirect still work, but nothing is queued.
    /// </summary>
    [Range(1, 365, ErrorMessage = "Tracking:EngagementScoringDays must be between 1 and 365.")]
    public int EngagementScoringDays { get; set; } = 30;

    /// <summary>How long an unsubscribe link works after sending.</summary>
    [Range(60, 3650, ErrorMessage = "Tracking:UnsubscribeLinkDays must be between 60 and 3650 (unsubscribe links must keep working for at least 60 days).")]
    public int UnsubscribeLinkDays { get; set; } = 90;

    /// <summary>Sales accept/reject links work until the SLA deadline plus this (and only while the lead is still that undecided SQL).</summary>
    [Range(0, 720, ErrorMessage = "Tracking:SalesLinkGraceHours must be between 0 and 720.")]
    public int SalesLinkGraceHours { get; set; } = 72;

    /// <summary>The public origin of the app (e.g. <c>https://leads.example.com</c>); links are <c>{BaseUrl}/api/...</c>.</summary>
    [Required(ErrorMessage = "Tracking:BaseUrl is required (the public URL of the app, used in e-mail links).")]
    public string BaseUrl { get; set; } = "";

    /// <summary>Hits sooner than this after sending are treated as security scanners.</summary>
    [Range(0, 3600, ErrorMessage = "Tracking:MinimumHumanDelaySeconds must be between 0 and 3600.")]
    public int MinimumHumanDelaySeconds { get; set; } = 10;

    /// <summary>Extra user-agent substrings to treat as scanners, on top of the built-in list.</summary>
    public List<string> ScannerUserAgents { get; set; } = [];
}

/// <summary>A previous signing key and the id its tokens carry (<c>Tracking:PreviousSigningKeys:0:Id</c> / <c>:Key</c>).</summary>
public sealed class TrackingKeyOptions
{
    public string Id { get; set; } = "";
    public string Key { get; set; } = "";
}
