using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Leads;

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

    public string ResolvedModelPath =>
        Path.IsPathRooted(ModelPath) ? ModelPath : Path.Combine(AppContext.BaseDirectory, ModelPath);
}
