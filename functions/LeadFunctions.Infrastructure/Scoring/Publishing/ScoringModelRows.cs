using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>
/// The models table. Versions: PartitionKey <c>version</c>, RowKey = the model version, the model JSON (immutable). Everything
/// that must change together lives in partition <c>published</c>, so one entity-group transaction does it: the active pointer
/// (RowKey <c>active</c>, ETag-checked, so two publishes cannot both win), the publication log (<c>p|{inverted ticks}|{version}</c>,
/// newest first) and re-score jobs (<c>job|{id}</c>).
/// </summary>
internal static class ScoringModelRows
{
    public const string VersionPartition = "version";
    public const string PublishedPartition = "published";
    public const string Active = "active";
    public const string PublicationPrefix = "p|";
    public const string PublicationEnd = "p}";
    public const string JobPrefix = "job|";

    /// <summary>Newest first; the version keeps two publishes of one instant apart (only one of them can move the pointer).</summary>
    public static string Publication(DateTimeOffset at, string version) =>
        PublicationPrefix + (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + "|" + version;

    public static string Job(string jobId) => JobPrefix + jobId;
}

internal sealed class ModelVersionEntity : ITableEntity
{
    public string PartitionKey { get; set; } = ScoringModelRows.VersionPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string ModelJson { get; set; } = "";
    /// <summary>SHA-256 of the JSON as given: the same version published again must be the same bytes.</summary>
    public string ContentHash { get; set; } = "";
    public DateTimeOffset StoredAt { get; set; }
}

internal sealed class ActiveModelEntity : ITableEntity
{
    public string PartitionKey { get; set; } = ScoringModelRows.PublishedPartition;
    public string RowKey { get; set; } = ScoringModelRows.Active;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Version { get; set; } = "";
    public DateTimeOffset PublishedAt { get; set; }
    /// <summary>The re-score of this version in progress or last run, if any.</summary>
    public string? RescoreJobId { get; set; }
}

internal sealed class PublicationEntity : ITableEntity
{
    public string PartitionKey { get; set; } = ScoringModelRows.PublishedPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Version { get; set; } = "";
    public string? PreviousVersion { get; set; }
    public string PublishedById { get; set; } = "";
    public string? PublishedByName { get; set; }
    public DateTimeOffset PublishedAt { get; set; }
    public string Reason { get; set; } = "";
    public string? RescoreJobId { get; set; }
}

internal sealed class RescoreJobEntity : ITableEntity
{
    public string PartitionKey { get; set; } = ScoringModelRows.PublishedPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string JobId { get; set; } = "";
    public string TargetVersion { get; set; } = "";
    public string State { get; set; } = RescoreStates.Enqueueing;
    /// <summary>The lead-row query's continuation where the walk resumes; null at the start of a walk.</summary>
    public string? Continuation { get; set; }
    public int CheckPass { get; set; }
    public long LeadsSeen { get; set; }
    public long LeadsEnqueued { get; set; }
    public long LeadsAlreadyCurrent { get; set; }
    /// <summary>The running counts of the check walk in progress.</summary>
    public long CheckOnTarget { get; set; }
    public long CheckNotOnTarget { get; set; }
    /// <summary>The counts of the last finished check walk; null before one has finished.</summary>
    public long? LeadsApplied { get; set; }
    public long? LeadsRemaining { get; set; }
    public string StartedById { get; set; } = "";
    public string? StartedByName { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    /// <summary>The walk starts after every instance has switched to the target (<see cref="ScoringPublishOptions.RefreshSeconds"/>).</summary>
    public DateTimeOffset NotBefore { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public static class RescoreStates
{
    /// <summary>Walking the leads, enqueueing a re-score event for each lead not yet scored wholly under the target.</summary>
    public const string Enqueueing = "enqueueing";
    /// <summary>Every lead is enqueued; walking again, counting the leads on the target, until none is left.</summary>
    public const string Checking = "checking";
    public const string Finished = "finished";
    /// <summary>Another version was published before this job finished; it stopped.</summary>
    public const string Superseded = "superseded";
}
