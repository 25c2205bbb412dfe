using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.SalesAlerts;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace LeadFunctions.Tests.Nurture;

/// <summary>The whole loop with the real rescoring processor and lead directory: SQL → alert → reject → MQL → nurture.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SalesDecisionWithProcessorTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_demo_request_alerts_sales_and_a_rejection_sends_the_lead_back_to_mql_and_into_nurture()
    {
        // Arrange: a demo request with marketing consent makes an SQL straight away.
        await using var harness = new NurtureHarness(azurite, realLeads: true);
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var directory = harness.Services.GetRequiredService<ILeadDirectory>();
        var email = "demo.requester@example.com";
        var leadId = TestLeadIds.LeadIdFor(email);
        await processor.ProcessAsync(new LeadEvent
        {
            EventId = "form-1",
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = harness.Time.GetUtcNow(),
            Email = email,
            FormId = "demo",
            Intent = FormIntent.DemoRequest,
            Profile = new Dictionary<string, string> { ["firstName"] = "Dora", ["lastName"] = "Demo", ["country"] = "FR" },
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, harness.Time.GetUtcNow(), "demo form")],
        }, CancellationToken.None);
        Assert.Equal(LifecycleStage.Sql, (await directory.FindAsync(leadId, CancellationToken.None))!.Lead.Stage);

        // Act 1: the timer sends the alert.
        await harness.RunAsync();
        var alert = Assert.Single(await harness.MessagesAsync());
        Assert.StartsWith("New SQL: Dora Demo", alert.Subject, StringComparison.Ordinal);

        // Act 2: the rep rejects through the signed link; the queued decision is processed.
        harness.Time.Advance(TimeSpan.FromHours(1));
        var token = SalesAlertTests.TokenOf(alert.TextBody, "sales/reject");
        var function = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);
        await function.Reject(Post(token, new() { ["reason"] = "Wants a free plan only", ["toStage"] = "mql" }), CancellationToken.None);
        var decision = Assert.Single(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
        await processor.ProcessAsync(decision, CancellationToken.None);

        // Assert: back to MQL with the reason and the rep recorded, enrolled in nurture, and no SLA escalation later.
        var details = (await directory.FindAsync(leadId, CancellationToken.None))!;
        Assert.Equal(LifecycleStage.Mql, details.Lead.Stage);
        var change = details.History.OrderBy(h => h.At).Last();
        Assert.Contains("Wants a free plan only", change.Reason, StringComparison.Ordinal);
        Assert.Equal("rep1@sales.example.com", change.CausedBy);

        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromHours(30));
        await harness.RunAsync();
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToList();
        Assert.Contains("First for Dora", subjects);
        Assert.DoesNotContain(subjects, s => s.StartsWith("SLA missed", StringComparison.Ordinal));
    }

    private static HttpRequest Post(string token, Dictionary<string, StringValues> form)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/sales/reject";
        context.Request.QueryString = QueryString.Create("t", token);
        context.Request.ContentType = "application/x-www-form-urlencoded";
        context.Request.Form = new FormCollection(form);
        return context.Request;
    }
}
