using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Retention;

/// <summary>
/// Where the retention scan stopped (PartitionKey <c>!retention</c>, no lead id starts with "!"), updated with its ETag after
/// every page: two overlapping runs cannot both advance it, and the slower one stops.
/// </summary>
internal sealed class RetentionScanEntity : ITableEntity
{
    public const string Partition = "!retention";
    public const string Row = "scan";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>The table continuation token of the next page; null starts a new pass from the beginning.</summary>
    public string? Continuation { get; set; }
    public DateTimeOffset? PassStartedAt { get; set; }
    public DateTimeOffset? LastPassCompletedAt { get; set; }
    public long PassesCompleted { get; set; }
}

/// <summary>
/// A carried-forward ledger row (RowKey <c>s|!fold|{rule}</c>): the rows of one rule that retention folded, as their decayed sum
/// at <see cref="At"/>. It has the ledger row's properties, so anything reading the ledger sees a row of that rule with points.
/// </summary>
internal sealed class LedgerFoldEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public string RuleId { get; set; } = "";
    public string Score { get; set; } = "";

    /// <summary>Σ points · 2^(−(At − at)/halfLife) over every folded row: the rule's engagement as of <see cref="At"/>.</summary>
    public double Points { get; set; }
    public DateTimeOffset At { get; set; }
    public string ModelVersion { get; set; } = "";
    public bool Capped { get; set; }
    public string? Note { get; set; }

    public int FoldedRows { get; set; }
    public DateTimeOffset FoldedFrom { get; set; }
    public DateTimeOffset FoldedUntil { get; set; }

    /// <summary>The points the folded rows gave when they were awarded (before decay), for the explanation.</summary>
    public double FoldedPointsAwarded { get; set; }
}
