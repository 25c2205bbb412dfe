using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Capture;

/// <summary>One landing-page form as the forms file defines it, already validated.</summary>
public sealed record FormDefinition
{
    public required string Id { get; init; }

    /// <summary>What a submission means: it decides the stage a new contact starts in.</summary>
    public required FormIntent Intent { get; init; }

    public required IReadOnlyList<FormFieldDefinition> Fields { get; init; }

    public FormConsentDefinition? Consent { get; init; }

    /// <summary>The only place a browser is sent after a successful (or honeypot) submission.</summary>
    public required Uri ThankYouUrl { get; init; }

    /// <summary>Where a browser is sent, with the error codes, when a submission is refused; without it the browser gets an error page.</summary>
    public Uri? ErrorUrl { get; init; }

    /// <summary>Normalised origins (<c>scheme://host[:port]</c>, lower case) whose scripts may post this form.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>A field people never see; a bot that fills it gets a success answer and creates nothing.</summary>
    public string? HoneypotField { get; init; }

    /// <summary>Fixed event properties every submission of this form carries (e.g. the content id and funnel stage of a whitepaper).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    public FormFieldDefinition EmailField => Fields.Single(f => f.Type == FormFieldType.Email);

    public bool AllowsOrigin(string origin, string? requestHost) => OriginPolicy.Allows(AllowedOrigins, origin, requestHost);
}

public sealed record FormFieldDefinition
{
    public required string Name { get; init; }
    public FormFieldType Type { get; init; } = FormFieldType.Text;
    public bool Required { get; init; }
    public required int MaxLength { get; init; }

    /// <summary>The <see cref="LeadEvent.Profile"/> key the value is stored under; none for the e-mail field, which is the lead's identity.</summary>
    public string? ProfileField { get; init; }

    /// <summary>The allowed values of a <see cref="FormFieldType.Choice"/> field.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];
}

public enum FormFieldType
{
    /// <summary>One line of text: control characters are refused.</summary>
    Text,
    /// <summary>Free text that may span lines (a message).</summary>
    Multiline,
    /// <summary>The lead's e-mail address: exactly one per form, required, normalised.</summary>
    Email,
    /// <summary>One of a fixed list of options (company size, role…), so fit scoring sees known values.</summary>
    Choice,
}

/// <summary>The consent a form asks for, kept with the submission as data.</summary>
public sealed record FormConsentDefinition
{
    /// <summary>The field (usually a checkbox) that carries the visitor's answer.</summary>
    public required string Field { get; init; }

    /// <summary>What is agreed to, e.g. <see cref="Leads.ConsentPurposes.MarketingEmail"/>.</summary>
    public required string Purpose { get; init; }

    /// <summary>The version of the consent text shown next to the checkbox, so a record says exactly what was agreed to.</summary>
    public required string TextVersion { get; init; }

    /// <summary>When true a submission without consent is refused; when false a missing tick simply records nothing.</summary>
    public bool Required { get; init; }

    /// <summary>
    /// When true (the default, and only for marketing e-mail) a tick records a <i>pending</i> consent and a confirmation e-mail is
    /// sent; consent is granted only when its link is used, so nobody can sign up someone else's address.
    /// </summary>
    public bool DoubleOptIn { get; init; } = true;
}

/// <summary>Profile keys the capture forms use, so fit scoring and sales e-mails read the same names.</summary>
public static class ProfileFields
{
    public const string FirstName = "firstName";
    public const string LastName = "lastName";
    public const string Company = "company";
    public const string Role = "role";
    public const string CompanySize = "companySize";
    public const string Industry = "industry";
    public const string Country = "country";
    public const string Phone = "phone";
    public const string Need = "need";
    public const string Budget = "budget";
    public const string Timing = "timing";
    public const string Message = "message";
}

/// <summary>
/// Field names every form and the tracking endpoint understand without declaring them: the capture context the
/// snippet or hidden inputs fill in. They cannot be used as form field names.
/// </summary>
public static class CaptureFieldNames
{
    public const string VisitorId = "visitorId";
    public const string PageUrl = "pageUrl";
    public const string Referrer = "referrer";
    public const string UtmSource = "utm_source";
    public const string UtmMedium = "utm_medium";
    public const string UtmCampaign = "utm_campaign";
    public const string UtmTerm = "utm_term";
    public const string UtmContent = "utm_content";

    /// <summary>
    /// The idempotency key of a post that cannot send the <c>Idempotency-Key</c> header: a plain HTML form (a hidden input
    /// <c>track.js</c> fills with a random key per page view and form) or a <c>sendBeacon</c> from the snippet. The header wins
    /// when both are sent; the key is never stored, only the event id derived from it.
    /// </summary>
    public const string IdempotencyKey = "idempotencyKey";

    /// <summary>Used by <c>/api/events</c>, where it names the activity.</summary>
    public const string Type = "type";

    /// <summary>
    /// Identities <c>/api/events</c> refuses: anyone can post a beacon, so naming a person there would let anyone score
    /// anyone. A lead is named only by a form submission or a signed link.
    /// </summary>
    public const string Email = "email";
    public const string LeadId = "leadId";

    /// <summary>The first-party cookie the tracking snippet sets.</summary>
    public const string VisitorCookie = "lf_vid";

    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        VisitorId, PageUrl, Referrer, UtmSource, UtmMedium, UtmCampaign, UtmTerm, UtmContent, IdempotencyKey,
    };
}
