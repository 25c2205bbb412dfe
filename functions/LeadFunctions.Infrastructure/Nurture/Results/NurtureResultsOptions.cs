using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Nurture.Results;

/// <summary>The per-step results counters (section <c>NurtureResults</c>, e.g. <c>NurtureResults__GoalWindowDays</c>). See docs/nurture-results.md.</summary>
public sealed class NurtureResultsOptions : IValidatableObject
{
    public const string SectionName = "NurtureResults";

    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "NurtureResults:CountersTable must be a valid table name (letters and digits, 3-63, starting with a letter).")]
    public string CountersTable { get; set; } = "NurtureResults";

    /// <summary>
    /// Partitions the counters are spread over (a message always lands in the same one), so concurrent counts of one step mostly
    /// touch different rows. Decide it before the first send: a message moved to another shard would be counted again there.
    /// </summary>
    [Range(1, 64, ErrorMessage = "NurtureResults:Shards must be between 1 and 64.")]
    public int Shards { get; set; } = 4;

    /// <summary>An SQL counts as a goal of every nurture step sent to the lead within this many days before it.</summary>
    [Range(1, 365, ErrorMessage = "NurtureResults:GoalWindowDays must be between 1 and 365.")]
    public int GoalWindowDays { get; set; } = 30;

    /// <summary>
    /// How long after a send its message is counted at all, and its exactly-once marker kept (the retention timer deletes it a
    /// day later). Opens, clicks or reports of an older message are not counted: without its marker they could be counted twice.
    /// </summary>
    [Range(30, 36500, ErrorMessage = "NurtureResults:MarkerDays must be between 30 and 36500.")]
    public int MarkerDays { get; set; } = 120;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GoalWindowDays > MarkerDays)
        {
            yield return new ValidationResult(
                "NurtureResults:GoalWindowDays must not exceed NurtureResults:MarkerDays: a goal must arrive while its step's marker is kept.",
                [nameof(GoalWindowDays)]);
        }
    }
}
