using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Nurture;

[Collection(AzuriteCollection.Name)]
public sealed class NurtureProgrammeTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_three_step_programme_sends_each_email_at_its_time_and_nothing_in_between()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("ada@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);

        // Act + Assert: step one at enrolment.
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();
        Assert.Equal(["First for Ada"], (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToArray());

        // Nothing until two days after the first was sent.
        harness.Time.Advance(TimeSpan.FromDays(2) - TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        Assert.Equal(2, harness.EmlFiles().Length);

        // The third three days after the second.
        harness.Time.Advance(TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        Assert.Equal(2, harness.EmlFiles().Length);
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["First for Ada", "Second for Ada", "Third for Ada"], subjects);

        // And the programme is over: nothing more, however long we wait.
        harness.Time.Advance(TimeSpan.FromDays(30));
        var last = await harness.RunAsync();
        Assert.Equal(0, last.Due);
        Assert.Equal(3, harness.EmlFiles().Length);
    }

    [Fact]
    public async Task Every_nurture_email_carries_the_pixel_tracked_links_and_one_click_unsubscribe_headers()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("grace@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        // Act
        await harness.RunAsync();

        // Assert
        var message = Assert.Single(await harness.MessagesAsync());
        Assert.Equal("grace@example.com", Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.StartsWith("<https://leads.contoso.example/api/unsubscribe?t=", message.Headers["List-Unsubscribe"] ?? "", StringComparison.Ordinal);
        Assert.Contains("https://leads.contoso.example/api/track/open?t=", message.HtmlBody ?? "", StringComparison.Ordinal);
        Assert.Contains("https://leads.contoso.example/api/track/click?t=", message.HtmlBody ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"https://www.example.com/", message.HtmlBody ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lead_that_becomes_an_sql_gets_no_more_nurture()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("sql@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();

        // Act
        harness.Time.Advance(TimeSpan.FromDays(1));
        await harness.MoveAsync(harness.Leads.Get(lead.LeadId), LifecycleStage.Sql);
        harness.Time.Advance(TimeSpan.FromDays(10));
        await harness.RunAsync();

        // Assert: the one nurture e-mail and the sales alert, no second nurture step.
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToList();
        Assert.Single(subjects, s => s.StartsWith("First for", StringComparison.Ordinal));
        Assert.DoesNotContain(subjects, s => s.StartsWith("Second for", StringComparison.Ordinal));
        Assert.Contains(subjects, s => s.StartsWith("New SQL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unsubscribe_is_honoured_by_the_very_next_run_and_queued_as_an_event()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("bye@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();
        var message = Assert.Single(await harness.MessagesAsync());
        var unsubscribeUrl = (message.Headers["List-Unsubscribe"] ?? "").Trim('<', '>');
        var token = Uri.UnescapeDataString(unsubscribeUrl[(unsubscribeUrl.IndexOf("t=", StringComparison.Ordinal) + 2)..]);

        // Act: the lead record itself is unchanged (the event is still on the queue), only the suppression record exists.
        Assert.True(await harness.Tracker.UnsubscribeAsync(token, "one-click", CancellationToken.None));
        harness.Time.Advance(TimeSpan.FromDays(10));
        await harness.RunAsync();

        // Assert
        Assert.Single(harness.EmlFiles());
        var queued = Assert.Single(await harness.QueuedEventsAsync());
        Assert.Equal(LeadEventTypes.Unsubscribe, queued.Type);
        Assert.Equal(lead.LeadId, queued.LeadId);
    }

    [Fact]
    public async Task The_weekly_cap_holds_a_step_back_until_the_week_has_passed()
    {
        // Arrange: a cap of one a week and steps a day apart.
        const string daily = """
            { "version": "1", "enrolOnMql": "daily", "programmes": [ { "id": "daily", "version": "1", "steps": [
              { "id": "a", "delay": "0", "subject": "A", "template": "nurture-welcome" },
              { "id": "b", "delay": "1d", "subject": "B", "template": "nurture-talk" } ] } ] }
            """;
        await using var harness = new NurtureHarness(azurite, maxPerWeek: 1, programme: daily);
        var lead = NurtureLeads.New("capped@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();

        // Act + Assert
        harness.Time.Advance(TimeSpan.FromDays(1));
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());

        harness.Time.Advance(TimeSpan.FromDays(6) - TimeSpan.FromMinutes(1));
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());

        harness.Time.Advance(TimeSpan.FromMinutes(2));
        await harness.RunAsync();
        Assert.Equal(2, harness.EmlFiles().Length);
    }

    [Fact]
    public async Task A_lead_without_marketing_consent_is_never_nurtured()
    {
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("noconsent@example.com", harness.Time.GetUtcNow()) with { Consents = [] };
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        var result = await harness.RunAsync();

        Assert.Empty(harness.EmlFiles());
        Assert.Equal(1, result.Dropped);
    }

    [Fact]
    public async Task Enrolment_scheduled_for_a_change_that_is_never_committed_is_dropped_after_the_grace_period()
    {
        // Arrange: the observer is told, but the lead as stored stays a Lead (the processor's commit failed).
        await using var harness = new NurtureHarness(azurite);
        var lead = NurtureLeads.New("uncommitted@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.Observer.OnStageChangingAsync(lead with { Stage = LifecycleStage.Mql },
            new StageChange(harness.Time.GetUtcNow(), LifecycleStage.Lead, LifecycleStage.Mql, "t", "t", "it-1", null), CancellationToken.None);

        // Act
        var early = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(11));
        var late = await harness.RunAsync();

        // Assert
        Assert.Equal(1, early.Waiting);
        Assert.Equal(1, late.Dropped);
        Assert.Empty(harness.EmlFiles());
    }

    [Fact]
    public async Task The_due_query_reads_only_due_rows_however_many_leads_wait_for_later()
    {
        // Arrange: 30 leads enrolled, then all but one moved far into the future by their next step.
        await using var harness = new NurtureHarness(azurite);
        for (var i = 0; i < 30; i++)
        {
            var lead = NurtureLeads.New($"many{i}@example.com", harness.Time.GetUtcNow());
            harness.Leads.Put(lead);
            await harness.MoveAsync(lead, LifecycleStage.Mql);
        }
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var late = NurtureLeads.New("late@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(late);
        await harness.MoveAsync(late, LifecycleStage.Mql);

        // Act
        var result = await harness.RunAsync();

        // Assert: 30 second steps wait two days in the index, only the one new enrolment was read.
        Assert.Equal(1, result.Due);
        Assert.Equal(31, harness.EmlFiles().Length);
    }
}
