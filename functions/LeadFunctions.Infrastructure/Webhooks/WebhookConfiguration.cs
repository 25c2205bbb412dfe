using System.Text;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Domain.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>The subscriptions file and each subscription's signing secret (read from the setting it names), loaded once.</summary>
internal sealed class WebhookConfiguration(IOptions<WebhookOptions> options, IConfiguration configuration, IHostEnvironment environment)
{
    private readonly Lazy<(WebhookCatalogue Catalogue, IReadOnlyDictionary<string, byte[]> Secrets)> _loaded =
        new(() => Load(options.Value, configuration, environment.IsDevelopment()));

    public WebhookCatalogue Catalogue => _loaded.Value.Catalogue;

    public byte[] SecretOf(WebhookSubscription subscription) => _loaded.Value.Secrets[subscription.Id];

    public static string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);

    /// <summary>Loads and checks the file and the secrets; throws <see cref="WebhookConfigurationException"/> naming every problem.</summary>
    public static (WebhookCatalogue, IReadOnlyDictionary<string, byte[]>) Load(WebhookOptions options, IConfiguration configuration, bool development)
    {
        var prefix = $"{WebhookOptions.SectionName}:SubscriptionsFile ({options.SubscriptionsFile})";
        var path = Resolve(options.SubscriptionsFile);
        if (!File.Exists(path))
            throw new WebhookConfigurationException([$"{prefix}: the file '{path}' does not exist"]);
        WebhookCatalogue catalogue;
        try
        {
            catalogue = WebhookCatalogueReader.Parse(File.ReadAllText(path), allowHttp: development);
        }
        catch (WebhookConfigurationException ex)
        {
            throw new WebhookConfigurationException([.. ex.Errors.Select(e => $"{prefix}: {e}")]);
        }

        var errors = new List<string>();
        var secrets = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < catalogue.Subscriptions.Count; i++)
        {
            var subscription = catalogue.Subscriptions[i];
            var key = subscription.SecretSetting.Replace("__", ":", StringComparison.Ordinal);
            var value = configuration[key];
            var field = $"{prefix}: subscriptions[{i}].secretSetting";
            if (string.IsNullOrWhiteSpace(value))
                errors.Add($"{field}: the setting '{subscription.SecretSetting}' is not set (put the signing secret there, as a Key Vault reference in Azure) (subscription '{subscription.Id}')");
            else if (SigningKeyPolicy.Problem(value, subscription.SecretSetting, development, "sign webhooks") is { } problem)
                errors.Add($"{field}: {problem} (subscription '{subscription.Id}')");
            else
                secrets[subscription.Id] = Encoding.UTF8.GetBytes(value);
        }
        if (options.ClaimLeaseSeconds < 2 * options.TimeoutSeconds)
            errors.Add($"{WebhookOptions.SectionName}:ClaimLeaseSeconds must be at least twice {WebhookOptions.SectionName}:TimeoutSeconds, so a claim outlives the attempt it covers.");
        if (options.RetryDelaySeconds > options.MaxRetryDelaySeconds)
            errors.Add($"{WebhookOptions.SectionName}:RetryDelaySeconds must not be more than {WebhookOptions.SectionName}:MaxRetryDelaySeconds.");
        if (errors.Count > 0)
            throw new WebhookConfigurationException(errors);
        return (catalogue, secrets);
    }
}

/// <summary>Fails the start of the app, naming the field, when the subscriptions file or a secret it names is wrong.</summary>
internal sealed class WebhookOptionsValidation(IConfiguration configuration, IHostEnvironment environment) : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.SubscriptionsFile))
            return ValidateOptionsResult.Success; // the [Required] attribute reports it
        try
        {
            WebhookConfiguration.Load(options, configuration, environment.IsDevelopment());
            return ValidateOptionsResult.Success;
        }
        catch (WebhookConfigurationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Errors);
        }
        catch (IOException ex)
        {
            return ValidateOptionsResult.Fail($"{WebhookOptions.SectionName}:SubscriptionsFile ({options.SubscriptionsFile}): {ex.Message}");
        }
    }
}
