namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>Which model version a lead's points come from (<see cref="Leads.LeadEntity.PointsModelVersion"/>).</summary>
public static class PointsVersion
{
    /// <summary>Points of more than one version count (an event scored by a newer model before the lead was re-scored).</summary>
    public const string Mixed = "mixed";

    /// <summary>The value after an event scored by <paramref name="scoredBy"/> (a re-score: the points are all of that version now).</summary>
    public static string Next(string? storedPoints, string? storedModel, string scoredBy, bool rescore)
    {
        if (rescore)
            return scoredBy;
        var points = Of(storedPoints, storedModel);
        return points is null || points == scoredBy ? scoredBy : Mixed;
    }

    /// <summary>The stored value, or for a row from before publishing existed, the version that last scored it.</summary>
    public static string? Of(string? storedPoints, string? storedModel) =>
        storedPoints ?? (string.IsNullOrEmpty(storedModel) ? null : storedModel);
}
