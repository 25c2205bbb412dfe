namespace LeadFunctions.Domain.Events;

/// <summary>
/// One thing that happened to a lead or an anonymous visitor: the message carried on the <c>lead-events</c> queue.
/// Everything that changes a lead enters the pipeline as one of these, so replaying them reproduces the lead.
/// </summary>
public sealed record LeadEvent
{
    /// <summary>Bumped when a change to this record could not be read by the previous processor.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>Unique per accepted submission or activity; a redelivered or re-posted event keeps its id, which is how it is applied once.</summary>
    public required string EventId { get; init; }

    /// <summary>One of <see cref="LeadEventTypes"/>.</summary>
    public required string Type { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>Normalised (trimmed, lower-case) e-mail; absent for anonymous activity.</summary>
    public string? Email { get; init; }

    /// <summary>Anonymous visitor id from the tracking cookie or a form field.</summary>
    public string? VisitorId { get; init; }

    /// <summary>The lead id when the sender already knows it (tracking links, sales decisions); otherwise derived from <see cref="Email"/>.</summary>
    public string? LeadId { get; init; }

    public string? FormId { get; init; }

    /// <summary>What a form submission means; set only for <see cref="LeadEventTypes.FormSubmission"/>.</summary>
    public FormIntent? Intent { get; init; }

    /// <summary>Profile fields given with the event (first name, company, role…); an empty value never blanks a stored one.</summary>
    public IReadOnlyDictionary<string, string> Profile { get; init; } = EmptyMap;

    public IReadOnlyList<ConsentRecord> Consents { get; init; } = [];

    public CaptureContext? Context { get; init; }

    /// <summary>Event-specific values, named by <see cref="LeadEventProperties"/>.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = EmptyMap;

    internal static readonly IReadOnlyDictionary<string, string> EmptyMap = new Dictionary<string, string>();

    public string? Property(string name) => Properties.TryGetValue(name, out var value) ? value : null;
}

public static class LeadEventTypes
{
    public const string FormSubmission = "form-submission";
    public const string PageView = "page-view";
    public const string ContentDownload = "content-download";
    public const string AddToCart = "add-to-cart";
    public const string WebinarRegistration = "webinar-registration";
    public const string EmailOpen = "email-open";
    public const string EmailClick = "email-click";
    public const string Unsubscribe = "unsubscribe";
    public const string SalesDecision = "sales-decision";
    /// <summary>The lead clicked the link in a double opt-in e-mail and confirmed its pending marketing-e-mail consent.</summary>
    public const string ConsentConfirmation = "consent-confirmation";
    /// <summary>Sales routing gave an SQL to a rep (<see cref="LeadEventProperties.Owner"/>): how the lead row's owner is set by routing.</summary>
    public const string SalesAssignment = "sales-assignment";
    /// <summary>
    /// The system re-scores the lead under a published model (<see cref="Scoring.LeadRescore"/>). Only the re-score job creates
    /// it: it is not <see cref="Trackable"/>, and no form or webhook maps to it.
    /// </summary>
    public const string ModelRescore = "model-rescore";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        FormSubmission, PageView, ContentDownload, AddToCart, WebinarRegistration,
        EmailOpen, EmailClick, Unsubscribe, SalesDecision, ConsentConfirmation, SalesAssignment, ModelRescore,
    };

    /// <summary>The kinds a landing page's tracking snippet may post to <c>/api/events</c>.</summary>
    public static readonly IReadOnlySet<string> Trackable = new HashSet<string>(StringComparer.Ordinal)
    {
        PageView, ContentDownload, AddToCart, WebinarRegistration,
    };
}

