using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Configuration;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Capture;

/// <summary>
/// The forms file (<c>config/forms.json</c>): every landing-page form the capture endpoint accepts, checked as a whole
/// when loaded so a mistake stops the app at start with a message naming the form and the field, not at the first visitor.
/// </summary>
public sealed partial class FormCatalog
{
    /// <summary>Longest value a form field may declare; the request limits in the host sit above this.</summary>
    public const int MaxFieldLength = 4000;
    public const int MaxUrlLength = 2048;

    private readonly Dictionary<string, FormDefinition> _byId;

    private FormCatalog(string version, IReadOnlyList<FormDefinition> forms)
    {
        Version = version;
        Forms = forms;
        _byId = forms.ToDictionary(f => f.Id, StringComparer.Ordinal);
        AllOrigins = forms.SelectMany(f => f.AllowedOrigins).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
    }

    /// <summary>The file's own version, recorded so a change to a form is a reviewed, visible change.</summary>
    public string Version { get; }

    public IReadOnlyList<FormDefinition> Forms { get; }

    /// <summary>Every origin any form allows: the default allow-list of the tracking endpoint.</summary>
    public IReadOnlyList<string> AllOrigins { get; }

    public bool TryGet(string formId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FormDefinition? form) =>
        _byId.TryGetValue(formId, out form);

    public static FormCatalog Load(string path) => Load(path, siteBaseUrl: null);

    /// <param name="siteBaseUrl">Where the landing pages live (<c>Capture:SiteBaseUrl</c>); see <see cref="Parse(string, Uri?)"/>.</param>
    public static FormCatalog Load(string path, Uri? siteBaseUrl)
    {
        if (!File.Exists(path))
            throw new FormsFileException([$"the forms file '{path}' does not exist"]);
        return Parse(File.ReadAllText(path), siteBaseUrl);
    }

    /// <summary>Reads and checks a forms file; throws <see cref="FormsFileException"/> listing every problem found.</summary>
    public static FormCatalog Parse(string json) => Parse(json, siteBaseUrl: null);

    /// <summary>
    /// Reads and checks a forms file for a deployment whose landing pages live at <paramref name="siteBaseUrl"/>: a thank-you or
    /// error path (<c>/thanks.html</c>) becomes that absolute URL on the site and the <c>site</c> origin keyword becomes the site's
    /// origin. Without a site (local runs, where the app serves the pages) paths stay relative and <c>site</c> means <c>self</c>.
    /// </summary>
    public static FormCatalog Parse(string json, Uri? siteBaseUrl)
    {
        FormsFileDto? file;
        try
        {
            file = JsonSerializer.Deserialize<FormsFileDto>(json, ConfigurationJson.Options);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "(file)" : ex.Path.TrimStart('$', '.');
            throw new FormsFileException([$"{path}: {FirstSentence(ex.Message)}"]);
        }

        var errors = new List<string>();
        if (file is null)
        {
            throw new FormsFileException(["(file): must be a JSON object with 'version' and 'forms'"]);
        }

        if (string.IsNullOrWhiteSpace(file.Version))
            errors.Add("version: is required (bump it with every change to the forms)");
        if (file.Forms is null || file.Forms.Count == 0)
            errors.Add("forms: must list at least one form");

        var forms = new List<FormDefinition>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (file.Forms?.Count ?? 0); i++)
        {
            var dto = file.Forms![i];
            var at = $"forms[{i}]";
            if (dto is null)
            {
                errors.Add($"{at}: must be an object");
                continue;
            }
            var errorsBefore = errors.Count;
            var form = ReadForm(dto, at, errors) is { } read ? OnSite(read, siteBaseUrl, at, errors) : null;
            if (!string.IsNullOrWhiteSpace(dto.Id))
            {
                // The index finds the entry, the id tells a reviewer which form it is.
                for (var e = errorsBefore; e < errors.Count; e++)
                    errors[e] += $" (form '{dto.Id}')";
            }
            if (form is null)
                continue;
            if (!ids.Add(form.Id))
                errors.Add($"{at}.id: '{form.Id}' is used by another form");
            forms.Add(form);
        }

