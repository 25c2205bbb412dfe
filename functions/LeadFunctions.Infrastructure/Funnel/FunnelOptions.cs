using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Funnel;

/// <summary>The funnel counters (section <c>Funnel</c>, e.g. <c>Funnel__Shards</c>). See docs/funnel.md.</summary>
public sealed class FunnelOptions
{
    public const string SectionName = "Funnel";

    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Funnel:CountersTable must be a valid table name (letters and digits, 3-63, starting with a letter).")]
    public string CountersTable { get; set; } = "FunnelCounters";

    /// <summary>
    /// Partitions the counters are spread over (a lead always lands in the same one), so no single partition takes every write.
    /// Decide it before the first lead: a lead moved to another shard later keeps its open-SQL markers in the old one.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Funnel:Shards must be between 1 and 64.")]
    public int Shards { get; set; } = 4;

    /// <summary>
    /// How long the exactly-once markers of counted transitions (and the markers of closed SQL episodes) are kept before the
    /// retention timer deletes them. At least 90 days, as long as the applied-event rows that make a redelivered event a no-op.
    /// </summary>
    [Range(90, 36500, ErrorMessage = "Funnel:MarkerDays must be between 90 and 36500.")]
    public int MarkerDays { get; set; } = 90;
}
