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
        Assert.Contains("Respond within 1h: the SLA ends 2026-03-03 09:00 UTC", alert.TextBody, StringComparison.Ordinal);
        Assert.Contains("If nobody acts: 15m remind · 1h escalate · 4h reroute · 24h breach.", alert.TextBody, StringComparison.Ordinal);
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
    public async Task Nobody_acting_walks_the_whole_sla_ladder_sending_each_step_once()
    {
        // Arrange: an SQL no rule matches goes to rep1; two timer runs at every moment, as overlapping runs would.
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("waiting@example.com", harness.Time.GetUtcNow(), ("country", "FR"));
        harness.Leads.Put(lead);
        var sqlAt = harness.Time.GetUtcNow();
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        var sent = new List<int>();
        async Task RunAtAsync(TimeSpan afterSql)
        {
            harness.Time.SetUtcNow(sqlAt + afterSql);
            await harness.RunAsync();
            await harness.RunAsync();
            sent.Add(harness.EmlFiles().Length);
        }

        // Act
        await RunAtAsync(TimeSpan.Zero);
        await RunAtAsync(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        await RunAtAsync(TimeSpan.FromMinutes(15));
        await RunAtAsync(TimeSpan.FromHours(1));
        await RunAtAsync(TimeSpan.FromHours(4));
        await RunAtAsync(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        await RunAtAsync(TimeSpan.FromHours(24));
        await RunAtAsync(TimeSpan.FromHours(48));

        // Assert: alert, reminder, escalation, re-route, breach; one each, in that order, to the right people.
        Assert.Equal([1, 1, 2, 3, 4, 4, 5, 5], sent);
        var messages = (await harness.MessagesAsync()).OrderBy(m => m.Date).ToList();
        Assert.Equal(
            ["rep1@sales.example.com", "rep1@sales.example.com", NurtureHarness.EscalationAddress, "rep2@sales.example.com", NurtureHarness.EscalationAddress],
            messages.Select(m => m.To.Mailboxes.Single().Address));
        Assert.StartsWith("New SQL: Ada Lovelace", messages[0].Subject, StringComparison.Ordinal);
        Assert.StartsWith("Reminder: Ada Lovelace", messages[1].Subject, StringComparison.Ordinal);
        Assert.StartsWith("Escalation: SQL", messages[2].Subject, StringComparison.Ordinal);
        Assert.StartsWith("Re-routed SQL: Ada Lovelace", messages[3].Subject, StringComparison.Ordinal);
        Assert.Contains("after rep1@sales.example.com did not answer", messages[3].TextBody, StringComparison.Ordinal);
        Assert.StartsWith("SLA missed", messages[4].Subject, StringComparison.Ordinal);
        var sla = await harness.Services.GetRequiredService<NurtureStore>().FindSlaAsync(lead.LeadId, sqlAt.UtcTicks, CancellationToken.None);
        Assert.Equal(sqlAt.AddMinutes(15), sla?.RemindedAt);
        Assert.Equal(sqlAt.AddHours(1), sla?.EscalatedAt);
        Assert.Equal((sqlAt.AddHours(4), "rep1@sales.example.com", "rep2@sales.example.com"), (sla?.ReroutedAt, sla?.ReroutedFrom, sla?.Owner));
        Assert.Equal(sqlAt.AddHours(24), sla?.BreachedAt);
        Assert.Equal(NurtureHarness.EscalationAddress, sla?.EscalatedTo);
    }

    [Fact]
    public async Task A_rep_who_accepts_after_the_reminder_stops_the_rest_of_the_ladder()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("accepts.late@example.com", harness.Time.GetUtcNow(), ("country", "FR"));
        harness.Leads.Put(lead);
        var sqlAt = harness.Time.GetUtcNow();
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(15));
        await harness.RunAsync();
        var reminder = Assert.Single(await harness.MessagesAsync(), m => (m.Subject ?? "").StartsWith("Reminder:", StringComparison.Ordinal));

        // Act: the rep accepts from the reminder's link, then a day goes by.
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        var link = harness.Tracker.VerifySalesLink(TokenOf(reminder.TextBody, "sales/accept"), TrackingKind.Accept);
        await harness.Tracker.DecideAsync(link!, SalesDecisions.Accept, null, null, CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromDays(1));
        var result = await harness.RunAsync();

        // Assert: no escalation, re-route or breach; the decision is the rep's.
        Assert.Equal(2, harness.EmlFiles().Length);
        Assert.Equal(3, result.Dropped);
        var sla = await harness.Services.GetRequiredService<NurtureStore>().FindSlaAsync(lead.LeadId, sqlAt.UtcTicks, CancellationToken.None);
        Assert.Equal(("accept", "rep1@sales.example.com"), (sla?.Decision, sla?.DecidedBy));
    }

    [Fact]
    public async Task A_manager_acting_from_the_escalation_is_recorded_as_the_actor_and_the_link_names_no_address()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("escalated@example.com", harness.Time.GetUtcNow(), ("country", "FR"));
        harness.Leads.Put(lead);
        var sqlAt = harness.Time.GetUtcNow();
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromHours(1));
        await harness.RunAsync();
        var escalation = Assert.Single(await harness.MessagesAsync(), m => m.To.Mailboxes.Single().Address == NurtureHarness.EscalationAddress);

        // Act
        var link = harness.Tracker.VerifySalesLink(TokenOf(escalation.TextBody, "sales/reject"), TrackingKind.Reject);
        await harness.Tracker.DecideAsync(link!, SalesDecisions.Reject, LifecycleStage.Mql, "Student project", CancellationToken.None);

        // Assert
        Assert.DoesNotContain("@", link!.Actor ?? "", StringComparison.Ordinal);
        var sla = await harness.Services.GetRequiredService<NurtureStore>().FindSlaAsync(lead.LeadId, sqlAt.UtcTicks, CancellationToken.None);
        Assert.Equal(NurtureHarness.EscalationAddress, sla?.DecidedBy);
        var decision = Assert.Single(await harness.QueuedEventsAsync(), e => e.Type == Domain.Events.LeadEventTypes.SalesDecision);
        Assert.Equal(NurtureHarness.EscalationAddress, decision.Property(Domain.Events.LeadEventProperties.Actor));
    }

    [Fact]
    public async Task The_alert_gives_the_rep_the_phone_message_form_and_page_and_a_reply_goes_to_the_lead()
    {
        // Arrange: a demo request with a phone number and a message, from a campaign page.
        await using var harness = new NurtureHarness(azurite);
        var now = harness.Time.GetUtcNow();
        var lead = NurtureLeads.New("ada?cc=attacker@example.org", now, ("phone", "+39 02 1234 5678"), ("message", "Can you call after 3pm?\nWe have 40 seats."));
        harness.Leads.Put(lead, [new ScoreLedgerEntry("form-42", "form-submission", "demo", "engagement", 60, now, "it-1", 60, null)]);
        harness.Leads.PutEvent(lead.LeadId, new Domain.Events.LeadEvent
        {
            EventId = "form-42",
            Type = Domain.Events.LeadEventTypes.FormSubmission,
            OccurredAt = now,
            FormId = "demo-request",
            Context = new Domain.Events.CaptureContext { LandingPageUrl = "https://www.example.com/pricing?utm_source=ads&x=<b>" },
        });

        // Act
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();

        // Assert
        var alert = Assert.Single(await harness.MessagesAsync());
        Assert.Contains("phone +39 02 1234 5678", alert.TextBody, StringComparison.Ordinal);
        Assert.Contains("Can you call after 3pm?", alert.TextBody, StringComparison.Ordinal);
        Assert.Contains("form demo-request on the page https://www.example.com/pricing?utm_source=ads&x=%3Cb%3E", alert.TextBody, StringComparison.Ordinal);
        Assert.Equal("ada?cc=attacker@example.org", Assert.Single(alert.ReplyTo.Mailboxes).Address);
        Assert.Contains("href=\"mailto:ada%3Fcc%3Dattacker%40example.org\"", alert.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("mailto:ada?cc", alert.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"https://www.example.com/pricing", alert.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Respond within 1h", alert.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_nurture_email_replies_to_the_configured_address()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("nurtured@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);

        // Act
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();

        // Assert
        var message = Assert.Single(await harness.MessagesAsync());
        Assert.Equal(NurtureHarness.ReplyToAddress, Assert.Single(message.ReplyTo.Mailboxes).Address);
    }

    [Fact]
    public async Task A_broken_sla_ladder_stops_the_start_naming_the_step()
    {
        // Arrange
        var settings = new Dictionary<string, string?>
        {
            ["SalesAlerts:Sla:0:Kind"] = "remind",
            ["SalesAlerts:Sla:0:After"] = "15m",
            ["SalesAlerts:Sla:1:Kind"] = "escalate",
            ["SalesAlerts:Sla:1:After"] = "soon",
            ["SalesAlerts:Sla:2:Kind"] = "nag",
            ["SalesAlerts:Sla:2:After"] = "2h",
        };

        // Act
        var error = await Record.ExceptionAsync(async () => await new NurtureHarness(azurite, settings: settings).DisposeAsync());

        // Assert
        var failures = error is AggregateException all ? all.Flatten().InnerExceptions : [error!];
        var message = string.Join(Environment.NewLine, failures.OfType<Microsoft.Extensions.Options.OptionsValidationException>().Select(f => f.Message));
        Assert.Contains("SalesAlerts:Sla:1 (escalate): After 'soon'", message, StringComparison.Ordinal);
        Assert.Contains("SalesAlerts:Sla:2: Kind 'nag'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_ladder_replaces_the_default_and_sends_its_own_steps()
    {
        // Arrange: only a breach, after 2 hours, to a named manager.
        var settings = new Dictionary<string, string?>
        {
            ["SalesAlerts:Sla:0:Kind"] = "breach",
            ["SalesAlerts:Sla:0:After"] = "2h",
            ["SalesAlerts:Sla:0:To"] = "vp@sales.example.com",
        };
        await using var harness = new NurtureHarness(azurite, settings: settings);
        var lead = NurtureLeads.New("custom.ladder@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();

        // Act
        harness.Time.Advance(TimeSpan.FromHours(2));
        await harness.RunAsync();

        // Assert
        var messages = await harness.MessagesAsync();
        Assert.Equal(2, messages.Count);
        Assert.Contains(messages, m => m.To.Mailboxes.Single().Address == "vp@sales.example.com" && (m.Subject ?? "").StartsWith("SLA missed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_sql_accepted_before_any_step_is_due_gets_no_reminder_escalation_or_breach()
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

        // Assert: the run finds all four rungs of the ladder due and drops each, because sales acted.
        Assert.Single(harness.EmlFiles());
        Assert.Equal(4, result.Dropped);
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
