using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Tests.Scoring;

/// <summary>Conversion by band at first qualification, its Wilson intervals, the suggested bar and drift warnings.</summary>
public sealed class CalibrationTests
{
    private static readonly DateTimeOffset AsOf = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly CalibrationSettings Settings = new([0, 20, 40, 60, 80], 90, AsOf);

    [Fact]
    public void A_hundred_leads_in_band_40_to_60_of_which_30_reached_sql_convert_at_0_30_with_the_wilson_interval()
    {
        // Arrange
        var leads = Cohort(100, sql: 30, score: 45, enteredAt: AsOf.AddDays(-200));

        // Act
        var band = Band(CalibrationCalculator.Calculate(leads, Settings), "40-60");

        // Assert: the interval worked out here from the formula, independently of the code under test.
        const double z = 1.96, n = 100, p = 0.3;
        var centre = (p + z * z / (2 * n)) / (1 + z * z / n);
        var half = z / (1 + z * z / n) * Math.Sqrt(p * (1 - p) / n + z * z / (4 * n * n));
        Assert.Equal(100, band.Leads);
        Assert.Equal(30, band.Sql.Count);
        Assert.Equal(0.30, band.Sql.Rate!.Value, 3);
        Assert.Equal(centre - half, band.Sql.Low!.Value, 3);
        Assert.Equal(centre + half, band.Sql.High!.Value, 3);
        Assert.Equal(0.219, band.Sql.Low!.Value, 3);
        Assert.Equal(0.396, band.Sql.High!.Value, 3);
    }

    [Fact]
    public void A_band_without_leads_has_counts_of_zero_and_no_rate()
    {
        var band = Band(CalibrationCalculator.Calculate([], Settings), "0-20");

        Assert.Equal(0, band.Leads);
        Assert.Null(band.Sql.Rate);
        Assert.Null(band.Sql.Low);
    }

    [Fact]
    public void A_lead_that_went_straight_to_sql_counts_in_its_band_but_not_in_the_mql_to_sql_rate()
    {
        // Arrange
        var leads = new[]
        {
            Lead("a", 70, LifecycleStage.Sql, AsOf.AddDays(-10), sqlAt: AsOf.AddDays(-10), opportunityAt: AsOf.AddDays(-5)),
            Lead("b", 70, LifecycleStage.Mql, AsOf.AddDays(-10)),
        };

        // Act
        var band = Band(CalibrationCalculator.Calculate(leads, Settings), "60-80");

        // Assert
        Assert.Equal(2, band.Leads);
        Assert.Equal(1, band.EnteredAtSql);
        Assert.Equal(new Conversion(0, 1, 0, 0, band.Sql.High), band.Sql);
        Assert.Equal(1, band.Opportunity.Count);
        Assert.Equal(2, band.Opportunity.Of);
    }

    [Fact]
    public void A_threshold_is_suggested_only_where_the_bands_have_enough_leads_converting_above_the_target()
    {
        // Arrange: 20-40 converts poorly, 40-60 and 60-80 well, 80+ has too few leads to judge.
        var leads = Cohort(100, sql: 5, score: 25, enteredAt: AsOf.AddDays(-200), prefix: "low")
            .Concat(Cohort(100, sql: 40, score: 50, enteredAt: AsOf.AddDays(-200), prefix: "mid"))
            .Concat(Cohort(60, sql: 40, score: 70, enteredAt: AsOf.AddDays(-200), prefix: "high"))
            .Concat(Cohort(5, sql: 0, score: 90, enteredAt: AsOf.AddDays(-200), prefix: "top"));

        // Act
        var suggestion = CalibrationCalculator.Calculate(leads, Settings).Suggestion;

        // Assert
        Assert.Equal(40, suggestion.MqlBar);
        Assert.Equal("40-60", suggestion.Band);
    }

