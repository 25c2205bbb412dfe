using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Nurture;

namespace LeadFunctions.Domain.Capture;

/// <summary>
/// Turns activity posted by the tracking snippet (<c>/api/events</c>) into an event of an anonymous visitor: a page view with
/// its URL, a download of catalogued content, an add-to-cart or a webinar registration. Anyone can post here, so the request
/// names no person (an <c>email</c> or <c>leadId</c> is refused) and decides no points: what a download or page is, and so its
/// funnel stage, comes from the <see cref="ContentCatalogue"/>, whatever the request says.
/// </summary>
public sealed class TrackedActivityValidator(TimeProvider time, ContentCatalogue content)
{
    public const int MaxPropertyLength = 200;

    private static readonly string[] IdentityFields = [CaptureFieldNames.Email, CaptureFieldNames.LeadId];

    public CaptureResult Validate(CaptureInput input, string eventId)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new List<FieldError>();

        var type = input.Field(CaptureFieldNames.Type);
        if (type is null)
            errors.Add(new FieldError(CaptureFieldNames.Type, FieldErrorCodes.Required, "type is required."));
        else if (!LeadEventTypes.Trackable.Contains(type))
            errors.Add(new FieldError(CaptureFieldNames.Type, FieldErrorCodes.UnknownType, $"type must be one of: {string.Join(", ", LeadEventTypes.Trackable.Order(StringComparer.Ordinal))}."));

        // Refused even when empty and in any case: a beacon that tries to name a person is a mistake or an attack, never
        // something to quietly score as anonymous.
        foreach (var identity in IdentityFields)
        {
            if (input.Fields.Keys.Any(k => string.Equals(k, identity, StringComparison.OrdinalIgnoreCase)))
                errors.Add(new FieldError(identity, FieldErrorCodes.NotAllowed,
                    $"{identity} is not accepted here: events identify an anonymous visitor (visitorId or the lf_vid cookie); a person is named only by a form."));
        }

        // Unlike a form's hidden field, here the visitor id is the identity: a malformed one is an error, not dropped.
        var rawVisitor = input.Field(CaptureFieldNames.VisitorId);
        if (rawVisitor is not null && !CaptureContextReader.IsValidVisitorId(rawVisitor))
            errors.Add(new FieldError(CaptureFieldNames.VisitorId, FieldErrorCodes.InvalidValue, "visitorId must be 8-64 letters, digits, '-' or '_'."));
        var visitorId = CaptureContextReader.VisitorId(input);
        if (rawVisitor is null && visitorId is null)
            errors.Add(new FieldError(CaptureFieldNames.VisitorId, FieldErrorCodes.Unidentified, "Identify the visitor with visitorId (or the lf_vid cookie)."));

        // funnelStage and title are never read from the request: they are the catalogue's.
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        var url = input.Field(LeadEventProperties.Url);
        Uri? pageUrl = null;
        if (url is not null)
        {
            pageUrl = CaptureContextReader.HttpUrl(url);
            if (pageUrl is not null)
                properties[LeadEventProperties.Url] = pageUrl.AbsoluteUri;
            else
                errors.Add(new FieldError(LeadEventProperties.Url, FieldErrorCodes.InvalidUrl, $"url must be an absolute http(s) URL of at most {FormCatalog.MaxUrlLength} characters."));
        }
        else if (type == LeadEventTypes.PageView)
        {
            errors.Add(new FieldError(LeadEventProperties.Url, FieldErrorCodes.Required, "url is required for a page view."));
        }

        var contentId = input.Field(LeadEventProperties.ContentId);
        switch (type)
        {
            case LeadEventTypes.ContentDownload when contentId is null:
                errors.Add(new FieldError(LeadEventProperties.ContentId, FieldErrorCodes.Required, "contentId is required for a content download."));
                break;
            case LeadEventTypes.ContentDownload or LeadEventTypes.WebinarRegistration when contentId is not null:
                if (content.TryGet(contentId, out var item))
                    item.Describe(properties);
                else
                    errors.Add(new FieldError(LeadEventProperties.ContentId, FieldErrorCodes.UnknownContent, "contentId is not in the content catalogue."));
                break;
            case LeadEventTypes.PageView when pageUrl is not null:
                // The address decides what a page is; a contentId the page sent with it is ignored.
                content.MatchUrl(pageUrl.AbsoluteUri)?.Describe(properties);
                break;
            case LeadEventTypes.AddToCart when contentId is not null:
                // A product, not catalogued content: kept as the product id, with no funnel stage.
                if (FreeTextError(LeadEventProperties.ContentId, contentId) is { } error)
                    errors.Add(error);
                else
                    properties[LeadEventProperties.ContentId] = contentId;
                break;
        }

        var campaign = input.Field(LeadEventProperties.Campaign);
        if (campaign is not null)
        {
            if (FreeTextError(LeadEventProperties.Campaign, campaign) is { } error)
                errors.Add(error);
            else
                properties[LeadEventProperties.Campaign] = campaign;
        }

        // The browser's zone (the snippet sends Intl's): malformed is refused like any bad field; a well-formed id this machine's
        // tz data does not know (a browser with newer data) is dropped, so the activity still counts.
        var timeZone = input.Field(LeadEventProperties.TimeZone);
        if (timeZone is not null)
        {
            if (!LeadTimeZones.IsWellFormed(timeZone))
                errors.Add(new FieldError(LeadEventProperties.TimeZone, FieldErrorCodes.InvalidValue,
                    $"timeZone must be an IANA time zone id such as Europe/London (at most {LeadTimeZones.MaxLength} letters, digits, '/', '_', '+' or '-')."));
            else if (LeadTimeZones.TryFind(timeZone, out var zone))
                properties[LeadEventProperties.TimeZone] = zone.Id;
        }

        if (errors.Count > 0)
            return CaptureResult.Rejected(errors);

        return CaptureResult.Accepted(new LeadEvent
        {
            EventId = eventId,
            Type = type!,
            OccurredAt = time.GetUtcNow(),
            VisitorId = visitorId,
            Properties = properties,
            Context = CaptureContextReader.Read(input, fallbackLandingPage: type == LeadEventTypes.PageView ? url : null),
        });
    }

    private static FieldError? FreeTextError(string name, string value)
    {
        if (value.Length > MaxPropertyLength)
            return new FieldError(name, FieldErrorCodes.TooLong, $"{name} must be at most {MaxPropertyLength} characters.");
        if (CaptureContextReader.HasControlCharacters(value, allowLineBreaks: false))
            return new FieldError(name, FieldErrorCodes.InvalidCharacters, $"{name} contains characters that are not allowed.");
        return null;
    }
}
