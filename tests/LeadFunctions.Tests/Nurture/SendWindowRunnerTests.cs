using LeadFunctions.Domain.Leads;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Nurture;

/// <summary>Send windows through the real runner, outbox and due index in Azurite, on a fake clock.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SendWindowRunnerTests(AzuriteFixture azurite)
{
    private const string OfficeHours = """
        { "version": "w-1", "enrolOnMql": "office", "defaultTimeZone": "Europe/London", "programmes": [
          { "id": "office", "version": "1", "sendWindow": { "days": ["mon","tue","wed","thu","fri"], "hours": "09:00-17:00" }, "steps": [
            { "id": "a", "delay": "0", "subject": "A for {{ lead.firstName }}", "template": "nurture-welcome" },
            { "id": "b", "delay": "41h", "subject": "B for {{ lead.firstName }}", "template": "nurture-talk" } ] } ] }
        """;

    private static readonly DateTimeOffset SaturdayThreeAmInNewYork = new(2026, 3, 7, 3, 0, 0, TimeSpan.FromHours(-5));
    private static readonly DateTimeOffset MondayNineAmInNewYork = new(2026, 3, 9, 9, 0, 0, TimeSpan.FromHours(-4)); // after the spring-forward Sunday

    [Fact]
    public async Task A_step_due_at_three_on_saturday_morning_in_new_york_goes_out_at_nine_on_monday_new_york_time()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: OfficeHours);
        harness.Time.SetUtcNow(SaturdayThreeAmInNewYork);
        var lead = NurtureLeads.New("night@example.com", harness.Time.GetUtcNow(), ("timeZone", "America/New_York"));
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        // Act + Assert: held over the weekend, not a minute early, then sent at the opening.
        await harness.RunAsync();
        Assert.Empty(harness.EmlFiles());
        harness.Time.SetUtcNow(MondayNineAmInNewYork.AddMinutes(-1));
        var early = await harness.RunAsync();
        Assert.Equal((0, 0), (early.Due, harness.EmlFiles().Length));
        harness.Time.SetUtcNow(MondayNineAmInNewYork);
        await harness.RunAsync();
        var message = Assert.Single(await harness.MessagesAsync());
        Assert.Equal("A for Ada", message.Subject);
        Assert.Equal(MondayNineAmInNewYork, message.Date);
    }

    [Fact]
    public async Task A_step_held_for_its_window_still_counts_the_weekly_cap_when_the_window_opens()
    {
        // Arrange: a cap of one a week. Step a goes Thursday 10:00 New York time; b falls due Saturday 03:00.
        await using var harness = new NurtureHarness(azurite, maxPerWeek: 1, programme: OfficeHours);
        var thursday = new DateTimeOffset(2026, 3, 5, 10, 0, 0, TimeSpan.FromHours(-5));
        harness.Time.SetUtcNow(thursday);
        var lead = NurtureLeads.New("capped-window@example.com", harness.Time.GetUtcNow(), ("timeZone", "America/New_York"));
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());

        // Act + Assert: not on Saturday (window), not on Monday at the opening (cap), but when the week since a has passed.
        harness.Time.SetUtcNow(SaturdayThreeAmInNewYork);
        await harness.RunAsync();
        harness.Time.SetUtcNow(MondayNineAmInNewYork);
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());
        harness.Time.SetUtcNow(thursday.AddDays(7).AddMinutes(-1));
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());
        harness.Time.SetUtcNow(thursday.AddDays(7));
        await harness.RunAsync();
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject).Order(StringComparer.Ordinal);
        Assert.Equal(["A for Ada", "B for Ada"], subjects);
    }

    [Fact]
    public async Task A_lead_without_a_time_zone_or_known_country_is_held_to_the_files_default_zone()
    {
        // Arrange: 08:30 on a Monday in London (default zone) is before the window; 09:00 London opens it.
        await using var harness = new NurtureHarness(azurite, programme: OfficeHours);
        harness.Time.SetUtcNow(new DateTimeOffset(2026, 3, 9, 8, 30, 0, TimeSpan.Zero));
        var lead = NurtureLeads.New("london@example.com", harness.Time.GetUtcNow(), ("country", "Atlantis"));
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);

        // Act
        await harness.RunAsync();
        var before = harness.EmlFiles().Length;
        harness.Time.SetUtcNow(new DateTimeOffset(2026, 3, 9, 9, 0, 0, TimeSpan.Zero));
        await harness.RunAsync();

        // Assert
        Assert.Equal((0, 1), (before, harness.EmlFiles().Length));
    }

    [Fact]
    public async Task A_sales_alert_and_its_sla_reminder_at_night_are_never_held_by_a_marketing_window()
    {
        // Arrange: an SQL at 03:00 on a Saturday in New York, with a programme that sends only in office hours.
        await using var harness = new NurtureHarness(azurite, programme: OfficeHours);
        harness.Time.SetUtcNow(SaturdayThreeAmInNewYork);
        var lead = NurtureLeads.New("hot@example.com", harness.Time.GetUtcNow(), ("timeZone", "America/New_York"));
        harness.Leads.Put(lead);

        // Act
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();
        var atOnce = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToList();
        harness.Time.Advance(TimeSpan.FromMinutes(30));
        await harness.RunAsync();

        // Assert
        Assert.StartsWith("New SQL: Ada Lovelace", Assert.Single(atOnce), StringComparison.Ordinal);
        Assert.Contains(await harness.MessagesAsync(), m => (m.Subject ?? "").StartsWith("Reminder: Ada Lovelace", StringComparison.Ordinal));
    }
}
