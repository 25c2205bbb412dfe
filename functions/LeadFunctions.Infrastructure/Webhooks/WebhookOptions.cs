using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>Outgoing webhooks: the subscriptions file, the delivery table and the delivery timer's limits (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>The subscriptions file, relative to the app folder unless absolute.</summary>
    [Required(ErrorMessage = "Webhooks:SubscriptionsFile is required.")]
    public string SubscriptionsFile { get; set; } = "config/webhooks.json";

    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Webhooks:DeliveriesTable must be a valid table name.")]
    public string DeliveriesTable { get; set; } = "WebhookDeliveries";

    /// <summary>Failed attempts of one delivery before it is dead-lettered (a permanent refusal dead-letters it at once).</summary>
    [Range(1, 50, ErrorMessage = "Webhooks:MaxAttempts must be between 1 and 50.")]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The back-off after the first failure; it doubles per failure (jittered) up to <see cref="MaxRetryDelaySeconds"/>.</summary>
    [Range(1, 86400, ErrorMessage = "Webhooks:RetryDelaySeconds must be between 1 and 86400.")]
    public int RetryDelaySeconds { get; set; } = 30;

    /// <summary>The longest wait between attempts, Retry-After included.</summary>
    [Range(1, 86400, ErrorMessage = "Webhooks:MaxRetryDelaySeconds must be between 1 and 86400.")]
    public int MaxRetryDelaySeconds { get; set; } = 3600;

    /// <summary>How long one POST may take, connection included; a slower receiver counts as failed for this attempt.</summary>
    [Range(1, 60, ErrorMessage = "Webhooks:TimeoutSeconds must be between 1 and 60.")]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>At most this many deliveries per run, over all subscriptions.</summary>
    [Range(1, 5000, ErrorMessage = "Webhooks:MaxDeliveriesPerRun must be between 1 and 5000.")]
    public int MaxDeliveriesPerRun { get; set; } = 500;

    /// <summary>At most this many deliveries per subscription per run, so one subscription's backlog cannot take the whole run.</summary>
    [Range(1, 5000, ErrorMessage = "Webhooks:MaxDeliveriesPerSubscription must be between 1 and 5000.")]
    public int MaxDeliveriesPerSubscription { get; set; } = 100;

    /// <summary>Subscriptions delivered to at the same time; each one's deliveries go in order, one at a time.</summary>
    [Range(1, 32, ErrorMessage = "Webhooks:MaxConcurrency must be between 1 and 32.")]
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>A run starts no new delivery after this long, so it ends inside the function timeout; the rest wait for the next run.</summary>
    [Range(10, 3600, ErrorMessage = "Webhooks:RunBudgetSeconds must be between 10 and 3600.")]
    public int RunBudgetSeconds { get; set; } = 240;

    /// <summary>How long a delivery scheduled at a stage change waits for the lead's commit before it is dropped as never committed.</summary>
    [Range(10, 86400, ErrorMessage = "Webhooks:CommitGraceSeconds must be between 10 and 86400.")]
    public int CommitGraceSeconds { get; set; } = 600;

    /// <summary>How long a run owns a delivery it claimed; an overlapping run leaves it alone meanwhile.</summary>
    [Range(30, 3600, ErrorMessage = "Webhooks:ClaimLeaseSeconds must be between 30 and 3600.")]
    public int ClaimLeaseSeconds { get; set; } = 300;
}
