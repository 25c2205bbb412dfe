using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>Kinds of scheduled work in the due index.</summary>
internal static class DueKinds
{
    public const string Nurture = "nurture";
    public const string Alert = "alert";
    public const string SlaCheck = "sla";
}

/// <summary>
/// One row of the due index: something owed to a lead at <see cref="DueAt"/>. All rows share one partition and the row key starts
/// with the zero-padded due ticks, so "what is due now" is a range scan whose cost is the number of due rows, not of leads.
/// A row is only a reminder: the outbox decides whether anything is actually sent, so duplicate rows are harmless.
/// </summary>
internal sealed class DueItemEntity : ITableEntity
{
    public const string Partition = "due";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string LeadId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? Programme { get; set; }
    public string? Step { get; set; }
    public DateTimeOffset DueAt { get; set; }
    /// <summary>UTC ticks of the stage change that scheduled this (enrolment for nurture, becoming SQL for alerts).</summary>
    public long TransitionTicks { get; set; }

    public DateTimeOffset TransitionAt => new(TransitionTicks, TimeSpan.Zero);

    public static DueItemEntity Create(string leadId, string kind, DateTimeOffset dueAt, DateTimeOffset transitionAt, string key, string? programme = null, string? step = null) => new()
    {
        RowKey = $"{Math.Max(0, dueAt.UtcTicks):D19}-{leadId}-{kind}-{key}",
        LeadId = leadId,
        Kind = kind,
        Programme = programme,
        Step = step,
        DueAt = dueAt,
        TransitionTicks = transitionAt.UtcTicks,
    };

    /// <summary>Row keys below this are due at <paramref name="now"/>.</summary>
    public static string UpperBound(DateTimeOffset now) => $"{now.UtcTicks + 1:D19}";
}

internal static class OutboxStatus
{
    public const string Claimed = "claimed";
    public const string Sent = "sent";
}

/// <summary>
/// The outbox record of one e-mail, in the lead's partition of the state table. Its row key is deterministic
/// (programme + step, or alert kind + SQL time), so however many runs reach it, only the one whose ETag-guarded claim wins sends.
/// </summary>
internal sealed class OutboxEntity : ITableEntity
{
    public const string Prefix = "outbox-";
    public const string NurturePrefix = Prefix + DueKinds.Nurture + "-";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Kind { get; set; } = "";
    public string Status { get; set; } = OutboxStatus.Claimed;
    public string MessageId { get; set; } = "";
    public DateTimeOffset FirstAttemptAt { get; set; }
    public DateTimeOffset ClaimedUntil { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    /// <summary>Counts against the weekly frequency cap.</summary>
    public bool Marketing { get; set; }
    /// <summary>For sales alerts: who it went to, fixed at the first claim so a retry goes to the same rep.</summary>
    public string? Owner { get; set; }
    public string? RoutedBy { get; set; }
}

/// <summary>Written synchronously by the unsubscribe endpoint, read by the timer before every nurture send.</summary>
internal sealed class SuppressionEntity : ITableEntity
{
    public const string Row = "suppression";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset SuppressedAt { get; set; }
    public string Source { get; set; } = "";
}

/// <summary>The SLA clock of one SQL episode: who it was routed to, the deadline, the first sales decision, and a breach if there was one.</summary>
internal sealed class SlaEntity : ITableEntity
{
    public const string Prefix = "sla-";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset? SqlAt { get; set; }
    public DateTimeOffset? Deadline { get; set; }
    public string? Owner { get; set; }
    public string? Decision { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? DecidedBy { get; set; }
    public DateTimeOffset? BreachedAt { get; set; }
    public string? EscalatedTo { get; set; }
    /// <summary>The SLA ladder's progress: when the rep was reminded, the manager told, and the lead re-routed (and from whom).</summary>
    public DateTimeOffset? RemindedAt { get; set; }
    public DateTimeOffset? EscalatedAt { get; set; }
    public DateTimeOffset? ReroutedAt { get; set; }
    public string? ReroutedFrom { get; set; }
    /// <summary>The last ladder step sent, by id.</summary>
    public string? LastStep { get; set; }

    public static string RowFor(long sqlTicks) => $"{Prefix}{sqlTicks:D19}";
}

/// <summary>The next turn of a round-robin pool, advanced with an ETag so two runs never hand out the same turn.</summary>
internal sealed class RoundRobinEntity : ITableEntity
{
    public const string Partition = "routing";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long NextTurn { get; set; }
}
