using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

/// <summary>
/// Delivery-report counts of one sent e-mail, in the lead's partition of the nurture state table (next to the message's outbox
/// record, so erasing the lead's partition erases them too). One row per message: <see cref="Events"/> holds the short keys of the
/// report events already counted, at most <see cref="DeliveryReportRecorder.MaxReportsPerMessage"/>, so a redelivered event counts once
/// and the row stays far below the 64 KiB property limit.
/// </summary>
internal sealed class DeliveryCountsEntity : ITableEntity
{
    public const string Prefix = "delivery-";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Our outbox message id (<c>EmailMessage.Id</c>) and the outbox row it belongs to.</summary>
    public string MessageId { get; set; } = "";
    public string OutboxRow { get; set; } = "";

    public int Delivered { get; set; }
    public int Expanded { get; set; }
    public int Bounced { get; set; }
    public int Suppressed { get; set; }
    public int Failed { get; set; }
    public int Quarantined { get; set; }
    public int FilteredSpam { get; set; }
    public int Other { get; set; }

    /// <summary>Space-separated keys of the counted report events.</summary>
    public string Events { get; set; } = "";

    public string? LastStatus { get; set; }
    /// <summary>The remote server's diagnostic, truncated; kept in storage for a person to read, never logged.</summary>
    public string? LastStatusMessage { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? FirstReportAt { get; set; }
    public DateTimeOffset? LastReportAt { get; set; }

    public static string RowFor(Guid acsMessageId) => Prefix + acsMessageId.ToString("D");

    public int CountedEvents => Events.Length == 0 ? 0 : Events.Split(' ').Length;

    public bool HasCounted(string eventKey) => Events.Split(' ').Contains(eventKey, StringComparer.Ordinal);

    public void Count(string eventKey, DeliveryReport report, DateTimeOffset now)
    {
        Events = Events.Length == 0 ? eventKey : $"{Events} {eventKey}";
        switch (report.Status.ToUpperInvariant())
        {
            case "DELIVERED": Delivered++; break;
            case "EXPANDED": Expanded++; break;
            case "BOUNCED": Bounced++; break;
            case "SUPPRESSED": Suppressed++; break;
            case "FAILED": Failed++; break;
            case "QUARANTINED": Quarantined++; break;
            case "FILTEREDSPAM": FilteredSpam++; break;
            default: Other++; break;
        }
        LastStatus = report.Status;
        LastStatusMessage = report.StatusMessage;
        LastAttemptAt = report.AttemptedAt;
        FirstReportAt ??= now;
        LastReportAt = now;
    }
}
