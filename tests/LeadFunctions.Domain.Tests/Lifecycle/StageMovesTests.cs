using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;

namespace LeadFunctions.Domain.Tests.Lifecycle;

/// <summary>Every stage move, legal or not, for a person and for the CRM: the table in <see cref="StageMoves"/>.</summary>
public sealed class StageMovesTests
{
    private const LifecycleStage Subscriber = LifecycleStage.Subscriber, Lead = LifecycleStage.Lead, Mql = LifecycleStage.Mql, Sql = LifecycleStage.Sql,
        Opportunity = LifecycleStage.Opportunity, Customer = LifecycleStage.Customer, Evangelist = LifecycleStage.Evangelist;

    /// <summary>The only legal moves: (from, action, to) for a person.</summary>
    private static readonly HashSet<(LifecycleStage From, string Action, LifecycleStage? To)> PersonMoves =
    [
        (Sql, StageActions.Accept, null), (Sql, StageActions.Accept, Sql),
        (Sql, StageActions.Reject, Mql), (Sql, StageActions.Reject, Lead),
        (Sql, StageActions.Recycle, Mql), (Sql, StageActions.Recycle, Lead),
        (Opportunity, StageActions.Recycle, Mql), (Opportunity, StageActions.Recycle, Lead),
        (Sql, StageActions.Advance, Opportunity),
        (Sql, StageActions.Advance, Customer), (Opportunity, StageActions.Advance, Customer),
        (Customer, StageActions.Advance, Evangelist),
    ];

    /// <summary>The only legal moves for the CRM, the system of record for deals.</summary>
    private static readonly HashSet<(LifecycleStage From, string Action, LifecycleStage? To)> CrmMoves =
    [
        (Sql, StageActions.Recycle, Mql), (Sql, StageActions.Recycle, Lead),
        (Opportunity, StageActions.Recycle, Mql), (Opportunity, StageActions.Recycle, Lead),
        (Subscriber, StageActions.Advance, Opportunity), (Lead, StageActions.Advance, Opportunity), (Mql, StageActions.Advance, Opportunity), (Sql, StageActions.Advance, Opportunity),
        (Subscriber, StageActions.Advance, Customer), (Lead, StageActions.Advance, Customer), (Mql, StageActions.Advance, Customer), (Sql, StageActions.Advance, Customer),
        (Opportunity, StageActions.Advance, Customer),
        (Customer, StageActions.Advance, Evangelist),
    ];

    public static TheoryData<LifecycleStage, string, LifecycleStage?, MoveAuthority> EveryMove()
    {
        var data = new TheoryData<LifecycleStage, string, LifecycleStage?, MoveAuthority>();
        foreach (var authority in Enum.GetValues<MoveAuthority>())
        {
            foreach (var from in Enum.GetValues<LifecycleStage>())
            {
                foreach (var action in StageActions.All)
                {
                    data.Add(from, action, null, authority);
                    foreach (var to in Enum.GetValues<LifecycleStage>())
                        data.Add(from, action, to, authority);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryMove))]
    public void A_move_is_legal_exactly_when_the_table_lists_it_and_an_illegal_one_says_why(LifecycleStage from, string action, LifecycleStage? to, MoveAuthority authority)
    {
        // Arrange
        var legal = (authority == MoveAuthority.Person ? PersonMoves : CrmMoves).Contains((from, action, to));

        // Act
        var reason = StageMoves.Check(from, action, to, authority);

        // Assert
        if (legal)
        {
            Assert.Null(reason);
        }
        else
        {
            Assert.NotNull(reason);
            Assert.False(string.IsNullOrWhiteSpace(reason));
        }
    }

    [Fact]
    public void A_lead_without_a_stage_is_judged_as_a_lead()
    {
        Assert.NotNull(StageMoves.Check(null, StageActions.Accept, null));
        Assert.Null(StageMoves.Check(null, StageActions.Advance, Customer, MoveAuthority.Crm));
    }

    [Fact]
    public void An_unknown_action_is_illegal_and_named()
    {
        var reason = StageMoves.Check(Sql, "promote", Opportunity);

        Assert.Contains("'promote'", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Customer, StageActions.Recycle, "unmake a customer")]
    [InlineData(Mql, StageActions.Accept, "only an SQL can be accepted; the lead is MQL")]
    [InlineData(Opportunity, StageActions.Reject, "only an SQL can be rejected")]
    [InlineData(Opportunity, StageActions.Advance, "already Opportunity")]
    public void The_reason_says_what_is_wrong_in_words_sales_use(LifecycleStage from, string action, string expected)
    {
        var to = action == StageActions.Recycle ? Mql : action == StageActions.Advance ? Opportunity : (LifecycleStage?)(action == StageActions.Reject ? Lead : null);

        Assert.Contains(expected, StageMoves.Check(from, action, to), StringComparison.Ordinal);
    }
}
