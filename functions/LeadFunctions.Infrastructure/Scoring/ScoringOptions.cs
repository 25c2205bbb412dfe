using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Scoring;

/// <summary>Settings of the rescoring processor (section <c>Scoring</c>, e.g. <c>Scoring__ModelPath</c> in app settings).</summary>
public sealed class ScoringOptions
{
    public const string SectionName = "Scoring";

    /// <summary>The scoring model file; relative paths are resolved against the app's folder.</summary>
    [Required(ErrorMessage = "Scoring:ModelPath must name the scoring model file.")]
    public string ModelPath { get; set; } = "config/scoring-model.json";

    /// <summary>How often one event re-reads and re-applies after concurrent updates of its lead before the queue retries it.</summary>
    [Range(1, 1000, ErrorMessage = "Scoring:MaxConcurrencyRetries must be between 1 and 1000.")]
    public int MaxConcurrencyRetries { get; set; } = 100;

    /// <summary>
    /// How far back a visitor's anonymous activity is attached when the visitor converts; older pending events are
    /// never attached and are deleted by the stitch.
    /// </summary>
    [Range(1, 365, ErrorMessage = "Scoring:VisitorHistoryDays must be between 1 and 365.")]
    public int VisitorHistoryDays { get; set; } = 30;

    /// <summary>
    /// Pending anonymous events kept per visitor (the newest; an older one is dropped to make room), and so the most
    /// one stitch attaches to a lead.
    /// </summary>
    [Range(1, 1000, ErrorMessage = "Scoring:MaxPendingVisitorEvents must be between 1 and 1000.")]
    public int MaxPendingVisitorEvents { get; set; } = 200;

    /// <summary>Visitor ids remembered on the lead row (the most recently used); older ones are forgotten, never moved.</summary>
    [Range(1, 500, ErrorMessage = "Scoring:MaxLinkedVisitors must be between 1 and 500.")]
    public int MaxLinkedVisitors { get; set; } = 50;

    public TimeSpan VisitorHistory => TimeSpan.FromDays(VisitorHistoryDays);

    public string ResolvedModelPath =>
        Path.IsPathRooted(ModelPath) ? ModelPath : Path.Combine(AppContext.BaseDirectory, ModelPath);
}
