using LeadFunctions.Tests.Support;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Tests.Leads;

/// <summary>The keep rules and the size guard of the lead row, without storage.</summary>
public sealed class LeadRowBoundsTests
{
    private static readonly ScoringModel Model = ScoringModelLoader.Load(ScoringHarness.ModelJson);
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_string_property_of_the_lead_row_has_a_bound()
    {
        var unbounded = LeadRowBounds.StringProperties.Select(p => p.Name)
            .Where(n => !LeadRowBounds.Shrinkable.Contains(n) && !LeadRowBounds.BoundedAtSource.Contains(n))
            .ToList();

        Assert.Empty(unbounded);
    }

    [Fact]
    public void A_lead_state_grown_without_limit_is_written_within_table_storage_limits_keeping_the_newest_of_each_list()
    {
        // Arrange: every list far past anything a row can hold, in characters JSON escapes.
        var state = new LeadScoreState { LeadId = TestLeadIds.Identity.LeadIdFor("grown@example.com"), Email = "grown@example.com", Stage = LifecycleStage.Lead };
        for (var i = 0; i < 5000; i++)
            state.Consents.Add(new ConsentRecord(i % 3 == 0 ? "marketing-email" : "analytics", $"v{i}", i % 2 == 0, Now.AddMinutes(i), $"form:f{i}"));
        state.Consents.Add(new ConsentRecord("phone-calls", "old", true, Now.AddYears(-1), "form:old"));
        for (var i = 0; i < 2000; i++)
            state.LinkedVisitors.Add(TestLeadIds.Identity.VisitorKeyFor($"visitor-{i:D5}"));
        for (var i = 0; i < 300; i++)
            state.Profile[$"field{i:D3}"] = string.Concat(Enumerable.Repeat("é😀<", 2000));
        state.Profile["role"] = "CTO";
        for (var i = 0; i < 100; i++)
            state.Caps[$"retired-rule-{i}"] = new CapCounter(i, 5);
        state.Caps["pricing"] = new CapCounter(20000, 1);
        state.FitFactors.Add(new FitFactor("cto", "role", new string('x', 50_000), 50));

        // Act
        var entity = LeadRowBounds.ToEntity(state, Model, maxLinkedVisitors: 50, default);

        // Assert
        Assert.All(LeadRowBounds.StringProperties, p => Assert.True((((string?)p.GetValue(entity))?.Length ?? 0) < LeadRowBounds.MaxStringLength, p.Name));
        Assert.True(LeadRowBounds.EstimatedBytes(entity) <= LeadRowBounds.MaxEntityBytes);
        var kept = LeadMapping.ToState(entity);
        Assert.Equal(state.LinkedVisitors, kept.LinkedVisitors);
        Assert.Equal(Enumerable.Range(1950, 50).Select(i => TestLeadIds.Identity.VisitorKeyFor($"visitor-{i:D5}")), kept.LinkedVisitors);
        Assert.True(kept.Consents.Count <= LeadRowBounds.MaxConsents);
        Assert.Contains(kept.Consents, c => c.Source == "form:f4999");
        Assert.Contains(kept.Consents, c => c.Source == "form:f4998"); // the newest marketing-email one
        Assert.Contains(kept.Consents, c => c.Purpose == "phone-calls"); // the only one of its purpose, however old
        Assert.Equal(["pricing"], kept.Caps.Keys);
        Assert.Equal("CTO", kept.Profile["role"]);
    }

    [Fact]
    public void Notes_and_reasons_on_ledger_and_history_rows_are_bounded()
    {
        var change = new StageChange(Now, LifecycleStage.Sql, LifecycleStage.Lead, new string('r', 100_000), new string('c', 100_000), "it-1", "e1");

        var entity = LeadMapping.ToEntity(TestLeadIds.Identity.LeadIdFor("a@example.com"), change, "e1", 0);

        Assert.True(entity.Reason.Length <= LeadRowBounds.MaxNoteLength);
        Assert.True(entity.CausedBy.Length <= LeadRowBounds.MaxNoteLength);
    }
}
