using System.Text.RegularExpressions;
using LeadFunctions.Domain.Configuration;

namespace LeadFunctions.Domain.Webhooks;

/// <summary>The events a subscription may ask for.</summary>
public static class WebhookEventTypes
{
    /// <summary>Every lifecycle transition of a lead.</summary>
    public const string StageChanged = "stage-changed";

    /// <summary>A lead became an SQL: what the sales alert e-mail is about, for a CRM or chat tool to act on.</summary>
    public const string SqlAlert = "sql-alert";

    public static readonly IReadOnlyList<string> All = [StageChanged, SqlAlert];
}

/// <summary>
/// One receiver of outgoing webhooks. The signing secret is never in the file: <see cref="SecretSetting"/> names the app setting
/// (a Key Vault reference in Azure) that holds it.
/// </summary>
public sealed record WebhookSubscription
{
    public required string Id { get; init; }
    public required Uri Url { get; init; }
    public required IReadOnlyList<string> Events { get; init; }
    public required string SecretSetting { get; init; }

    /// <summary>Off by default: the payload then carries ids, stage, reason, scores and owner, never who the person is.</summary>
    public bool IncludeProfile { get; init; }

    public bool Wants(string eventType) => Events.Contains(eventType, StringComparer.Ordinal);
}

/// <summary>The webhook subscriptions file (<c>config/webhooks.json</c>).</summary>
public sealed record WebhookCatalogue(string Version, IReadOnlyList<WebhookSubscription> Subscriptions)
{
    public WebhookSubscription? Find(string id) => Subscriptions.FirstOrDefault(s => s.Id == id);
}

public sealed class WebhookConfigurationException(IReadOnlyList<string> errors)
    : Exception("The webhook subscriptions are not valid: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Reads and checks the subscriptions file; every problem is reported with the field it is in.</summary>
public static partial class WebhookCatalogueReader
{
    public const int MaxSubscriptions = 50;
    public const int MaxUrlLength = 2048;

    /// <param name="allowHttp">Development only: plain http (to a local receiver) is accepted; everywhere else https is required.</param>
    public static WebhookCatalogue Parse(string json, bool allowHttp)
    {
        var file = ConfigurationJson.Read<FileDto>(json, "webhooks.json", problems => new WebhookConfigurationException(problems));
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(file.Version))
            errors.Add("version: is required (bump it with every change to the subscriptions)");
        if (file.Subscriptions is null)
            errors.Add("subscriptions: is required (an empty list [] means no webhooks)");
        else if (file.Subscriptions.Count > MaxSubscriptions)
            errors.Add($"subscriptions: at most {MaxSubscriptions} subscriptions");

        var subscriptions = new List<WebhookSubscription>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Math.Min(file.Subscriptions?.Count ?? 0, MaxSubscriptions); i++)
        {
            var dto = file.Subscriptions![i];
            var at = $"subscriptions[{i}]";
            if (dto is null)
            {
                errors.Add($"{at}: must be an object");
                continue;
            }
            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(dto.Id))
                errors.Add($"{at}.id: is required");
            else if (!IdPattern().IsMatch(dto.Id))
                errors.Add($"{at}.id: '{dto.Id}' must be 1-40 lowercase letters, digits or '-', starting with a letter (it is part of storage keys)");
            else if (!ids.TryAdd(dto.Id, i))
                errors.Add($"{at}.id: '{dto.Id}' is already used by subscriptions[{ids[dto.Id]}]");

            Uri? url = null;
            if (string.IsNullOrWhiteSpace(dto.Url))
                errors.Add($"{at}.url: is required");
            else if (dto.Url.Length > MaxUrlLength)
                errors.Add($"{at}.url: at most {MaxUrlLength} characters");
            else if (!Uri.TryCreate(dto.Url, UriKind.Absolute, out url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
                errors.Add($"{at}.url: must be an absolute https URL");
            else if (url.Scheme == Uri.UriSchemeHttp && !allowHttp)
                errors.Add($"{at}.url: must use https (plain http is accepted only in Development)");
            else if (url.UserInfo.Length > 0)
                errors.Add($"{at}.url: must not carry credentials (user:password@); the receiver verifies the signature instead");
            else if (url.Fragment.Length > 0)
                errors.Add($"{at}.url: must not have a #fragment");

            var events = new List<string>();
            if (dto.Events is null || dto.Events.Count == 0)
                errors.Add($"{at}.events: must list at least one of {string.Join(", ", WebhookEventTypes.All)}");
            else
            {
                for (var e = 0; e < dto.Events.Count; e++)
                {
                    var name = dto.Events[e];
                    if (name is null || !WebhookEventTypes.All.Contains(name, StringComparer.Ordinal))
                        errors.Add($"{at}.events[{e}]: '{name}' is not an event; use {string.Join(" or ", WebhookEventTypes.All)}");
                    else if (!events.Contains(name, StringComparer.Ordinal))
                        events.Add(name);
                }
            }

            if (string.IsNullOrWhiteSpace(dto.SecretSetting))
                errors.Add($"{at}.secretSetting: is required (the name of the app setting that holds the signing secret, e.g. Webhooks__Secrets__{dto.Id ?? "crm"})");
            else if (!SettingPattern().IsMatch(dto.SecretSetting))
                errors.Add($"{at}.secretSetting: '{dto.SecretSetting}' must be a setting name (letters, digits, '_', ':', '.'); the secret itself never goes in this file");

            if (!string.IsNullOrWhiteSpace(dto.Id))
            {
                for (var e = before; e < errors.Count; e++)
                    errors[e] += $" (subscription '{dto.Id}')";
            }
            if (errors.Count == before)
            {
                subscriptions.Add(new WebhookSubscription
                {
                    Id = dto.Id!,
                    Url = url!,
                    Events = events,
                    SecretSetting = dto.SecretSetting!,
                    IncludeProfile = dto.IncludeProfile ?? false,
                });
            }
        }
        if (errors.Count > 0)
            throw new WebhookConfigurationException(errors);
        return new WebhookCatalogue(file.Version!, subscriptions);
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,39}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_:.]{0,199}$")]
    private static partial Regex SettingPattern();

    private sealed class FileDto
    {
        public string? Version { get; set; }
        public string? Description { get; set; }
        public List<SubscriptionDto?>? Subscriptions { get; set; }
    }

    private sealed class SubscriptionDto
    {
        public string? Id { get; set; }
        public string? Description { get; set; }
        public string? Url { get; set; }
        public List<string?>? Events { get; set; }
        public string? SecretSetting { get; set; }
        public bool? IncludeProfile { get; set; }
    }
}