/// <summary>Names of <see cref="LeadEvent.Properties"/> that producers and the processor agree on.</summary>
public static class LeadEventProperties
{
    /// <summary>The visitor's IANA time zone as their browser reports it (tracking snippet); kept as profile field <c>timeZone</c> unless a form gave one.</summary>
    public const string TimeZone = "timeZone";
    /// <summary>Page URL of a page view, or the original URL of an e-mail click.</summary>
    public const string Url = "url";
    /// <summary>Funnel stage of downloaded content or a catalogued page: <c>top</c>, <c>middle</c> or <c>bottom</c>, from the content catalogue.</summary>
    public const string FunnelStage = "funnelStage";
    public const string ContentId = "contentId";
    /// <summary>Title of the content, from the content catalogue (never from the request).</summary>
    public const string Title = "title";
    public const string Campaign = "campaign";
    /// <summary>Nurture programme and step an e-mail open or click belongs to.</summary>
    public const string Programme = "programme";
    public const string Step = "step";
    /// <summary>The name a template gave the clicked link (<c>data-link="guide"</c>), carried in the signed click token.</summary>
    public const string Link = "link";
    /// <summary><c>true</c> when an open or click looks like a security scanner or prefetch: recorded, not scored.</summary>
    public const string ProbableBot = "probableBot";
    public const string BotReason = "botReason";
    /// <summary>Sales decision: <c>accept</c>, <c>reject</c>, <c>recycle</c> or <c>advance</c> (see <c>StageMoves</c>).</summary>
    public const string Decision = "decision";
    /// <summary>Stage a rejection returns the lead to (<c>mql</c> or <c>lead</c>) or an advance moves it to.</summary>
    public const string ToStage = "toStage";
    public const string Reason = "reason";
    /// <summary>Who caused the event when it was a person (a sales rep's address or name).</summary>
    public const string Actor = "actor";
    /// <summary>
    /// Sales decision from an alert's link: when the lead became the SQL the alert was about (ISO 8601, round-trip). The decision
    /// applies only while the lead is still in that SQL episode.
    /// </summary>
    public const string SqlEpisode = "sqlAt";
    /// <summary>The sales rep a lead is assigned to (a normalised address), by routing or by a sales decision.</summary>
    public const string Owner = "owner";
    /// <summary>Which routing pool (or re-route) assigned the owner of a <see cref="LeadEventTypes.SalesAssignment"/>.</summary>
    public const string RoutedBy = "routedBy";
    /// <summary>
    /// <c>crm</c> on a sales decision the signed CRM webhook sent: judged by the CRM's rules (the system of record for deals may
    /// skip stages forward). Absent for a person's decision.
    /// </summary>
    public const string Source = "source";
    /// <summary>The CRM event a decision came from (<c>opportunity-created</c>, <c>deal-won</c>, <c>deal-lost</c>, <c>referral</c>).</summary>
    public const string CrmEvent = "crmEvent";
    /// <summary>The outbox id of the e-mail a signed link came from (the confirmation e-mail of a consent confirmation).</summary>
    public const string MessageId = "messageId";
}

public enum FormIntent
{
    /// <summary>Newsletter or blog sign-up: makes a Subscriber.</summary>
    NewsletterSignup,
    /// <summary>Gated content download: makes a Lead.</summary>
    ContentDownload,
    /// <summary>Event or webinar registration: makes a Lead.</summary>
    EventRegistration,
    /// <summary>Explicit sales intent: straight to SQL.</summary>
    DemoRequest,
    /// <summary>Explicit sales intent: straight to SQL.</summary>
    QuoteRequest,
}

public static class FormIntentExtensions
{
    public static bool IsSalesIntent(this FormIntent intent) => intent is FormIntent.DemoRequest or FormIntent.QuoteRequest;
}

/// <summary>
/// Consent kept as data: what was agreed to, under which text, when and where (<see cref="At"/> and <see cref="Source"/> are the
/// request: the form and the time it was sent). Three states: <b>granted</b> (<see cref="Granted"/>; with double opt-in also
/// <see cref="ConfirmedAt"/> and <see cref="ConfirmedSource"/>), <b>pending</b> (<see cref="Pending"/>: a ticked box waiting for
/// its confirmation link, which is not consent yet) and <b>withdrawn</b> (neither).
/// </summary>
public sealed record ConsentRecord(string Purpose, string TextVersion, bool Granted, DateTimeOffset At, string Source)
{
    /// <summary>A double opt-in request whose confirmation link has not been used: no marketing e-mail may go on it.</summary>
    public bool Pending { get; init; }

    /// <summary>When the confirmation link of a double opt-in request was used.</summary>
    public DateTimeOffset? ConfirmedAt { get; init; }

    /// <summary>How it was confirmed (<see cref="ConsentSources.ConfirmationLink"/>).</summary>
    public string? ConfirmedSource { get; init; }

    /// <summary>When this record took effect: the confirmation of a confirmed request, otherwise the request itself.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset EffectiveAt => ConfirmedAt ?? At;
}

/// <summary>The <see cref="ConsentRecord.Source"/> values the pipeline writes itself (forms write <c>form:&lt;id&gt;</c>).</summary>
public static class ConsentSources
{
    public const string ConfirmationLink = "confirmation-link";
    public const string Unsubscribe = "unsubscribe";

    public static string Form(string formId) => "form:" + formId;
}

public sealed record CaptureContext
{
    public string? UtmSource { get; init; }
    public string? UtmMedium { get; init; }
    public string? UtmCampaign { get; init; }
    public string? UtmTerm { get; init; }
    public string? UtmContent { get; init; }
    public string? Referrer { get; init; }
    public string? LandingPageUrl { get; init; }
    public string? UserAgent { get; init; }
}
