using LeadFunctions.Domain.SalesAlerts;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class SlaLadderTests
{
    [Fact]
    public void The_shipped_ladder_reminds_at_15_minutes_escalates_at_an_hour_reroutes_at_four_and_breaches_at_a_day()
    {
        // Act
        var ladder = SlaLadder.Default;

        // Assert
        Assert.Equal(
            [("remind-15m", SlaStepKind.Remind, TimeSpan.FromMinutes(15)), ("escalate-1h", SlaStepKind.Escalate, TimeSpan.FromHours(1)),
             ("reroute-4h", SlaStepKind.Reroute, TimeSpan.FromHours(4)), ("breach-24h", SlaStepKind.Breach, TimeSpan.FromHours(24))],
            ladder.Steps.Select(s => (s.Id, s.Kind, s.After)));
        Assert.Equal(TimeSpan.FromHours(24), ladder.Deadline);
        Assert.Equal(TimeSpan.FromHours(1), ladder.RespondWithin);
    }

    [Fact]
    public void A_broken_ladder_names_every_bad_step()
    {
        // Arrange
        SlaStepSource[] steps =
        [
            new("first", "breach", "1h", null, null),
            new(null, "remind", "30m", "boss@example.com", null),
            new("first", "escalate", "2h", "not-an-address", null),
            new(null, "wait", "3h", null, null),
            new(null, "reroute", "never", null, null),
        ];

        // Act
        var error = Assert.Throws<SlaLadderException>(() => SlaLadder.Parse(steps, "SalesAlerts:Sla"));

        // Assert
        Assert.Contains("SalesAlerts:Sla:0 (first): the breach step must be the last step.", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("SalesAlerts:Sla:1 (remind-30m): After 30m must be later than the previous step's 1h", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("SalesAlerts:Sla:1 (remind-30m): To is only for escalate and breach steps", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("SalesAlerts:Sla:2 (first): Id is used by an earlier step", StringComparison.Ordinal));
        Assert.Contains("SalesAlerts:Sla:2 (first): To 'not-an-address' is not an e-mail address.", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("SalesAlerts:Sla:3: Kind 'wait'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("SalesAlerts:Sla:4 (reroute): After 'never'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("31d")]
    public void A_step_needs_a_delay_between_a_second_and_thirty_days(string after)
    {
        var error = Assert.Throws<SlaLadderException>(() => SlaLadder.Parse([new(null, "remind", after, null, null)], "SalesAlerts:Sla"));

        Assert.Contains(error.Errors, e => e.StartsWith("SalesAlerts:Sla:0 (remind): After", StringComparison.Ordinal));
    }

    [Fact]
    public void An_empty_ladder_is_refused()
    {
        var error = Assert.Throws<SlaLadderException>(() => SlaLadder.Parse([], "SalesAlerts:Sla"));

        Assert.Contains("SalesAlerts:Sla: give at least one step.", error.Errors);
    }
}
