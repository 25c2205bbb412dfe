using LeadFunctions.Domain.Messaging.Composition;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Domain.Tracking;
using Microsoft.Extensions.Hosting;
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
        if (!templates.Exists(nurture.ConfirmationTemplate))
            errors.Add($"Nurture:ConfirmationTemplate: template '{nurture.ConfirmationTemplate}' has no files in {nurture.TemplatesFolder}.");
        if (EmailTemplates.SubjectError(nurture.ConfirmationSubject) is { } subjectError)
            errors.Add($"Nurture:ConfirmationSubject: is not valid Liquid: {subjectError}");
        if (nurture.ConfirmationValidDays * 24 < nurture.ConfirmationWindowHours)
            errors.Add($"Nurture:ConfirmationValidDays: a link must work at least as long as Nurture:ConfirmationWindowHours ({nurture.ConfirmationWindowHours} h), or a request made after the one e-mail of a window could never be confirmed.");
        if (errors.Count > 0)
            throw new NurtureConfigurationException(errors);

        var routing = SalesRoutingReader.Parse(ReadFile(Resolve(alerts.RoutingFile), "SalesAlerts:RoutingFile"));
        return (catalogue, templates, routing);
    }

    private static string ReadFile(string path, string setting) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new NurtureConfigurationException([$"{setting}: the file '{path}' does not exist."]);
}

/// <summary>Fails the start of the app, naming the problem, when the programmes, templates or routing rules are broken.</summary>
internal sealed class NurtureFilesValidation(IOptions<SalesAlertOptions> alerts, IOptions<Scoring.ScoringOptions> scoring) : IValidateOptions<NurtureOptions>
{
    public ValidateOptionsResult Validate(string? name, NurtureOptions options)
    {
        try
        {
            var (catalogue, _, _) = NurtureConfiguration.Load(options, alerts.Value);
            var unknown = UnknownScores(catalogue, scoring.Value.ResolvedModelPath);
            return unknown.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(new NurtureConfigurationException(unknown).Message);
        }
        catch (Exception ex) when (ex is NurtureConfigurationException or EmailTemplateException or SalesRoutingException or IOException)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }

    /// <summary>
    /// Entry filters naming a score the scoring model does not define: such a filter could never match, which is an edit mistake
    /// worth stopping the start for. (The model's own errors are reported by its validation, so a broken model is skipped here.)
    /// </summary>
    internal static List<string> UnknownScores(NurtureCatalogue catalogue, string modelPath)
    {
        var errors = new List<string>();
        Domain.Scoring.ScoringModel model;
        try
        {
            model = Domain.Scoring.ScoringModelLoader.LoadFile(modelPath);
        }
        catch (Exception ex) when (ex is Domain.Scoring.InvalidScoringModelException or IOException)
        {
            return errors;
        }
        foreach (var programme in catalogue.Programmes.Values)
        {
            if (programme.Entry?.Score is { } filter && !string.Equals(filter.Name, NurtureScores.Engagement, StringComparison.OrdinalIgnoreCase) &&
                model.Score(filter.Name) is null)
            {
                errors.Add($"programme '{programme.Id}': entry.score.name '{filter.Name}' is not a score of the scoring model {model.Version} (use \"engagement\" or one of its named scores).");
            }
        }
        return errors;
    }
}

/// <summary>
/// Checks the public URL and the signing keys at start. Outside Development a key anyone could know or guess (the sample key,
/// an unresolved Key Vault reference, fewer than 256 random bits) stops the app, with the reason.
/// </summary>
internal sealed class TrackingOptionsValidation(IHostEnvironment environment) : IValidateOptions<TrackingOptions>
{
    public ValidateOptionsResult Validate(string? name, TrackingOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.BaseUrl)) // else the [Required] attribute reports it
        {
            if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                errors.Add("Tracking:BaseUrl must be an absolute http(s) URL such as https://leads.example.com.");
            else if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
                errors.Add("Tracking:BaseUrl must use https (RFC 8058 one-click unsubscribe needs an https URL); http is allowed only for localhost.");
        }

        var development = environment.IsDevelopment();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        void CheckKey(string idSetting, string? id, string keySetting, string key)
        {
            if (!TrackingSigningKey.IsValidId(id))
                errors.Add($"{idSetting} must be 1-32 letters, digits, '-' or '_'.");
            else if (!ids.Add(id!))
                errors.Add($"{idSetting} '{id}' is already the id of another signing key; give each key its own id.");
            if (SigningKeyPolicy.Problem(key, keySetting, development) is { } problem)
                errors.Add(problem);
        }

        if (!string.IsNullOrWhiteSpace(options.SigningKey)) // else the [Required] attribute reports it
            CheckKey("Tracking:SigningKeyId", options.SigningKeyId, "Tracking:SigningKey", options.SigningKey);
        for (var i = 0; i < options.PreviousSigningKeys.Count; i++)
        {
            var previous = options.PreviousSigningKeys[i];
            CheckKey($"Tracking:PreviousSigningKeys:{i}:Id", previous.Id, $"Tracking:PreviousSigningKeys:{i}:Key", previous.Key);
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
