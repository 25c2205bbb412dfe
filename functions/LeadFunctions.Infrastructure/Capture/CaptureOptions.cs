using LeadFunctions.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>Limits and configuration of the capture endpoints (section <c>Capture</c>).</summary>
public sealed class CaptureOptions
{
    public const string SectionName = "Capture";

    /// <summary>The forms file; a relative path is resolved against the app's folder, where the build copies <c>config/</c>.</summary>
    public string FormsFile { get; set; } = "config/forms.json";

    /// <summary>Largest request body read, in bytes; a larger one is refused without reading the rest.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Most fields one request may post (a form's own fields plus context, consent and honeypot).</summary>
    public int MaxFieldCount { get; set; } = 50;

    /// <summary>Longest single field value, in characters, before a form's own per-field limit is even considered.</summary>
    public int MaxFieldLength { get; set; } = 4000;

    /// <summary>Origins allowed to post to <c>/api/events</c>; empty means every origin any form allows.</summary>
    public string[] EventOrigins { get; set; } = [];

    /// <summary>The <c>Retry-After</c> (seconds) given with a 503 when the queue cannot take a submission.</summary>
    public int RetryAfterSeconds { get; set; } = 30;

    /// <summary>
    /// Where the landing pages live in this deployment (in Azure, the Static Web App azd deploys: the Functions host serves no
    /// pages). Thank-you and error paths in the forms file resolve against it, so redirects are absolute URLs on the site, and the
    /// <c>site</c> allowed-origin keyword means its origin. Unset (locally) paths stay relative to the app, which serves wwwroot.
    /// </summary>
    public string? SiteBaseUrl { get; set; }

    /// <summary>The parsed <see cref="SiteBaseUrl"/>, or null when it is unset (the validator refuses an invalid one at start).</summary>
    public Uri? ResolveSiteBaseUrl() => FormCatalog.TryParseSiteBaseUrl(SiteBaseUrl, out var site) ? site : null;

    public string ResolveFormsFile() =>
        Path.IsPathRooted(FormsFile) ? FormsFile : Path.Combine(AppContext.BaseDirectory, FormsFile);
}

/// <summary>Checks the limits and the forms file itself at start, so a broken form never reaches a visitor.</summary>
internal sealed class CaptureOptionsValidator : IValidateOptions<CaptureOptions>
{
    public ValidateOptionsResult Validate(string? name, CaptureOptions options)
    {
        var errors = new List<string>();
        if (options.MaxBodyBytes is < 1024 or > 1024 * 1024)
            errors.Add($"{CaptureOptions.SectionName}:MaxBodyBytes must be between 1024 and 1048576 (is {options.MaxBodyBytes}).");
        if (options.MaxFieldCount is < 1 or > 500)
            errors.Add($"{CaptureOptions.SectionName}:MaxFieldCount must be between 1 and 500 (is {options.MaxFieldCount}).");
        if (options.MaxFieldLength is < 1 or > FormCatalog.MaxFieldLength * 4)
            errors.Add($"{CaptureOptions.SectionName}:MaxFieldLength must be between 1 and {FormCatalog.MaxFieldLength * 4} (is {options.MaxFieldLength}).");
        if (options.RetryAfterSeconds is < 1 or > 3600)
            errors.Add($"{CaptureOptions.SectionName}:RetryAfterSeconds must be between 1 and 3600 (is {options.RetryAfterSeconds}).");
        for (var i = 0; i < options.EventOrigins.Length; i++)
        {
            if (options.EventOrigins[i] != OriginPolicy.Self && !FormCatalog.TryNormalizeOrigin(options.EventOrigins[i] ?? "", out _))
                errors.Add($"{CaptureOptions.SectionName}:EventOrigins:{i} '{options.EventOrigins[i]}' must be an origin like https://www.example.com (no path, no '*'), or 'self'.");
        }

        if (!string.IsNullOrWhiteSpace(options.SiteBaseUrl) && options.ResolveSiteBaseUrl() is null)
            errors.Add($"{CaptureOptions.SectionName}:SiteBaseUrl '{options.SiteBaseUrl}' must be an absolute https URL (http only for 127.0.0.1 or localhost) without user info, query or fragment, e.g. https://www.example.com.");

        if (string.IsNullOrWhiteSpace(options.FormsFile))
        {
            errors.Add($"{CaptureOptions.SectionName}:FormsFile is required.");
        }
        else
        {
            try
            {
                FormCatalog.Load(options.ResolveFormsFile(), options.ResolveSiteBaseUrl());
            }
            catch (FormsFileException ex)
            {
                errors.AddRange(ex.Errors.Select(e => $"{CaptureOptions.SectionName}:FormsFile ({options.FormsFile}): {e}"));
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
