using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Nurture;

[Collection(AzuriteCollection.Name)]
public sealed class SalesAlertTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_new_sql_from_italy_is_routed_by_rule_with_an_explanation_and_signed_links()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("mario@example.it", harness.Time.GetUtcNow(), ("country", "IT"), ("firstName", "Mario"));
        harness.Leads.Put(lead, [new ScoreLedgerEntry("e1", "form-submission", "demo", "engagement", 60, harness.Time.GetUtcNow(), "it-1", 60, null)]);

        // Act
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();

        // Assert
        var alert = Assert.Single(await harness.MessagesAsync());
        Assert.Equal("milano@sales.example.com", Assert.Single(alert.To.Mailboxes).Address);
        Assert.StartsWith("New SQL: Mario Lovelace", alert.Subject, StringComparison.Ordinal);
        Assert.Contains("rule-italy", alert.TextBody, StringComparison.Ordinal);
        Assert.Contains("form-submission — rule demo: 60 pts", alert.TextBody, StringComparison.Ordinal);
        Assert.Contains("Respond by 2026-03-03 09:00 UTC", alert.TextBody, StringComparison.Ordinal);
        Assert.Contains("https://leads.contoso.example/api/sales/accept?t=", alert.TextBody, StringComparison.Ordinal);
        Assert.Contains("https://leads.contoso.example/api/sales/reject?t=", alert.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sqls_no_rule_matches_go_round_robin_in_turn()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        for (var i = 0; i < 4; i++)
        {
            var lead = NurtureLeads.New($"rr{i}@example.com", harness.Time.GetUtcNow(), ("country", "FR"));
            harness.Leads.Put(lead);
            await harness.MoveAsync(lead, LifecycleStage.Sql);
            // Act: one run per lead so the turns are handed out in a known order.
            await harness.RunAsync();
            harness.Time.Advance(TimeSpan.FromSeconds(1));
        }

        // Assert
        var owners = (await harness.MessagesAsync()).OrderBy(m => m.Date).Select(m => m.To.Mailboxes.Single().Address).ToArray();
        Assert.Equal(["rep1@sales.example.com", "rep2@sales.example.com", "rep3@sales.example.com", "rep1@sales.example.com"], owners);
    }

    [Fact]
    public async Task Nobody_acting_within_the_sla_escalates_once_and_records_the_breach()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("waiting@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        var sqlAt = harness.Time.GetUtcNow();
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();

        // Act
        harness.Time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        var beforeDeadline = harness.EmlFiles().Length;
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromHours(1));
        await harness.RunAsync();

        // Assert
        Assert.Equal(1, beforeDeadline);
        var messages = await harness.MessagesAsync();
        Assert.Equal(2, messages.Count);
        var escalation = Assert.Single(messages, m => m.To.Mailboxes.Single().Address == NurtureHarness.EscalationAddress);
        Assert.StartsWith("SLA missed", escalation.Subject, StringComparison.Ordinal);
        var sla = await harness.Services.GetRequiredService<NurtureStore>().FindSlaAsync(lead.LeadId, sqlAt.UtcTicks, CancellationToken.None);
        Assert.Equal(sqlAt.AddHours(24), sla?.BreachedAt);
        Assert.Equal(NurtureHarness.EscalationAddress, sla?.EscalatedTo);
    }

    [Fact]
    public async Task An_sql_accepted_within_the_sla_is_not_escalated()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("accepted@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();
        var alert = Assert.Single(await harness.MessagesAsync());
        var link = harness.Tracker.VerifySalesLink(TokenOf(alert.TextBody, "sales/accept"), TrackingKind.Accept);

        // Act: the rep accepts; the lead record has not caught up yet (the event is still queued).
        harness.Time.Advance(TimeSpan.FromHours(2));
        await harness.Tracker.DecideAsync(link!, SalesDecisions.Accept, null, null, CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromHours(23));
        var result = await harness.RunAsync();

        // Assert
        Assert.Single(harness.EmlFiles());
        Assert.Equal(1, result.Dropped);
    }

    [Fact]
    public async Task An_sql_that_was_sent_back_before_the_alert_went_out_gets_no_alert()
    {
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("bounced@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        harness.Leads.Put(harness.Leads.Get(lead.LeadId) with { Stage = LifecycleStage.Mql, StageChangedAt = harness.Time.GetUtcNow() });

        var result = await harness.RunAsync();

        Assert.Empty(harness.EmlFiles());
        Assert.Equal(1, result.Dropped);
    }

    internal static string TokenOf(string? body, string route)
    {
        var marker = $"/api/{route}?t=";
        var text = body ?? "";
        var start = text.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var end = text.IndexOfAny([' ', '\r', '\n', '"', '<'], start);
        return Uri.UnescapeDataString(text[start..(end < 0 ? text.Length : end)]);
    }
}
