using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>
/// In-process rate limits of the anonymous endpoints (section <c>RateLimit</c>): per client address for forms, events
/// and tracking links, and per e-mail address for requests that name one. Each instance counts on its own; with several
/// instances a client gets at most the limit times the instance count, which is why the Front Door WAF stays the first line.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimit";

    /// <summary>False turns every limit off (a load test from one address); on by default.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How many proxies we trust to append the client's address to <c>X-Forwarded-For</c>: the client is that many entries
    /// from the right. 1 for the Functions front end alone (it appends the address it saw; anything to its left was sent
    /// by the client and can be forged), 2 with Azure Front Door before it, 0 to ignore the header and use the connection.
    /// </summary>
    public int ForwardedForHops { get; set; } = 1;

    /// <summary>Most clients (or addresses) remembered per limit; beyond that, new ones share one overflow window.</summary>
    public int MaxPartitions { get; set; } = 10_000;

    /// <summary><c>POST /api/forms/{formId}</c> per client address.</summary>
    public RateLimitRule Forms { get; set; } = new() { PermitLimit = 20, WindowSeconds = 60 };

    /// <summary><c>POST /api/events</c> per client address (page views: one office behind one address sends many).</summary>
    public RateLimitRule Events { get; set; } = new() { PermitLimit = 300, WindowSeconds = 60 };

    /// <summary>Tracking and sales links (open, click, unsubscribe, accept, reject) per client address.</summary>
    public RateLimitRule Links { get; set; } = new() { PermitLimit = 120, WindowSeconds = 60 };

    /// <summary>Stage changes (<c>POST /api/leads/{id}/stage</c>) per client address: people click, scripts should not.</summary>
    public RateLimitRule StageChanges { get; set; } = new() { PermitLimit = 60, WindowSeconds = 60 };

    /// <summary>Inbound webhooks (<c>POST /api/crm/events</c>) per client address, counted before the signature is checked.</summary>
    public RateLimitRule Webhooks { get; set; } = new() { PermitLimit = 600, WindowSeconds = 60 };

    /// <summary>Form submissions and events per e-mail address they name, from any client.</summary>
    public RateLimitRule Email { get; set; } = new() { PermitLimit = 10, WindowSeconds = 3600 };
}

/// <summary>At most <see cref="PermitLimit"/> requests in each fixed window of <see cref="WindowSeconds"/>.</summary>
public sealed class RateLimitRule
{
    public int PermitLimit { get; set; }

    public int WindowSeconds { get; set; }
}

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var errors = new List<string>();
        if (options.ForwardedForHops is < 0 or > 10)
            errors.Add($"{RateLimitOptions.SectionName}:ForwardedForHops must be between 0 and 10 (is {options.ForwardedForHops}).");
        if (options.MaxPartitions is < 100 or > 1_000_000)
            errors.Add($"{RateLimitOptions.SectionName}:MaxPartitions must be between 100 and 1000000 (is {options.MaxPartitions}).");
        Check(options.Forms, nameof(options.Forms), errors);
        Check(options.Events, nameof(options.Events), errors);
        Check(options.Links, nameof(options.Links), errors);
        Check(options.StageChanges, nameof(options.StageChanges), errors);
        Check(options.Webhooks, nameof(options.Webhooks), errors);
        Check(options.Email, nameof(options.Email), errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(RateLimitRule? rule, string name, List<string> errors)
    {
        if (rule is null)
        {
            errors.Add($"{RateLimitOptions.SectionName}:{name} is required.");
            return;
        }
        if (rule.PermitLimit is < 1 or > 1_000_000)
            errors.Add($"{RateLimitOptions.SectionName}:{name}:PermitLimit must be between 1 and 1000000 (is {rule.PermitLimit}).");
        if (rule.WindowSeconds is < 1 or > 86_400)
            errors.Add($"{RateLimitOptions.SectionName}:{name}:WindowSeconds must be between 1 and 86400 (is {rule.WindowSeconds}).");
    }
}
