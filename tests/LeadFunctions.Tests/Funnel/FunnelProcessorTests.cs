using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Funnel;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Lists;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Funnel;

/// <summary>The funnel kept by the real processor from events (forms, downloads, sales decisions), as the queue delivers them.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class FunnelProcessorTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Five leads fill in a form on Nov 2 at 09:00 (D as a CTO). At 10:00 A, B and C ask for a demo (SQL straight from Lead); D
    /// downloads two bottom-of-funnel pieces at 11:00 and 12:00 and becomes an MQL. Sales accept A at 10:30 and reject B back to
    /// MQL at 13:00; nobody acts on C. A is advanced to Opportunity on Nov 3 at 10:30 and to Customer on Nov 4 at 10:30.
    /// </summary>
    private static List<(DateTimeOffset At, LeadEvent Event)> History()
    {
        var events = new List<(DateTimeOffset, LeadEvent)>();
        foreach (var lead in "ABCDE")
            events.Add((Start, Events.Form(Email(lead), Start, profile: lead == 'D' ? new() { ["role"] = "CTO" } : null)));
        foreach (var lead in "ABC")
            events.Add((Start.AddHours(1), Events.Form(Email(lead), Start.AddHours(1), FormIntent.DemoRequest)));
        events.Add((Start.AddMinutes(90), Decision('A', Start.AddMinutes(90), "accept")));
        events.Add((Start.AddHours(2), Events.Download(Email('D'), Start.AddHours(2))));
        events.Add((Start.AddHours(3), Events.Download(Email('D'), Start.AddHours(3))));
        events.Add((Start.AddHours(4), Decision('B', Start.AddHours(4), "reject", "mql")));
        events.Add((Start.AddDays(1).AddMinutes(90), Decision('A', Start.AddDays(1).AddMinutes(90), "advance", "opportunity")));
        events.Add((Start.AddDays(2).AddMinutes(90), Decision('A', Start.AddDays(2).AddMinutes(90), "advance", "customer")));
        return events;
    }

    [Fact]
    public async Task Events_through_the_processor_give_every_number_of_the_report_and_a_redelivery_changes_none()
    {
        // Arrange
        var funnel = new FunnelHarness(azurite, now: Start.AddDays(3).AddHours(3));
        var processors = new ProcessorFactory(azurite, funnel.NewProjection());
        processors.Time.SetUtcNow(Start);
        var history = History();

        // Act
        foreach (var (at, e) in history)
        {
            processors.Time.SetUtcNow(at);
            await processors.New().ProcessAsync(e, CancellationToken.None);
        }
        var report = await funnel.ReportAsync("2026-11-02", "2026-11-06");
        foreach (var (_, e) in history)
            await processors.New().ProcessAsync(e, CancellationToken.None);
        var again = await funnel.ReportAsync("2026-11-02", "2026-11-06");

        // Assert
        Assert.Equal(LifecycleStage.Customer, (await new Infrastructure.Leads.TableLeadDirectory(processors.Table, processors.Model, processors.Time)
            .FindAsync(ScoringHarness.LeadIdOf(Email('A')), CancellationToken.None))!.Lead.Stage);
        var stages = report.Stages.ToDictionary(s => s.Stage);
        // Now: E a lead; B (rejected) and D MQLs; C an SQL; A a customer.
        Assert.Equal([0L, 1, 2, 1, 0, 1, 0], report.Stages.Select(s => s.Now));
        Assert.Equal([0L, 5, 2, 3, 1, 1, 0], report.Stages.Select(s => s.Entries));
        // 4 of 5 leads moved on (A, B, C skipping MQL; D); no MQL yet; A of three SQLs; the opportunity; not the customer.
        Assert.Equal(((double?)null, 0.8, 0.0, 0.3333, 1.0, 0.0, (double?)null),
            (stages["Subscriber"].ConversionToNext, stages["Lead"].ConversionToNext, stages["MQL"].ConversionToNext, stages["SQL"].ConversionToNext,
             stages["Opportunity"].ConversionToNext, stages["Customer"].ConversionToNext, stages["Evangelist"].ConversionToNext));
        // In Lead: 1, 1, 1 h (A, B, C) and 3 h (D): median 1 h -> 64 min = 1.07 h; p90 3 h -> 2^(30/4) min = 3.02 h.
        Assert.Equal((1.07, 3.02), (stages["Lead"].MedianHoursInStage, stages["Lead"].P90HoursInStage));
        // In SQL from entering it (not from A's accept): 3 h (B), 24.5 h (A): median 3.02 h; p90 24.5 h -> 2^(43/4) min = 28.7 h.
        Assert.Equal((3.02, 28.7), (stages["SQL"].MedianHoursInStage, stages["SQL"].P90HoursInStage));
        Assert.Equal((24.14, 24.14), (stages["Opportunity"].MedianHoursInStage, stages["Opportunity"].P90HoursInStage));
        Assert.Null(stages["MQL"].MedianHoursInStage);
        Assert.Null(stages["Customer"].P90HoursInStage);
        Assert.Equal(FunnelProjectionTests.Day(lead: 5, mql: 2, sql: 3), report.Periods[0].Entries);
        Assert.Equal(FunnelProjectionTests.Day(opportunity: 1), report.Periods[1].Entries);
        Assert.Equal(FunnelProjectionTests.Day(customer: 1), report.Periods[2].Entries);
        Assert.Equal(FunnelProjectionTests.Day(), report.Periods[3].Entries);
        // C has waited three days; A's accept (30 min -> 32 min) and B's reject (3 h -> 181 min) were first actions, A's advances not.
        Assert.Equal(new FunnelSlaView(1, 32.0, 181.0, 2), report.Sla);
        Assert.Equal(FunnelHarness.Json(report), FunnelHarness.Json(again));
    }

    [Fact]
    public async Task A_delivery_that_died_after_counting_is_finished_by_the_redelivery_without_counting_twice()
    {
        // Arrange: the counters commit, then the worker dies before the processor deletes the pending work.
        var funnel = new FunnelHarness(azurite, now: Start.AddDays(1));
        var dying = new DiesAfterCounting(funnel.NewProjection());
        var processors = new ProcessorFactory(azurite, dying);
        processors.Time.SetUtcNow(Start);
        var demo = Events.Form(Email('A'), Start, FormIntent.DemoRequest);
        await Assert.ThrowsAsync<InvalidOperationException>(() => processors.New().ProcessAsync(demo, CancellationToken.None));
        Assert.Single(processors.WorkRows(Email('A')));

        // Act: the queue delivers the event again.
        await processors.New().ProcessAsync(demo, CancellationToken.None);

        // Assert
        var report = await funnel.ReportAsync("2026-11-02", "2026-11-03");
        Assert.Equal(2, dying.Runs);
        Assert.Empty(processors.WorkRows(Email('A')));
        Assert.Equal([0L, 0, 0, 1, 0, 0, 0], report.Stages.Select(s => s.Now));
        Assert.Equal(1, report.Stages.Single(s => s.Stage == "SQL").Entries);
    }

    private sealed class DiesAfterCounting(Infrastructure.Leads.ILeadProjection inner) : Infrastructure.Leads.ILeadProjection
    {
        public int Runs { get; private set; }

        public async Task ProjectAsync(Infrastructure.Leads.LeadProjectionWork work, CancellationToken cancellationToken)
        {
            await inner.ProjectAsync(work, cancellationToken);
            if (++Runs == 1)
                throw new InvalidOperationException("The worker died after the counters committed.");
        }
    }

    private static string Email(char lead) => $"funnel-{lead}@example.com".ToLowerInvariant();

    private static LeadEvent Decision(char lead, DateTimeOffset at, string decision, string? toStage = null) => new()
    {
        EventId = Events.NewId(),
        Type = LeadEventTypes.SalesDecision,
        OccurredAt = at,
        LeadId = ScoringHarness.LeadIdOf(Email(lead)),
        Properties = new Dictionary<string, string>
        {
            [LeadEventProperties.Decision] = decision,
            [LeadEventProperties.ToStage] = toStage ?? "",
            [LeadEventProperties.Actor] = "rep@sales.example.com",
        },
    };
}
