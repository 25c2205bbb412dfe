using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Webhooks;

internal static class WebhookDeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Dead = "dead";
    /// <summary>The stage change it was about was never committed (the lead's transaction failed and was not retried as it was).</summary>
    public const string Dropped = "dropped";
}

/// <summary>
/// One delivery (event x subscription), in the lead's own partition of the deliveries table, so export and erasure find it with
/// the lead. Added once (a retried commit's Add is a 409 and leaves it as it is); the due index rows point at it.
/// Its body is the exact JSON every attempt sends, so the signature and the receiver's dedupe see the same bytes each time;
/// it is cleared once delivered, leaving a small row that stops a late replay of the same transition from sending it again.
/// </summary>
internal sealed class WebhookRecordEntity : ITableEntity
{
    public const string Prefix = "wh|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string DeliveryId { get; set; } = "";
    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public string SubscriptionId { get; set; } = "";
    public DateTimeOffset TransitionAt { get; set; }
    public string? FromStage { get; set; }
    public string ToStage { get; set; } = "";
    public string? Body { get; set; }
    public string Status { get; set; } = WebhookDeliveryStatus.Pending;
    public bool Committed { get; set; }
    public int Attempts { get; set; }
    public int? LastStatus { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? ClaimedUntil { get; set; }

    public static string RowFor(string deliveryId) => Prefix + deliveryId;
}

/// <summary>
/// An index row: <c>due-{subscription}</c> / <c>{due ticks}-{delivery id}</c> while the delivery waits (one partition per
/// subscription, so a receiver's backlog never stands in front of another's), or <c>dead</c> / <c>{delivery id}</c> once
/// dead-lettered. <see cref="LeadId"/> names the lead, so erasure finds it (a lead-referencing table).
/// </summary>
internal sealed class WebhookIndexEntity : ITableEntity
{
    public const string DuePrefix = "due-";
    /// <summary>'.' sorts right after '-', so [<c>due-</c>, <c>due.</c>) is exactly the due partitions.</summary>
    public const string DueEnd = "due.";
    public const string DeadPartition = "dead";
    public const int MaxReasonLength = 1000;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string LeadId { get; set; } = "";
    public string DeliveryId { get; set; } = "";
    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public string SubscriptionId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset DueAt { get; set; }
    public int Attempts { get; set; }
    public int? LastStatus { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? DeadAt { get; set; }

    public static string DuePartitionFor(string subscriptionId) => DuePrefix + subscriptionId;

    public static string DueRowFor(DateTimeOffset at, string deliveryId) =>
        $"{Math.Max(0, at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture)}-{deliveryId}";

    /// <summary>Row keys of rows due at <paramref name="now"/> sort before this.</summary>
    public static string UpperBound(DateTimeOffset now) => (Math.Max(0, now.UtcTicks) + 1).ToString("D19", CultureInfo.InvariantCulture);

    public static WebhookIndexEntity Due(WebhookRecordEntity record, DateTimeOffset dueAt) => new()
    {
        PartitionKey = DuePartitionFor(record.SubscriptionId),
        RowKey = DueRowFor(dueAt, record.DeliveryId),
        LeadId = record.PartitionKey,
        DeliveryId = record.DeliveryId,
        EventId = record.EventId,
        EventType = record.EventType,
        SubscriptionId = record.SubscriptionId,
        CreatedAt = record.TransitionAt,
        DueAt = dueAt,
        Attempts = record.Attempts,
        LastStatus = record.LastStatus,
        LastError = record.LastError,
    };

    public static string Bounded(string reason) => reason.Length <= MaxReasonLength ? reason : reason[..MaxReasonLength];
}
