using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Capture;

/// <summary>
/// Turns activity posted by the tracking snippet (<c>/api/events</c>) into an event: a page view with its URL, a content
/// download with its funnel stage, an add-to-cart or a webinar registration, by a known e-mail or an anonymous visitor.
/// </summary>
public sealed class TrackedActivityValidator(TimeProvider time)
{
    public const int MaxPropertyLength = 200;

    public static readonly IReadOnlyList<string> FunnelStages = ["top", "middle", "bottom"];

    public CaptureResult Validate(CaptureInput input, string eventId)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new List<FieldError>();

        var type = input.Field(CaptureFieldNames.Type);
        if (type is null)
            errors.Add(new FieldError(CaptureFieldNames.Type, FieldErrorCodes.Required, "type is required."));
        else if (!LeadEventTypes.Trackable.Contains(type))
            errors.Add(new FieldError(CaptureFieldNames.Type, FieldErrorCodes.UnknownType, $"type must be one of: {string.Join(", ", LeadEventTypes.Trackable.Order(StringComparer.Ordinal))}."));

        string? email = null;
        var rawEmail = input.Field(CaptureFieldNames.Email);
        if (rawEmail is not null && !EmailAddress.TryNormalize(rawEmail, out email))
            errors.Add(new FieldError(CaptureFieldNames.Email, FieldErrorCodes.InvalidEmail, "email is not a valid e-mail address."));

        // Unlike a form's hidden field, here the visitor id is the identity: a malformed one is an error, not dropped.
        var rawVisitor = input.Field(CaptureFieldNames.VisitorId);
        if (rawVisitor is not null && !CaptureContextReader.IsValidVisitorId(rawVisitor))
            errors.Add(new FieldError(CaptureFieldNames.VisitorId, FieldErrorCodes.InvalidValue, "visitorId must be 8-64 letters, digits, '-' or '_'."));
        var visitorId = CaptureContextReader.VisitorId(input);
        if (rawEmail is null && rawVisitor is null && visitorId is null)
            errors.Add(new FieldError(CaptureFieldNames.VisitorId, FieldErrorCodes.Unidentified, "Identify the visitor with email or visitorId (or the lf_vid cookie)."));

        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        var url = input.Field(LeadEventProperties.Url);
        if (url is not null)
        {
            if (CaptureContextReader.HttpUrl(url) is { } parsed)
                properties[LeadEventProperties.Url] = parsed.AbsoluteUri;
            else
                errors.Add(new FieldError(LeadEventProperties.Url, FieldErrorCodes.InvalidUrl, $"url must be an absolute http(s) URL of at most {FormCatalog.MaxUrlLength} characters."));
        }
        else if (type == LeadEventTypes.PageView)
        {
            errors.Add(new FieldError(LeadEventProperties.Url, FieldErrorCodes.Required, "url is required for a page view."));
        }

        var stage = input.Field(LeadEventProperties.FunnelStage);
        if (stage is not null)
        {
            if (FunnelStages.Contains(stage, StringComparer.Ordinal))
                properties[LeadEventProperties.FunnelStage] = stage;
            else
                errors.Add(new FieldError(LeadEventProperties.FunnelStage, FieldErrorCodes.NotAnOption, "funnelStage must be one of: top, middle, bottom."));
        }
        else if (type == LeadEventTypes.ContentDownload)
        {
            errors.Add(new FieldError(LeadEventProperties.FunnelStage, FieldErrorCodes.Required, "funnelStage is required for a content download."));
        }

        foreach (var name in new[] { LeadEventProperties.ContentId, LeadEventProperties.Campaign })
        {
            var value = input.Field(name);
            if (value is null)
                continue;
            if (value.Length > MaxPropertyLength)
                errors.Add(new FieldError(name, FieldErrorCodes.TooLong, $"{name} must be at most {MaxPropertyLength} characters."));
            else if (CaptureContextReader.HasControlCharacters(value, allowLineBreaks: false))
                errors.Add(new FieldError(name, FieldErrorCodes.InvalidCharacters, $"{name} contains characters that are not allowed."));
            else
                properties[name] = value;
        }

        if (errors.Count > 0)
            return CaptureResult.Rejected(errors);

        return CaptureResult.Accepted(new LeadEvent
        {
            EventId = eventId,
            Type = type!,
            OccurredAt = time.GetUtcNow(),
            Email = email,
            VisitorId = visitorId,
            Properties = properties,
            Context = CaptureContextReader.Read(input, fallbackLandingPage: type == LeadEventTypes.PageView ? url : null),
        });
    }
}