        if (errors.Count > 0)
            throw new FormsFileException(errors);
        return new FormCatalog(file.Version!.Trim(), forms);
    }

    private static FormDefinition? ReadForm(FormDto dto, string at, List<string> errors)
    {
        var before = errors.Count;

        if (string.IsNullOrWhiteSpace(dto.Id))
            errors.Add($"{at}.id: is required");
        else if (!FormIdPattern().IsMatch(dto.Id))
            errors.Add($"{at}.id: must be 1-64 lower-case letters, digits or '-', starting with a letter or digit (it is part of the URL)");

        FormIntent? intent = null;
        if (string.IsNullOrWhiteSpace(dto.Intent))
            errors.Add($"{at}.intent: is required (one of {string.Join(", ", IntentNames.Keys)})");
        else if (IntentNames.TryGetValue(dto.Intent, out var parsedIntent))
            intent = parsedIntent;
        else
            errors.Add($"{at}.intent: '{dto.Intent}' is not one of {string.Join(", ", IntentNames.Keys)}");

        var fields = ReadFields(dto.Fields, at, errors);
        var consent = ReadConsent(dto.Consent, at, errors);
        // A newsletter is marketing e-mail: without recorded consent nurture could never mail the subscriber.
        if (intent == FormIntent.NewsletterSignup && (dto.Consent is null || consent is { } c && (c.Purpose != ConsentPurposes.MarketingEmail || !c.Required)))
            errors.Add($"{at}.consent: a newsletter sign-up must require '{ConsentPurposes.MarketingEmail}' consent");

        var thankYou = ReadRedirectUrl(dto.ThankYouUrl, $"{at}.thankYouUrl", required: true, errors);
        var errorUrl = ReadRedirectUrl(dto.ErrorUrl, $"{at}.errorUrl", required: false, errors);
        var origins = ReadOrigins(dto.AllowedOrigins, $"{at}.allowedOrigins", errors);

        string? honeypot = null;
        if (dto.HoneypotField is not null)
        {
            if (!FieldNamePattern().IsMatch(dto.HoneypotField))
                errors.Add($"{at}.honeypotField: '{dto.HoneypotField}' is not a valid field name (letters, digits, '_', '-' or '.', starting with a letter, at most 64)");
            honeypot = dto.HoneypotField;
        }

        // Every name the form reads must mean one thing.
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, where) in fields.Select(f => ((string?)f.Field.Name, $"{at}.fields[{f.Index}].name"))
                     .Append((consent?.Field, $"{at}.consent.field"))
                     .Append((honeypot, $"{at}.honeypotField")))
        {
            if (name is null)
                continue;
            if (CaptureFieldNames.Reserved.Contains(name))
                errors.Add($"{where}: '{name}' is reserved for the capture context ({string.Join(", ", CaptureFieldNames.Reserved)})");
            else if (!names.TryAdd(name, where))
                errors.Add($"{where}: '{name}' is already used by {names[name]}");
        }

        var properties = ReadProperties(dto.Properties, $"{at}.properties", errors);

        if (errors.Count > before)
            return null;
        return new FormDefinition
        {
            Id = dto.Id!,
            Intent = intent!.Value,
            Fields = fields.Select(f => f.Field).ToArray(),
            Consent = consent,
            ThankYouUrl = thankYou!,
            ErrorUrl = errorUrl,
            AllowedOrigins = origins,
            HoneypotField = honeypot,
            Properties = properties,
        };
    }

    private static List<(int Index, FormFieldDefinition Field)> ReadFields(List<FieldDto?>? dtos, string at, List<string> errors)
    {
        var fields = new List<(int, FormFieldDefinition)>();
        if (dtos is null || dtos.Count == 0)
        {
            errors.Add($"{at}.fields: must list the form's fields, at least the e-mail field");
            return fields;
        }

        var profileKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < dtos.Count; i++)
        {
            var dto = dtos[i];
            var where = $"{at}.fields[{i}]";
            if (dto is null)
            {
                errors.Add($"{where}: must be an object");
                continue;
            }
            var before = errors.Count;

            if (string.IsNullOrWhiteSpace(dto.Name))
                errors.Add($"{where}.name: is required");
            else if (!FieldNamePattern().IsMatch(dto.Name))
                errors.Add($"{where}.name: '{dto.Name}' is not a valid field name (letters, digits, '_', '-' or '.', starting with a letter, at most 64)");

            var type = FormFieldType.Text;
            if (dto.Type is not null && !FieldTypeNames.TryGetValue(dto.Type, out type))
                errors.Add($"{where}.type: '{dto.Type}' is not one of {string.Join(", ", FieldTypeNames.Keys)}");

            var maxLength = dto.MaxLength ?? (type == FormFieldType.Email ? EmailAddress.MaxLength : 0);
            if (maxLength is < 1 or > MaxFieldLength)
                errors.Add($"{where}.maxLength: must be between 1 and {MaxFieldLength}");
            else if (type == FormFieldType.Email && maxLength > EmailAddress.MaxLength)
                errors.Add($"{where}.maxLength: an e-mail field allows at most {EmailAddress.MaxLength}");

            if (type == FormFieldType.Email)
            {
                if (dto.ProfileField is not null)
                    errors.Add($"{where}.profileField: the e-mail field is the lead's identity and maps to no profile field");
                if (dto.Required != true)
                    errors.Add($"{where}.required: the e-mail field must be required");
            }
            else if (string.IsNullOrWhiteSpace(dto.ProfileField))
            {
                errors.Add($"{where}.profileField: is required (the profile key the value is stored under, e.g. '{ProfileFields.Company}')");
            }
            else if (!ProfileKeyPattern().IsMatch(dto.ProfileField))
            {
                errors.Add($"{where}.profileField: '{dto.ProfileField}' must be camelCase letters and digits, at most 64");
            }
            else if (!profileKeys.TryAdd(dto.ProfileField, where))
            {
                errors.Add($"{where}.profileField: '{dto.ProfileField}' is already filled by {profileKeys[dto.ProfileField]}");
            }

            var options = dto.Options ?? [];
            if (type == FormFieldType.Choice)
            {
                if (options.Count == 0)
                    errors.Add($"{where}.options: a choice field must list its options");
                for (var o = 0; o < options.Count; o++)
                {
                    if (string.IsNullOrWhiteSpace(options[o]) || options[o].Length > maxLength)
                        errors.Add($"{where}.options[{o}]: must be a non-empty value of at most maxLength characters");
                }
                if (options.Distinct(StringComparer.Ordinal).Count() != options.Count)
                    errors.Add($"{where}.options: lists a value twice");
            }
            else if (options.Count > 0)
            {
                errors.Add($"{where}.options: only a field of type 'choice' has options");
            }

            if (errors.Count > before)
                continue;
            fields.Add((i, new FormFieldDefinition
            {
                Name = dto.Name!,
                Type = type,
                Required = dto.Required ?? false,
                MaxLength = maxLength,
                ProfileField = dto.ProfileField,
                Options = options,
            }));
        }

        var emailFields = dtos.Count(d => d?.Type == "email");
        if (emailFields != 1)
            errors.Add($"{at}.fields: must have exactly one field of type 'email' (has {emailFields})");
        return fields;
    }

    private static FormConsentDefinition? ReadConsent(ConsentDto? dto, string at, List<string> errors)
    {
        if (dto is null)
            return null;
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(dto.Field) || !FieldNamePattern().IsMatch(dto.Field))
            errors.Add($"{at}.consent.field: must name the consent checkbox (letters, digits, '_', '-' or '.', starting with a letter)");
        if (string.IsNullOrWhiteSpace(dto.Purpose) || dto.Purpose.Length > 64 || !PurposePattern().IsMatch(dto.Purpose))
            errors.Add($"{at}.consent.purpose: must be a lower-case kebab-case purpose of at most 64 characters, e.g. '{ConsentPurposes.MarketingEmail}'");
        if (string.IsNullOrWhiteSpace(dto.TextVersion) || dto.TextVersion.Length > 64)
            errors.Add($"{at}.consent.textVersion: is required (the version of the consent text shown, at most 64 characters)");
        if (dto.Required is null)
            errors.Add($"{at}.consent.required: must say whether the form can be sent without consent (true or false)");
        // Double opt-in is what a confirmation e-mail asks for; other purposes (terms, a call back) have no e-mail to confirm.
        var marketing = dto.Purpose == ConsentPurposes.MarketingEmail;
        if (dto.DoubleOptIn == true && !marketing)
            errors.Add($"{at}.consent.doubleOptIn: applies only to '{ConsentPurposes.MarketingEmail}' consent (it sends a confirmation e-mail); leave it out or set false");
        if (errors.Count > before)
            return null;
        return new FormConsentDefinition
        {
            Field = dto.Field!,
            Purpose = dto.Purpose!,
            TextVersion = dto.TextVersion!.Trim(),
            Required = dto.Required!.Value,
            DoubleOptIn = marketing && (dto.DoubleOptIn ?? true),
        };
    }

    private static Uri? ReadRedirectUrl(string? value, string where, bool required, List<string> errors)
    {
        if (value is null)
        {
            if (required)
                errors.Add($"{where}: is required");
            return null;
        }
        if (IsAppPath(value))
            return new Uri(value, UriKind.Relative);
        if (!IsSafeAbsoluteUrl(value, out var uri))
        {
            errors.Add($"{where}: must be an absolute https URL (http only for 127.0.0.1 or localhost), without user info, or a path on this app starting with '/'");
            return null;
        }
        return uri;
    }

    private static List<string> ReadOrigins(List<string?>? values, string where, List<string> errors)
    {
        var origins = new List<string>();
        for (var i = 0; i < (values?.Count ?? 0); i++)
        {
            var value = values![i];
            if (OriginPolicy.Keyword(value) is { } keyword)
            {
                if (!origins.Contains(keyword, StringComparer.Ordinal))
                    origins.Add(keyword);
                continue;
            }
            if (value is null || !TryNormalizeOrigin(value, out var origin))
            {
                errors.Add($"{where}[{i}]: '{value}' must be an origin like https://www.example.com (https, or http for 127.0.0.1/localhost; no path, no '*'), 'self' or 'site'");
                continue;
            }
            if (!origins.Contains(origin, StringComparer.Ordinal))
                origins.Add(origin);
        }
        return origins;
    }

    private static Dictionary<string, string> ReadProperties(Dictionary<string, string?>? values, string where, List<string> errors)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values ?? [])
        {
            // One truth for what content is worth: the catalogue, checked against this file when the app starts.
            if (key is LeadEventProperties.FunnelStage or LeadEventProperties.Title)
                errors.Add($"{where}.{key}: comes from the content catalogue (config/content.json); name the content with 'contentId' instead");
            else if (!FormPropertyNames.Contains(key))
                errors.Add($"{where}.{key}: is not a property a form may set ({string.Join(", ", FormPropertyNames)})");
            else if (string.IsNullOrWhiteSpace(value) || value.Length > 200)
                errors.Add($"{where}.{key}: must be a non-empty value of at most 200 characters");
            else
                properties[key] = value;
        }
        return properties;
    }

    /// <summary>
    /// A path on the app that served the form (<c>/thanks.html</c>). A redirect to it cannot leave the app's host, so
    /// it is safe wherever the app runs. <c>//host</c> and <c>/\host</c> are refused: browsers read both as another host.
    /// </summary>
    internal static bool IsAppPath(string value) =>
        value.Length is > 0 and <= MaxUrlLength
        && value[0] == '/'
        && (value.Length == 1 || value[1] != '/')
        && !value.Contains('\\', StringComparison.Ordinal)
        && !value.Any(char.IsControl)
        && Uri.IsWellFormedUriString(value, UriKind.Relative);

    /// <summary>An absolute URL a browser may be sent to: https anywhere, http only on the loopback host (local runs).</summary>
    internal static bool IsSafeAbsoluteUrl(string value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? uri)
    {
        uri = null;
        if (value.Length > MaxUrlLength || !Uri.TryCreate(value, UriKind.Absolute, out var parsed))
            return false;
        if (parsed.UserInfo.Length > 0 || string.IsNullOrEmpty(parsed.Host))
            return false;
        var ok = parsed.Scheme == Uri.UriSchemeHttps || (parsed.Scheme == Uri.UriSchemeHttp && parsed.IsLoopback);
        if (!ok)
            return false;
        uri = parsed;
        return true;
    }

    /// <summary>
    /// The form as deployed with its landing pages at <paramref name="site"/>: redirect paths become absolute URLs on the site,
    /// so a redirect never depends on the <c>Host</c> a request claims, and <c>site</c> becomes the site's origin.
    /// </summary>
    private static FormDefinition? OnSite(FormDefinition form, Uri? site, string at, List<string> errors)
    {
        var siteOrigin = site is null ? OriginPolicy.Self : SiteOrigin(site);
        var origins = form.AllowedOrigins.Select(o => o == OriginPolicy.Site ? siteOrigin : o).Distinct(StringComparer.Ordinal).ToArray();
        if (site is null)
            return form with { AllowedOrigins = origins };

        var before = errors.Count;
        var thankYou = OnSite(form.ThankYouUrl, site, $"{at}.thankYouUrl", errors);
        var errorUrl = form.ErrorUrl is null ? null : OnSite(form.ErrorUrl, site, $"{at}.errorUrl", errors);
        return errors.Count > before ? null : form with { ThankYouUrl = thankYou!, ErrorUrl = errorUrl, AllowedOrigins = origins };
    }

    private static Uri? OnSite(Uri url, Uri site, string where, List<string> errors)
    {
        if (url.IsAbsoluteUri)
            return url;
        // The path is on the site, under the base URL's own path (https://example.com/landing + /thanks.html).
        var combined = site.GetLeftPart(UriPartial.Path).TrimEnd('/') + url.OriginalString;
        if (IsSafeAbsoluteUrl(combined, out var absolute))
            return absolute;
        errors.Add($"{where}: '{url.OriginalString}' on the site {site.AbsoluteUri} (Capture:SiteBaseUrl) is not a valid URL of at most {MaxUrlLength} characters");
        return null;
    }

    private static string SiteOrigin(Uri site) =>
        TryNormalizeOrigin(site.GetLeftPart(UriPartial.Authority), out var origin) ? origin : site.GetLeftPart(UriPartial.Authority).ToLowerInvariant();

    /// <summary>
    /// A valid <c>Capture:SiteBaseUrl</c>: where the landing pages live, as an absolute https URL (http only on the loopback
    /// host), without user info, query or fragment; it may have a path (<c>https://www.example.com/landing</c>).
    /// </summary>
    public static bool TryParseSiteBaseUrl(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? site)
    {
        site = null;
        if (string.IsNullOrWhiteSpace(value) || !IsSafeAbsoluteUrl(value.Trim(), out var uri) || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return false;
        site = uri;
        return true;
    }

    /// <summary>Reduces an origin to the exact form browsers send in the <c>Origin</c> header.</summary>
    public static bool TryNormalizeOrigin(string value, out string origin)
    {
        origin = "";
        if (!IsSafeAbsoluteUrl(value.Trim(), out var uri))
            return false;
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return false;
        origin = uri.IsDefaultPort
            ? $"{uri.Scheme}://{uri.IdnHost}".ToLowerInvariant()
            : string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{uri.IdnHost}:{uri.Port}").ToLowerInvariant();
        return true;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    internal static readonly Dictionary<string, FormIntent> IntentNames = new(StringComparer.Ordinal)
    {
        ["newsletter-signup"] = FormIntent.NewsletterSignup,
        ["content-download"] = FormIntent.ContentDownload,
        ["event-registration"] = FormIntent.EventRegistration,
        ["demo-request"] = FormIntent.DemoRequest,
        ["quote-request"] = FormIntent.QuoteRequest,
    };

    private static readonly Dictionary<string, FormFieldType> FieldTypeNames = new(StringComparer.Ordinal)
    {
        ["text"] = FormFieldType.Text,
        ["multiline"] = FormFieldType.Multiline,
        ["email"] = FormFieldType.Email,
        ["choice"] = FormFieldType.Choice,
    };

    private static readonly string[] FormPropertyNames = [LeadEventProperties.ContentId, LeadEventProperties.Campaign];

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex FormIdPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex FieldNamePattern();

    [GeneratedRegex("^[a-z][A-Za-z0-9]{0,63}$")]
    private static partial Regex ProfileKeyPattern();

    [GeneratedRegex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
    private static partial Regex PurposePattern();

    private sealed class FormsFileDto
    {
        public string? Version { get; set; }
        public List<FormDto?>? Forms { get; set; }
        [JsonPropertyName("$schema")]
        public string? Schema { get; set; }
    }

    private sealed class FormDto
    {
        public string? Id { get; set; }
        public string? Intent { get; set; }
        public string? Description { get; set; }
        public List<FieldDto?>? Fields { get; set; }
        public ConsentDto? Consent { get; set; }
        public string? ThankYouUrl { get; set; }
        public string? ErrorUrl { get; set; }
        public List<string?>? AllowedOrigins { get; set; }
        public string? HoneypotField { get; set; }
        public Dictionary<string, string?>? Properties { get; set; }
    }

    private sealed class FieldDto
    {
        public string? Name { get; set; }
        public string? Type { get; set; }
        public bool? Required { get; set; }
        public int? MaxLength { get; set; }
        public string? ProfileField { get; set; }
        public List<string>? Options { get; set; }
    }

    private sealed class ConsentDto
    {
        public string? Field { get; set; }
        public string? Purpose { get; set; }
        public string? TextVersion { get; set; }
        public bool? Required { get; set; }
        public bool? DoubleOptIn { get; set; }
    }
}

/// <summary>The forms file is wrong; <see cref="Errors"/> names each problem as <c>forms[i] ('id').field: what is wrong</c>.</summary>
public sealed class FormsFileException : Exception
{
    public FormsFileException(IReadOnlyList<string> errors)
        : base("The forms file is not valid:" + string.Concat(errors.Select(e => Environment.NewLine + "  - " + e)))
    {
        Errors = errors;
    }

    public IReadOnlyList<string> Errors { get; }
}