    [Fact]
    public void Too_few_leads_give_no_threshold_but_say_there_is_not_enough_data()
    {
        var suggestion = CalibrationCalculator.Calculate(Cohort(20, sql: 20, score: 50, enteredAt: AsOf.AddDays(-200)), Settings).Suggestion;

        Assert.Null(suggestion.MqlBar);
        Assert.StartsWith("not enough data", suggestion.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recent_window_converting_far_below_the_bands_history_gives_a_drift_warning()
    {
        // Arrange: 40% historically (100 leads), 5% of the 40 that qualified in the last 90 days.
        var leads = Cohort(100, sql: 40, score: 50, enteredAt: AsOf.AddDays(-300), prefix: "old")
            .Concat(Cohort(40, sql: 2, score: 50, enteredAt: AsOf.AddDays(-30), prefix: "new"));

        // Act
        var report = CalibrationCalculator.Calculate(leads, Settings);

        // Assert
        var warning = Assert.Single(report.Drift);
        Assert.Equal("40-60", warning.Band);
        Assert.Equal(0.05, warning.Recent.Rate!.Value, 3);
        Assert.Equal(0.4, warning.Historical.Rate!.Value, 3);
        Assert.Contains("below", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recent_window_converting_like_its_history_gives_no_drift_warning()
    {
        var leads = Cohort(100, sql: 40, score: 50, enteredAt: AsOf.AddDays(-300), prefix: "old")
            .Concat(Cohort(40, sql: 16, score: 50, enteredAt: AsOf.AddDays(-30), prefix: "new"));

        Assert.Empty(CalibrationCalculator.Calculate(leads, Settings).Drift);
    }

    [Fact]
    public void The_same_leads_in_any_order_give_the_same_report_and_text()
    {
        // Arrange
        var leads = Cohort(50, sql: 10, score: 30, enteredAt: AsOf.AddDays(-100), prefix: "x", grade: "B")
            .Concat(Cohort(50, sql: 30, score: 65, enteredAt: AsOf.AddDays(-20), prefix: "y", grade: "A")).ToList();
        var reversed = Enumerable.Reverse(leads).ToList();

        // Act
        var one = CalibrationCalculator.Calculate(leads, Settings);
        var other = CalibrationCalculator.Calculate(reversed, Settings);

        // Assert
        Assert.Equal(CalibrationText.Render(one), CalibrationText.Render(other));
        Assert.Equal(["A", "B"], one.Grades.Select(g => g.Label));
        Assert.Equal(one.Bands, other.Bands);
    }

    [Fact]
    public void A_negative_score_counts_in_the_lowest_band_and_the_last_band_is_open_ended()
    {
        var report = CalibrationCalculator.Calculate([Lead("n", -5, LifecycleStage.Mql, AsOf.AddDays(-1)), Lead("t", 500, LifecycleStage.Mql, AsOf.AddDays(-1))], Settings);

        Assert.Equal(1, Band(report, "0-20").Leads);
        Assert.Equal(1, Band(report, "80+").Leads);
        Assert.Null(Band(report, "80+").MaxScore);
    }

    [Theory]
    [InlineData("0,20,abc", "numbers")]
    [InlineData("0,40,20", "ascending")]
    [InlineData("0,20,NaN", "numbers")]
    public void Bad_band_edges_are_refused_with_a_reason(string text, string reason)
    {
        Assert.Null(CalibrationSettings.ParseBands(text, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    private static CalibrationRow Band(CalibrationReport report, string label) => Assert.Single(report.Bands, b => b.Label == label);

    private static IEnumerable<CalibrationLead> Cohort(int count, int sql, double score, DateTimeOffset enteredAt, string prefix = "l", string grade = "B") =>
        Enumerable.Range(0, count).Select(i => Lead($"{prefix}{i}", score, LifecycleStage.Mql, enteredAt, grade: grade, sqlAt: i < sql ? enteredAt.AddDays(3) : null));

    private static CalibrationLead Lead(string id, double score, LifecycleStage enteredAs, DateTimeOffset enteredAt, string grade = "B",
        DateTimeOffset? sqlAt = null, DateTimeOffset? opportunityAt = null) =>
        new(id, enteredAt, enteredAs, score, grade, CalibrationScoreSource.Qualification, false, sqlAt, opportunityAt, null);
}
