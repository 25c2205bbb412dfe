using System.ComponentModel.DataAnnotations;

namespace LeadFunctions.Infrastructure.Retention;

/// <summary>
/// Retention (section <c>Retention</c>, e.g. <c>Retention__LedgerDays</c>). Every period is off at 0, the default: nothing is
/// erased or compacted until the deploying company decides how long it keeps what.
/// </summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string SectionName = "Retention";

    /// <summary>
    /// Below this an applied-event row could still be needed to recognise a redelivered or replayed message (queue messages live
    /// 7 days, unsubscribe links 90, opens and clicks score for <c>Nurture:EngagementScoringDays</c>), so deleting it could score twice.
    /// </summary>
    public const int MinAppliedEventDays = 90;

    /// <summary>Erase a lead (through the erasure service) when nothing has happened to it for this many days; 0 = never.</summary>
    [Range(0, 36500, ErrorMessage = "Retention:EraseInactiveAfterDays must be between 0 (off) and 36500.")]
    public int EraseInactiveAfterDays { get; set; }

    /// <summary>Delete applied-event rows (the redelivery proof and stored event JSON) older than this many days; 0 = keep.</summary>
    [Range(0, 36500, ErrorMessage = "Retention:AppliedEventDays must be between 0 (off) and 36500.")]
    public int AppliedEventDays { get; set; }

    /// <summary>Fold ledger rows older than this many days into one carried-forward row per rule; 0 = keep every row.</summary>
    [Range(0, 36500, ErrorMessage = "Retention:LedgerDays must be between 0 (off) and 36500.")]
    public int LedgerDays { get; set; }

    /// <summary>Pages (of up to 1,000 rows) one run reads from the table scan; the scan resumes where it stopped on the next run.</summary>
    [Range(1, 10000, ErrorMessage = "Retention:MaxPagesPerRun must be between 1 and 10000.")]
    public int MaxPagesPerRun { get; set; } = 50;

    public bool Enabled => EraseInactiveAfterDays > 0 || AppliedEventDays > 0 || LedgerDays > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AppliedEventDays is > 0 and < MinAppliedEventDays)
            yield return new ValidationResult(
                $"Retention:AppliedEventDays must be 0 (off) or at least {MinAppliedEventDays}: younger applied events are what make a redelivered or replayed message a no-op.",
                [nameof(AppliedEventDays)]);
        if (EraseInactiveAfterDays is > 0 and < 30)
            yield return new ValidationResult(
                "Retention:EraseInactiveAfterDays must be 0 (off) or at least 30.", [nameof(EraseInactiveAfterDays)]);
    }
}
