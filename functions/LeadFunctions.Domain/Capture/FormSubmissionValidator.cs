using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Capture;

/// <summary>Turns a posted form into the <see cref="LeadEventTypes.FormSubmission"/> event, or says which fields are wrong.</summary>
public sealed class FormSubmissionValidator(TimeProvider time, ContentCatalogue content)
{
    private static readonly HashSet<string> Granted = new(StringComparer.OrdinalIgnoreCase) { "true", "on", "yes", "1" };

    public CaptureResult Validate(FormDefinition form, CaptureInput input, string eventId)
    {
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(input);

        // Checked before anything else, so a bot learns nothing from error messages.
        if (form.HoneypotField is not null && input.Field(form.HoneypotField) is not null)
            return CaptureResult.Spam();

        var errors = new List<FieldError>();
        string? email = null;
        var profile = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var field in form.Fields)
        {
            var value = input.Field(field.Name);
            if (value is null)
            {
                if (field.Required)
                    errors.Add(new FieldError(field.Name, FieldErrorCodes.Required, $"{field.Name} is required."));
                continue;
            }
            if (value.Length > field.MaxLength)
            {
                errors.Add(new FieldError(field.Name, FieldErrorCodes.TooLong, $"{field.Name} must be at most {field.MaxLength} characters."));
                continue;
            }
            if (CaptureContextReader.HasControlCharacters(value, allowLineBreaks: field.Type == FormFieldType.Multiline))
            {
                errors.Add(new FieldError(field.Name, FieldErrorCodes.InvalidCharacters, $"{field.Name} contains characters that are not allowed."));
                continue;
            }

            switch (field.Type)
            {
                case FormFieldType.Email when EmailAddress.TryNormalize(value, out var normalized):
                    email = normalized;
                    break;
                case FormFieldType.Email:
                    errors.Add(new FieldError(field.Name, FieldErrorCodes.InvalidEmail, $"{field.Name} is not a valid e-mail address."));
                    break;
                case FormFieldType.Choice when !field.Options.Contains(value, StringComparer.Ordinal):
                    errors.Add(new FieldError(field.Name, FieldErrorCodes.NotAnOption, $"{field.Name} must be one of: {string.Join(", ", field.Options)}."));
                    break;
                default:
                    profile[field.ProfileField!] = value;
                    break;
            }
        }

        var now = time.GetUtcNow();
        var consents = new List<ConsentRecord>();
        if (form.Consent is { } consent)
        {
            var answer = input.Field(consent.Field);
            // With double opt-in the tick is only a request: anyone can type anyone's address, so consent waits for the link.
            if (answer is not null && Granted.Contains(answer))
                consents.Add(new ConsentRecord(consent.Purpose, consent.TextVersion, Granted: !consent.DoubleOptIn, now, ConsentSources.Form(form.Id)) { Pending = consent.DoubleOptIn });
            else if (consent.Required)
                errors.Add(new FieldError(consent.Field, FieldErrorCodes.ConsentRequired, "Consent is required to send this form."));
            // An unticked optional box records nothing: it is not a withdrawal of consent given before.
        }

        if (errors.Count > 0)
            return CaptureResult.Rejected(errors);

        return CaptureResult.Accepted(new LeadEvent
        {
            EventId = eventId,
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = now,
            Email = email,
            VisitorId = CaptureContextReader.VisitorId(input),
            FormId = form.Id,
            Intent = form.Intent,
            Profile = profile,
            Consents = consents,
            Context = CaptureContextReader.Read(input),
            Properties = Properties(form),
        });
    }

    /// <summary>The form's fixed properties, with what its content is (funnel stage, title) from the catalogue.</summary>
    private Dictionary<string, string> Properties(FormDefinition form)
    {
        var properties = new Dictionary<string, string>(form.Properties, StringComparer.Ordinal);
        // The start-up check guarantees the id is catalogued; a form without one simply names no content.
        if (form.Properties.TryGetValue(LeadEventProperties.ContentId, out var contentId) && content.TryGet(contentId, out var item))
            item.Describe(properties);
        return properties;
    }
}
