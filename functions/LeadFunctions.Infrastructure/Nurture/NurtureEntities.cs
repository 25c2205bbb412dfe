using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>Kinds of scheduled work in the due index.</summary>
internal static class DueKinds
{
    public const string Nurture = "nurture";
    public const string Alert = "alert";
    public const string SlaCheck = "sla";
    /// <summary>The double opt-in e-mail: not marketing (no weekly cap), but never to a suppressed address.</summary>
    public const string Confirm = "confirm";
}

/// <summary>
/// The due index is split by priority: sales alerts and SLA checks in their own partition, read first, so no amount of
/// nurture (or of its failures) can delay them. Everything else shares the original partition, so rows written before
/// the split are still read.
/// </summary>
internal static class DuePartitions
{
    public const string Sales = "due-sales";
    public const string Default = "due";

    /// <summary>The order a run reads them in.</summary>
    public static readonly string[] ReadOrder = [Sales, Default];

    public static string For(string kind) => kind is DueKinds.Alert or DueKinds.SlaCheck ? Sales : Default;
}

/// <summary>
/// One row of the due index: something owed to a lead at <see cref="DueAt"/>. Each priority partition is keyed by time: the row
/// key starts with the zero-padded ticks of when the row may next run, so "what is due now" is a range scan whose cost is the
/// number of due rows, not of leads. A row is only a reminder: the outbox decides whether anything is actually sent, so duplicate
/// rows are harmless. A failed row moves later (<see cref="RetryAt"/>) and carries its failure count; <see cref="DueAt"/> stays.
/// </summary>
internal sealed class DueItemEntity : ITableEntity
{
    public const string Partition = DuePartitions.Default;
    private const int TicksLength = 19;

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

    /// <summary>Failed runs of this work so far; at <c>Nurture:MaxSendAttempts</c> it is parked.</summary>
    public int Attempts { get; set; }
    /// <summary>Why the last run failed (statuses and type names only, never an address).</summary>
    public string? LastError { get; set; }
    public DateTimeOffset? LastFailedAt { get; set; }

    public DateTimeOffset TransitionAt => new(TransitionTicks, TimeSpan.Zero);

    /// <summary>The row key without its time prefix: the identity of the work, the same however often it moves.</summary>
    public string WorkKey => RowKey.Length > TicksLength + 1 ? RowKey[(TicksLength + 1)..] : RowKey;

    /// <summary>When this row may run (its row key's time).</summary>
    public DateTimeOffset RetryAt => long.TryParse(RowKey.AsSpan(0, Math.Min(TicksLength, RowKey.Length)), out var ticks) && ticks >= 0 && ticks <= DateTimeOffset.MaxValue.UtcTicks
        ? new DateTimeOffset(ticks, TimeSpan.Zero)
        : DueAt;

    public static DueItemEntity Create(string leadId, string kind, DateTimeOffset dueAt, DateTimeOffset transitionAt, string key, string? programme = null, string? step = null) => new()
    {
        PartitionKey = DuePartitions.For(kind),
        RowKey = $"{Math.Max(0, dueAt.UtcTicks):D19}-{leadId}-{kind}-{key}",
        LeadId = leadId,
        Kind = kind,
        Programme = programme,
        Step = step,
        DueAt = dueAt,
        TransitionTicks = transitionAt.UtcTicks,
    };

    /// <summary>The same work, due again at <paramref name="at"/> (its original <see cref="DueAt"/> kept).</summary>
    public DueItemEntity At(DateTimeOffset at) => new()
    {
        PartitionKey = PartitionKey,
        RowKey = $"{Math.Max(0, at.UtcTicks):D19}-{WorkKey}",
        LeadId = LeadId,
        Kind = Kind,
        Programme = Programme,
        Step = Step,
        DueAt = DueAt,
        TransitionTicks = TransitionTicks,
        Attempts = Attempts,
        LastError = LastError,
        LastFailedAt = LastFailedAt,
    };

    /// <summary>Row keys below this are due at <paramref name="now"/>.</summary>
    public static string UpperBound(DateTimeOffset now) => $"{now.UtcTicks + 1:D19}";
}

