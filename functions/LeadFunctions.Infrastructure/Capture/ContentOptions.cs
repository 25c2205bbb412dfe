using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>The content catalogue: what each download and page is, and so what it is worth (section <c>Content</c>).</summary>
public sealed class ContentOptions
{
    public const string SectionName = "Content";

    /// <summary>The catalogue file; a relative path is resolved against the app's folder, where the build copies <c>config/</c>.</summary>
    public string CatalogueFile { get; set; } = "config/content.json";

    public string ResolveCatalogueFile() =>
        Path.IsPathRooted(CatalogueFile) ? CatalogueFile : Path.Combine(AppContext.BaseDirectory, CatalogueFile);
}

/// <summary>
/// Checks the catalogue at start, and the forms against it: a form that names content the catalogue does not list would
/// send events with no funnel stage, silently scoring nothing, so it stops the app instead.
/// </summary>
internal sealed class ContentOptionsValidator(IOptions<CaptureOptions> capture) : IValidateOptions<ContentOptions>
{
    public ValidateOptionsResult Validate(string? name, ContentOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CatalogueFile))
            return ValidateOptionsResult.Fail($"{ContentOptions.SectionName}:CatalogueFile is required.");

        ContentCatalogue catalogue;
        try
        {
            catalogue = ContentCatalogue.Load(options.ResolveCatalogueFile());
        }
        catch (ContentCatalogueException ex)
        {
            return ValidateOptionsResult.Fail(ex.Errors.Select(e => $"{ContentOptions.SectionName}:CatalogueFile ({options.CatalogueFile}): {e}"));
        }

        CaptureOptions captureOptions;
        FormCatalog forms;
        try
        {
            captureOptions = capture.Value;
            forms = FormCatalog.Load(captureOptions.ResolveFormsFile());
        }
        catch (Exception ex) when (ex is OptionsValidationException or FormsFileException)
        {
            return ValidateOptionsResult.Success; // the capture settings' own validation reports it, once
        }

        var errors = new List<string>();
        for (var i = 0; i < forms.Forms.Count; i++)
        {
            var form = forms.Forms[i];
            if (form.Properties.TryGetValue(LeadEventProperties.ContentId, out var contentId) && !catalogue.TryGet(contentId, out _))
                errors.Add($"{CaptureOptions.SectionName}:FormsFile ({captureOptions.FormsFile}): forms[{i}].properties.contentId: '{contentId}' is not in the content catalogue {ContentOptions.SectionName}:CatalogueFile ({options.CatalogueFile}) (form '{form.Id}')");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
