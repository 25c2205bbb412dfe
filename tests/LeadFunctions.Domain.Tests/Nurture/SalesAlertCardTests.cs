using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.SalesAlerts;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class SalesAlertCardTests
{
    private static readonly DateTimeOffset SqlAt = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_card_lists_the_biggest_contributions_today_and_a_deadline_sla_hours_after_becoming_sql()
    {
        // Arrange
        var lead = TestLead.Mql().InStage(LifecycleStage.Sql, SqlAt).Build();
        ScoreLedgerEntry Entry(string id, string rule, double now) => new(id, "page-view", rule, "engagement", now * 2, SqlAt.AddDays(-1), "m1", now, null);
        var ledger = Enumerable.Range(1, 8).Select(i => Entry($"e{i}", $"r{i}", i)).Append(Entry("neg", "careers", -10)).ToList();
        var history = new List<StageChange> { new(SqlAt, LifecycleStage.Mql, LifecycleStage.Sql, "engagement 80 reached the SQL bar", "scoring", "m1", "e8") };

        // Act
        var card = SalesAlertCard.Build(new LeadDetails(lead, ledger, history), SqlAt, TimeSpan.FromHours(24), SqlAt.AddHours(6));

        // Assert
        Assert.Equal(["r8", "r7", "r6", "r5", "r4"], card.TopEvents.Select(e => e.RuleId).ToArray());
        Assert.Equal(SqlAt.AddHours(24), card.Deadline);
        Assert.Equal(TimeSpan.FromHours(18), card.TimeLeft);
        Assert.Equal("engagement 80 reached the SQL bar", card.Reason);
    }
}
