using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

/// <summary>The ACS delivery-report webhook (section <c>DeliveryReports</c>).</summary>
public sealed class DeliveryReportOptions
{
    public const string SectionName = "DeliveryReports";

    /// <summary>The shortest secret accepted: 32 characters of random material.</summary>
    public const int MinimumSecretLength = 32;

    /// <summary>
    /// The shared secret Event Grid sends in the webhook URL (<c>?secret=</c>). Empty switches the webhook off: every request is
    /// answered 404. Keep it in Key Vault; it opens only this endpoint.
    /// </summary>
    public string WebhookSecret { get; set; } = "";
}

internal sealed class DeliveryReportOptionsValidation : IValidateOptions<DeliveryReportOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var secret = options.WebhookSecret ?? "";
        if (secret.Length > 0 && secret.Trim().Length < DeliveryReportOptions.MinimumSecretLength)
            return ValidateOptionsResult.Fail($"DeliveryReports:WebhookSecret must be empty (webhook off) or at least {DeliveryReportOptions.MinimumSecretLength} characters.");
        if (secret.Length > 256 || secret.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or '~')))
            return ValidateOptionsResult.Fail("DeliveryReports:WebhookSecret may hold at most 256 URL-safe characters (letters, digits, '-', '_', '.', '~'), as it travels in the webhook URL.");
        return ValidateOptionsResult.Success;
    }
}
