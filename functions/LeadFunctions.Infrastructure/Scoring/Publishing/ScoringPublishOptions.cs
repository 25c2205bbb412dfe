using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>Published scoring models and re-scores (section <c>ScoringPublish</c>, e.g. <c>ScoringPublish__RefreshSeconds</c>).</summary>
public sealed class ScoringPublishOptions
{
    public const string SectionName = "ScoringPublish";

    /// <summary>Published versions, the active pointer, the publication log and re-score jobs.</summary>
    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "ScoringPublish:ModelsTable must be a valid table name (letters and digits, 3-63, starting with a letter).")]
    public string ModelsTable { get; set; } = "ScoringModels";

    /// <summary>
    /// How long an instance keeps the active model before reading the pointer again: the switch-over delay after a publish
    /// (the publishing instance switches at once). One point read per instance per period, never one per event.
    /// </summary>
    [Range(1, 3600, ErrorMessage = "ScoringPublish:RefreshSeconds must be between 1 and 3600.")]
    public int RefreshSeconds { get; set; } = 30;

    /// <summary>Leads one re-score timer run walks (one page of lead rows, one enqueue each).</summary>
    [Range(1, 1000, ErrorMessage = "ScoringPublish:RescorePageSize must be between 1 and 1000.")]
    public int RescorePageSize { get; set; } = 500;

    /// <summary>Pages one timer run walks at most, so a run ends well within the function timeout.</summary>
    [Range(1, 100, ErrorMessage = "ScoringPublish:RescorePagesPerRun must be between 1 and 100.")]
    public int RescorePagesPerRun { get; set; } = 4;

    /// <summary>
    /// Checking walks after every lead was enqueued: each counts the leads on the new version; the job finishes when one finds
    /// none left, or after this many (the rest are reported as still on the old version).
    /// </summary>
    [Range(1, 20, ErrorMessage = "ScoringPublish:MaxCheckPasses must be between 1 and 20.")]
    public int MaxCheckPasses { get; set; } = 3;

    public TimeSpan Refresh => TimeSpan.FromSeconds(RefreshSeconds);
}
