using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Infrastructure.Stages;
using LeadFunctions.Leads;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using LeadFunctions.Tests.Workspace;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using static LeadFunctions.Tests.Stages.StageHarness;

namespace LeadFunctions.Tests.Stages;

/// <summary><c>POST /api/leads/{id}/stage</c> through the function, the real queue and the real processor in Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ChangeLeadStageTests(AzuriteFixture azurite)
{
    private static async Task<IActionResult> PostAsync(NurtureHarness harness, string leadId, object body)
    {
        var function = ActivatorUtilities.CreateInstance<ChangeLeadStage>(harness.Services, SignedIn.Access, SignedIn.NoAccessLog);
        return SignedIn.Unwrap(await function.Run(SignedIn.As(Post($"/api/leads/{leadId}/stage", Json(body)), "sales"), leadId, CancellationToken.None));
    }

    [Fact]
    public async Task Advancing_an_sql_to_opportunity_customer_and_evangelist_changes_its_history_each_time_with_the_actor()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "climber@example.com");

        // Act
        var ids = new List<string>();
        foreach (var to in new[] { "opportunity", "customer", "evangelist" })
        {
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            var result = await PostAsync(harness, leadId, new { action = "advance", toStage = to, reason = "step to " + to });
            Assert.Equal(202, StatusOf(result));
            ids.Add(Assert.IsType<StageChangeAccepted>(Assert.IsType<ObjectResult>(result).Value).EventId);
            await DrainAsync(harness);
        }

        // Assert
        var details = await LeadAsync(harness, leadId);
        Assert.Equal(LifecycleStage.Evangelist, details.Lead.Stage);
        var steps = details.History.Where(h => h.CausedBy == Principals.DanaName).OrderBy(h => h.At).ToList();
        Assert.Equal([LifecycleStage.Opportunity, LifecycleStage.Customer, LifecycleStage.Evangelist], steps.Select(s => s.To));
        Assert.Equal(ids, steps.Select(s => s.EventId));
        Assert.Equal("advanced by sales: step to customer", steps[1].Reason);
    }

    [Fact]
    public async Task Rejecting_an_sql_with_a_reason_sends_it_back_to_mql_and_records_the_reason()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "rejected@example.com");

        var result = await PostAsync(harness, leadId, new { action = "reject", toStage = "mql", reason = "student project" });
        var queued = Assert.Single(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
        await DrainAsync(harness);

        Assert.Equal(202, StatusOf(result));
        Assert.NotNull(queued.Property(LeadEventProperties.SqlEpisode)); // a stale screen cannot reject a later SQL
        var details = await LeadAsync(harness, leadId);
        Assert.Equal(LifecycleStage.Mql, details.Lead.Stage);
        Assert.Equal("rejected by sales: student project", details.History.OrderBy(h => h.At).Last().Reason);
    }

    [Fact]
    public async Task Recycling_an_opportunity_returns_it_to_lead_with_the_reason()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "recycled@example.com");
        await PostAsync(harness, leadId, new { action = "advance", toStage = "opportunity", reason = "scoping" });
        await DrainAsync(harness);
        harness.Time.Advance(TimeSpan.FromMinutes(1));

        var result = await PostAsync(harness, leadId, new { action = "recycle", toStage = "lead", reason = "budget frozen until Q3" });
        await DrainAsync(harness);

        Assert.Equal(202, StatusOf(result));
        var last = (await LeadAsync(harness, leadId)).History.OrderBy(h => h.At).Last();
        Assert.Equal((LifecycleStage.Opportunity, LifecycleStage.Lead, "recycled by sales: budget frozen until Q3"), (last.From, last.To, last.Reason));
    }

    [Fact]
    public async Task An_illegal_move_is_a_409_with_the_reason_and_nothing_is_queued()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "illegal@example.com");

        var result = await PostAsync(harness, leadId, new { action = "advance", toStage = "evangelist", reason = "skipping" });

        Assert.Equal(409, StatusOf(result));
        Assert.Contains("only a Customer can become an Evangelist; the lead is SQL", Problem(result).Detail, StringComparison.Ordinal);
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task An_unknown_lead_is_a_404_and_nothing_is_queued()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);

        var result = await PostAsync(harness, TestLeadIds.LeadIdFor("nobody@example.com"), new { action = "accept" });

        Assert.Equal(404, StatusOf(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Theory]
    [InlineData("""{"action":"promote","toStage":"customer","reason":"x"}""", "action")]
    [InlineData("""{"action":"advance","toStage":"mql","reason":"x"}""", "toStage")]
    [InlineData("""{"action":"reject","toStage":"lead"}""", "reason")]
    [InlineData("""{"action":"advance","toStage":"customer","reason":42}""", "reason")]
    [InlineData("""not json""", "body")]
    public async Task A_body_that_is_not_a_valid_request_is_a_400_naming_the_field(string body, string field)
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "badbody@example.com");
        var function = ActivatorUtilities.CreateInstance<ChangeLeadStage>(harness.Services, SignedIn.Access, SignedIn.NoAccessLog);

        var result = SignedIn.Unwrap(await function.Run(SignedIn.As(Post($"/api/leads/{leadId}/stage", body), "sales"), leadId, CancellationToken.None));

        Assert.Equal(400, StatusOf(result));
        Assert.Contains(field, ErrorFields(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_and_is_not_read()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "huge@example.com");

        var result = await PostAsync(harness, leadId, new { action = "advance", toStage = "customer", reason = new string('x', LeadStageService.MaxBodyBytes) });

        Assert.Equal(413, StatusOf(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task A_decision_raced_by_another_is_recorded_in_the_ledger_as_ignored_with_the_reason()
    {
        // Arrange: two people look at the same SQL; one advances it to Opportunity, the other, a moment later, straight to Customer.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "raced@example.com");
        var first = await PostAsync(harness, leadId, new { action = "advance", toStage = "customer", reason = "signed today" });
        var second = await PostAsync(harness, leadId, new { action = "advance", toStage = "opportunity", reason = "opening a deal" });
        Assert.Equal((202, 202), (StatusOf(first), StatusOf(second)));

        // Act: the processor applies them in order.
        await DrainAsync(harness);

        // Assert: the lead is a customer; the opportunity move is kept as ignored, with why.
        var details = await LeadAsync(harness, leadId);
        Assert.Equal(LifecycleStage.Customer, details.Lead.Stage);
        var ignored = Assert.Single(details.Ledger, l => l.RuleId == LifecycleMachine.IgnoredSalesDecisionRule);
        Assert.Contains("the lead is already Customer", ignored.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_move_asked_twice_from_the_same_stage_is_one_event()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "doubleclick@example.com");

        var once = await PostAsync(harness, leadId, new { action = "advance", toStage = "opportunity", reason = "first click" });
        var twice = await PostAsync(harness, leadId, new { action = "advance", toStage = "opportunity", reason = "second click" });
        await DrainAsync(harness);

        Assert.Equal(
            Assert.IsType<StageChangeAccepted>(Assert.IsType<ObjectResult>(once).Value).EventId,
            Assert.IsType<StageChangeAccepted>(Assert.IsType<ObjectResult>(twice).Value).EventId);
        Assert.Single((await LeadAsync(harness, leadId)).History, h => h.To == LifecycleStage.Opportunity);
    }

    [Fact]
    public async Task Accepting_an_sql_makes_the_actor_its_owner()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "accepted@example.com");

        Assert.Equal(202, StatusOf(await PostAsync(harness, leadId, new { action = "accept" })));
        await DrainAsync(harness);

        Assert.Equal(Principals.DanaName, (await LeadAsync(harness, leadId)).Lead.Owner);
    }

    [Fact]
    public async Task The_sales_alert_assigns_the_routed_rep_as_owner_through_the_processor()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "routed@example.com");
        Assert.Null((await LeadAsync(harness, leadId)).Lead.Owner);

        // Act: the timer sends the alert, which queues the assignment; the processor applies it.
        await harness.RunAsync();
        var assignment = Assert.Single(await harness.QueuedEventsAsync(LeadEventTypes.SalesAssignment));
        await DrainAsync(harness);

        // Assert
        var details = await LeadAsync(harness, leadId);
        Assert.Equal(assignment.Property(LeadEventProperties.Owner), details.Lead.Owner);
        Assert.EndsWith("@sales.example.com", details.Lead.Owner, StringComparison.Ordinal);
        var note = Assert.Single(details.Ledger, l => l.RuleId == LifecycleMachine.SalesAssignmentRule);
        Assert.Contains(details.Lead.Owner!, note.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_change_that_cannot_be_queued_is_a_503()
    {
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var leadId = await AnSqlAsync(harness, "noqueue@example.com");
        await harness.Queue.DeleteAsync();

        var result = await PostAsync(harness, leadId, new { action = "advance", toStage = "opportunity", reason = "queue gone" });

        Assert.Equal(503, StatusOf(result));
        Assert.Equal(LifecycleStage.Sql, (await LeadAsync(harness, leadId)).Lead.Stage);
    }
}
