using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>
/// What erasure leaves of a lead in its own partition of the leads table: when it was erased, nothing else. The processor reads
/// it only when the lead row is missing, so the happy path stays one read and one transaction.
/// </summary>
internal sealed class ErasureTombstoneEntity : ITableEntity
{
    /// <summary>Sorts before <c>!lead</c>, and is no row kind the directory or processor reads otherwise.</summary>
    public const string Row = "!erased";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>The latest erasure. An event that happened before it is a replay of the erased person's history.</summary>
    public DateTimeOffset ErasedAt { get; set; }
    public int Erasures { get; set; }
}
