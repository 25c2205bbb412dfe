using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Storage;

/// <summary>Where the pipeline keeps its data. The account itself comes from the <c>LeadStorage</c> connection (see <see cref="StorageConnection"/>).</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>The name of the connection setting, shared with the queue trigger's <c>Connection</c>.</summary>
    public const string ConnectionName = "LeadStorage";

    /// <summary>The queue every lead event travels on; fixed because the queue trigger names it at compile time.</summary>
    public const string LeadEventsQueue = "lead-events";

    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Storage:LeadsTable must be a valid table name (letters and digits, 3-63, starting with a letter).")]
    public string LeadsTable { get; set; } = "Leads";

    /// <summary>Create tables and queues at start. On locally and in tests; in Azure the infrastructure creates them.</summary>
    public bool CreateIfMissing { get; set; } = true;
}
