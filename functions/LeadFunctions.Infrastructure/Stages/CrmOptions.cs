using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Stages;

/// <summary>The signed inbound CRM webhook (section <c>Crm</c>).</summary>
public sealed class CrmOptions
{
    public const string SectionName = "Crm";

    /// <summary>The shortest secret accepted: 32 characters of random material.</summary>
    public const int MinimumSecretLength = 32;

    /// <summary>
    /// The HMAC secret the CRM signs each request with (<c>X-LeadFunctions-Signature</c>). Empty refuses every request with a 503:
    /// the webhook fails closed. Keep it in Key Vault.
    /// </summary>
    public string WebhookSecret { get; set; } = "";

    /// <summary>The secret being rotated out: also accepted while set, so the CRM can switch without a gap. Empty otherwise.</summary>
    public string PreviousWebhookSecret { get; set; } = "";

    internal IReadOnlyList<byte[]> Secrets() =>
        [.. new[] { WebhookSecret, PreviousWebhookSecret }.Where(s => !string.IsNullOrEmpty(s)).Select(s => System.Text.Encoding.UTF8.GetBytes(s))];
}

internal sealed class CrmOptionsValidation : IValidateOptions<CrmOptions>
{
    public ValidateOptionsResult Validate(string? name, CrmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Check(options.WebhookSecret, nameof(CrmOptions.WebhookSecret), errors);
        Check(options.PreviousWebhookSecret, nameof(CrmOptions.PreviousWebhookSecret), errors);
        if (string.IsNullOrEmpty(options.WebhookSecret) && !string.IsNullOrEmpty(options.PreviousWebhookSecret))
            errors.Add($"{CrmOptions.SectionName}:PreviousWebhookSecret is set without {CrmOptions.SectionName}:WebhookSecret; set the new secret first.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(string? secret, string name, List<string> errors)
    {
        secret ??= "";
        if (secret.Length > 0 && secret.Trim().Length < CrmOptions.MinimumSecretLength)
            errors.Add($"{CrmOptions.SectionName}:{name} must be empty or at least {CrmOptions.MinimumSecretLength} characters.");
        if (secret.Length > 256)
            errors.Add($"{CrmOptions.SectionName}:{name} must be at most 256 characters.");
    }
}
