using System.ComponentModel.DataAnnotations;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>The secret lead, visitor and rep ids are derived with (section <c>LeadIds</c>).</summary>
public sealed class LeadIdOptions
{
    public const string SectionName = "LeadIds";

    /// <summary>
    /// HMAC key of every lead id. Outside Development: at least 256 random bits (<c>openssl rand -base64 32</c>), never the sample
    /// key (the rules of <see cref="SigningKeyPolicy"/>). Keep it in Key Vault, and keep it: a new key gives every address a new
    /// lead id, so existing leads must be re-keyed first (docs/scoring.md, "Lead ids").
    /// </summary>
    [Required(ErrorMessage = "LeadIds:Key is required (generate one with: openssl rand -base64 32; keep it in Key Vault).")]
    public string Key { get; set; } = "";

    /// <summary>The key's id, written into every id; a re-key gives the new key a new id.</summary>
    public string KeyId { get; set; } = LeadIdentity.DefaultKeyId;
}

/// <summary>
/// Outside Development a key anyone could know or guess (the sample key, an unresolved Key Vault reference, fewer than 256 random
/// bits) stops the app: with it anyone could compute a person's lead id from their address.
/// </summary>
internal sealed class LeadIdOptionsValidation(IHostEnvironment environment) : IValidateOptions<LeadIdOptions>
{
    public ValidateOptionsResult Validate(string? name, LeadIdOptions options)
    {
        var errors = new List<string>();
        if (!LeadIdentity.IsValidKeyId(options.KeyId))
            errors.Add($"LeadIds:KeyId must be 1-{LeadIdentity.MaxKeyIdLength} letters or digits.");
        if (!string.IsNullOrWhiteSpace(options.Key) // else the [Required] attribute reports it
            && SigningKeyPolicy.Problem(options.Key, "LeadIds:Key", environment.IsDevelopment(), "key lead ids") is { } problem)
            errors.Add(problem);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