/// <summary>
/// Work that failed permanently, or too often, taken off the due index (partition <c>parked</c> of the due table, row key =
/// the due row's <see cref="DueItemEntity.WorkKey"/>). It stays until an operator re-queues it; ids and reasons only, no addresses.
/// </summary>
internal sealed class ParkedEntity : ITableEntity
{
    public const string Partition = "parked";
    public const int MaxReasonLength = 1000;

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>The due partition to put it back in.</summary>
    public string DuePartition { get; set; } = DuePartitions.Default;
    public string LeadId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? Programme { get; set; }
    public string? Step { get; set; }
    public DateTimeOffset DueAt { get; set; }
    public long TransitionTicks { get; set; }
    public string Reason { get; set; } = "";
    public bool Permanent { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset ParkedAt { get; set; }
    /// <summary>The outbox record the send used, if it got that far; reset when the item is re-queued.</summary>
    public string? OutboxKey { get; set; }
}

internal static class OutboxStatus
{
    /// <summary>A run is sending. Still claimed after the lease means that run died mid-send.</summary>
    public const string Claimed = "claimed";
    /// <summary>The claim was given back: the send failed, or the quota had no room. The next run may claim it at once.</summary>
    public const string Released = "released";
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
    /// <summary>Confirmation e-mails are numbered (<c>outbox-confirm-0000000001</c>…): only one run can add the next number.</summary>
    public const string ConfirmPrefix = Prefix + DueKinds.Confirm + "-";

    public static string ConfirmRow(long number) => $"{ConfirmPrefix}{number:D10}";

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

    /// <summary>The current logical send attempt (1, 2, …): its tries share one ACS request id (see <c>Repeatability</c>).</summary>
    public int RequestAttempt { get; set; }
    /// <summary>When the current logical attempt started: ACS's <c>Repeatability-First-Sent</c>.</summary>
    public DateTimeOffset? RequestFirstSent { get; set; }
    /// <summary>
    /// Some try of this record may have been accepted although we saw a failure (a timeout, a network error, a gateway
    /// error, or a run that died mid-send). A new attempt after that may deliver a second copy; it is logged as such.
    /// </summary>
    public bool OutcomeUnknown { get; set; }
    /// <summary>
    /// A new attempt was started after an unknown outcome: if the earlier one was in fact accepted, the lead got two copies.
    /// ACS cannot tell us after its window; this marks the record so the case is visible (and logged as a warning).
    /// </summary>
    public bool PossibleDuplicate { get; set; }
    /// <summary>Set (not stored) by the claim that started a new attempt after an unknown outcome, so that send logs the warning.</summary>
    [IgnoreDataMember]
    public bool NewAttemptAfterUnknownOutcome { get; set; }
    /// <summary>Claims taken over from a run that died mid-send; bounded like failures.</summary>
    public int Takeovers { get; set; }
    public string? LastError { get; set; }
}

/// <summary>
/// The lead's marketing e-mails of the last 7 days, for the frequency cap: one row (<c>marketing-sends</c>) in the lead's partition
/// of the state table, written in the same entity-group transaction that marks a marketing e-mail sent, so the timer reads the cap
/// with one point read instead of querying the lead's outbox rows. Holds only sends inside the cap window, newest
/// <see cref="MaxCount"/> (the cap's upper bound), as UTC ticks: a few hundred bytes at most.
/// </summary>
internal sealed class MarketingSendsEntity : ITableEntity
{
    public const string Row = "marketing-sends";
    /// <summary>The highest cap <c>Nurture:MaxMarketingEmailsPerWeek</c> allows: more sends in the window can never matter.</summary>
    public const int MaxCount = 100;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Send times as UTC ticks, oldest first, separated by commas.</summary>
    public string SentAtTicks { get; set; } = "";

    public List<DateTimeOffset> SentAt()
    {
        var sends = new List<DateTimeOffset>();
        foreach (var part in SentAtTicks.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (long.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
                && ticks <= DateTimeOffset.MaxValue.UtcTicks)
                sends.Add(new DateTimeOffset(ticks, TimeSpan.Zero));
        }
        return sends;
    }

    /// <summary>The row after a send at <paramref name="sentAt"/>: the earlier sends still inside the cap window, plus this one, bounded.</summary>
    public static MarketingSendsEntity After(string leadId, IEnumerable<DateTimeOffset> earlier, DateTimeOffset sentAt)
    {
        var kept = earlier.Where(s => s > sentAt - Domain.Nurture.NurturePlanner.CapWindow && s != sentAt)
            .Append(sentAt).Order().TakeLast(MaxCount);
        return new MarketingSendsEntity
        {
            PartitionKey = leadId,
            SentAtTicks = string.Join(',', kept.Select(s => s.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        };
    }
}

/// <summary>
/// Since when every marketing send has been recorded in <see cref="MarketingSendsEntity"/> rows (one row for the state table,
/// written by the first timer run that finds it missing). Until a cap window has passed since then, a lead without the row may
/// have sends that only its outbox rows show (written before the row existed), so the timer queries those as before.
/// </summary>
internal sealed class MarketingSendsLayoutEntity : ITableEntity
{
    public const string Partition = "nurture-layout";
    public const string Row = MarketingSendsEntity.Row;

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset Since { get; set; }
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
    /// <summary>The event the first decision queued: a retry of that same decision re-queues it, any other decision is refused.</summary>
    public string? DecisionEventId { get; set; }
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
