using LeadFunctions.Domain.Messaging.Composition;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.SalesAlerts;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>The programmes, templates and routing rules read from the files named by the options, loaded once.</summary>
internal sealed class NurtureConfiguration(IOptions<NurtureOptions> nurture, IOptions<SalesAlertOptions> alerts)
{
    private readonly Lazy<(NurtureCatalogue Catalogue, EmailTemplates Templates, SalesRouting Routing)> _loaded =
        new(() => Load(nurture.Value, alerts.Value));

    public NurtureCatalogue Catalogue => _loaded.Value.Catalogue;
    public EmailTemplates Templates => _loaded.Value.Templates;
    public SalesRouting Routing => _loaded.Value.Routing;

    public static string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);

    /// <summary>Loads and cross-checks everything; throws with every problem found.</summary>
    public static (NurtureCatalogue, EmailTemplates, SalesRouting) Load(NurtureOptions nurture, SalesAlertOptions alerts)
    {
        var templates = EmailTemplates.Load(Resolve(nurture.TemplatesFolder));
        var catalogue = NurtureCatalogueReader.Parse(ReadFile(Resolve(nurture.ProgrammesFile), "Nurture:ProgrammesFile"), templates.Exists);

        var errors = new List<string>();
        foreach (var programme in catalogue.Programmes.Values)
        {
            foreach (var step in programme.Steps)
            {
                if (EmailTemplates.SubjectError(step.Subject) is { } error)
                    errors.Add($"programme '{programme.Id}' step '{step.Id}': subject is not valid Liquid: {error}");
            }
        }
        foreach (var name in new[] { alerts.AlertTemplate, alerts.EscalationTemplate }.Concat(SlaLadderValidation.Templates(alerts)).Distinct(StringComparer.Ordinal))
        {
            if (!templates.Exists(name))
                errors.Add($"SalesAlerts: template '{name}' has no files in {nurture.TemplatesFolder}.");
        }
        if (errors.Count > 0)
            throw new NurtureConfigurationException(errors);

        var routing = SalesRoutingReader.Parse(ReadFile(Resolve(alerts.RoutingFile), "SalesAlerts:RoutingFile"));
        return (catalogue, templates, routing);
    }

    private static string ReadFile(string path, string setting) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new NurtureConfigurationException([$"{setting}: the file '{path}' does not exist."]);
}

/// <summary>Fails the start of the app, naming the problem, when the programmes, templates or routing rules are broken.</summary>
internal sealed class NurtureFilesValidation(IOptions<SalesAlertOptions> alerts) : IValidateOptions<NurtureOptions>
{
    public ValidateOptionsResult Validate(string? name, NurtureOptions options)
    {
        try
        {
            NurtureConfiguration.Load(options, alerts.Value);
            return ValidateOptionsResult.Success;
        }
        catch (Exception ex) when (ex is NurtureConfigurationException or EmailTemplateException or SalesRoutingException or IOException)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}

internal sealed class TrackingOptionsValidation : IValidateOptions<TrackingOptions>
{
    public ValidateOptionsResult Validate(string? name, TrackingOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.BaseUrl))
            return ValidateOptionsResult.Success; // the [Required] attribute reports it
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return ValidateOptionsResult.Fail("Tracking:BaseUrl must be an absolute http(s) URL such as https://leads.example.com.");
        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
            return ValidateOptionsResult.Fail("Tracking:BaseUrl must use https (RFC 8058 one-click unsubscribe needs an https URL); http is allowed only for localhost.");
        return ValidateOptionsResult.Success;
    }
}
