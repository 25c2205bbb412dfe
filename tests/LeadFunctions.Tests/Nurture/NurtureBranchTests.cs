using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// Several programmes, goals and branches through Azurite with the real processor: the click (or the visit) goes from the tracking
/// link through the queue and the processor, which records it in the lead's transaction; the branch reads it when it fires.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class NurtureBranchTests(AzuriteFixture azurite)
{
    private const string TwoBranches = """
        {
          "version": "it-branches",
          "programmes": [
            { "id": "fork", "version": "1", "priority": 1, "entry": { "on": ["mql", "requalified"] }, "steps": [
              { "id": "welcome", "delay": "0", "subject": "Welcome {{ lead.firstName }}", "template": "nurture-welcome" },
              { "id": "clicked-guide", "branch": { "wait": "3d", "click": "guide" }, "then": "case-study", "else": "talk" },
              { "id": "case-study", "delay": "0", "subject": "Clicked: the case study", "template": "nurture-case-study", "next": "end" },
              { "id": "talk", "delay": "0", "subject": "Not clicked: shall we talk?", "template": "nurture-talk" }
            ] }
          ]
        }
        """;

    private const string WithGoal = """
        {
          "version": "it-goal",
          "programmes": [
            { "id": "goal", "version": "1", "priority": 1, "entry": { "on": ["mql", "requalified"] },
              "exit": { "goals": [ { "visit": "*/pricing*" } ] }, "steps": [
              { "id": "welcome", "delay": "0", "subject": "Welcome {{ lead.firstName }}", "template": "nurture-welcome" },
              { "id": "case-study", "delay": "2d", "subject": "The case study", "template": "nurture-case-study" }
            ] }
          ]
        }
        """;

    private const string TakeOver = """
        {
          "version": "it-takeover",
          "programmes": [
            { "id": "general", "version": "1", "priority": 1, "entry": { "on": ["mql"] }, "steps": [
              { "id": "welcome", "delay": "0", "subject": "General welcome", "template": "nurture-welcome" },
              { "id": "case-study", "delay": "2d", "subject": "General case study", "template": "nurture-case-study" }
            ] },
            { "id": "software", "version": "1", "priority": 5, "entry": { "on": ["mql"], "profile": { "industry": ["software"] } }, "steps": [
              { "id": "dev-welcome", "delay": "0", "subject": "For software teams", "template": "nurture-talk" }
            ] }
          ]
        }
        """;

    [Fact]
    public async Task A_lead_who_clicks_the_named_link_goes_down_the_clicked_branch()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: TwoBranches, realLeads: true);
        var leadId = await MqlAsync(harness, "clicker@example.com");
        await harness.RunAsync();
        var welcome = Assert.Single(await harness.MessagesAsync());
        Assert.Equal("Welcome Dora", welcome.Subject);

        // Act: a day later the person follows the guide link; the click goes through the queue and the processor.
        harness.Time.Advance(TimeSpan.FromDays(1));
        await ClickAsync(harness, welcome.HtmlBody!, TrackingLinks.Browser);
        harness.Time.Advance(TimeSpan.FromDays(2));
        await harness.RunAsync(); // the branch fires and schedules the step it chose
        await harness.RunAsync();

        // Assert
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToHashSet();
        Assert.Equal(["Welcome Dora", "Clicked: the case study"], subjects);
        harness.Time.Advance(TimeSpan.FromDays(10));
        await harness.RunAsync();
        Assert.Equal(2, harness.EmlFiles().Length); // "next": "end": the other branch never comes
        Assert.NotNull(leadId);
    }

    [Fact]
    public async Task The_behaviour_a_branch_reads_and_the_enrolment_are_exported_and_erased_with_the_lead()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: TwoBranches, realLeads: true);
        var leadId = await MqlAsync(harness, "privacy.branch@example.com");
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        await ClickAsync(harness, (await harness.MessagesAsync())[0].HtmlBody!, TrackingLinks.Browser);

        // Act
        var export = await harness.Services.GetRequiredService<LeadFunctions.Infrastructure.Privacy.ILeadExporter>().ExportAsync(leadId, CancellationToken.None);
        await harness.Services.GetRequiredService<LeadFunctions.Infrastructure.Privacy.ILeadEraser>().EraseAsync(leadId, CancellationToken.None);
        var after = await harness.Services.GetRequiredService<LeadsTable>().Client
            .GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(leadId, "nb|fork|clicked-guide", cancellationToken: CancellationToken.None);

        // Assert
        var rows = export!["rows"]!.AsObject();
        Assert.Single(rows["nurtureBehaviour"]!.AsArray());
        Assert.Equal("fork", (string?)rows["nurtureEnrolment"]![0]!["properties"]!["Programme"]);
        Assert.False(after.HasValue);
    }

    [Fact]
    public async Task A_lead_who_does_not_click_goes_down_the_other_branch_and_a_scanners_click_does_not_count()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: TwoBranches, realLeads: true);
        await MqlAsync(harness, "quiet@example.com");
        await harness.RunAsync();
        var welcome = Assert.Single(await harness.MessagesAsync());

        // Act: only a security scanner follows the link (seconds after sending, with an HTTP library's user agent).
        await ClickAsync(harness, welcome.HtmlBody!, "python-requests/2.31");
        harness.Time.Advance(TimeSpan.FromDays(3));
        await harness.RunAsync();
        await harness.RunAsync();

        // Assert
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToHashSet();
        Assert.Equal(["Welcome Dora", "Not clicked: shall we talk?"], subjects);
    }

    [Fact]
    public async Task A_click_that_is_processed_after_the_wait_ended_still_steers_the_branch()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: TwoBranches, realLeads: true);
        await MqlAsync(harness, "late@example.com");
        await harness.RunAsync();
        var welcome = Assert.Single(await harness.MessagesAsync());

        // Act: the click is made inside the wait, but the queue only delivers it after the wait ended, before the timer looks.
        harness.Time.Advance(TimeSpan.FromDays(3) - TimeSpan.FromMinutes(5));
        var click = await ClickEventAsync(harness, welcome.HtmlBody!, TrackingLinks.Browser);
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        await harness.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(click, CancellationToken.None);
        await harness.RunAsync();
        await harness.RunAsync();

        // Assert
        Assert.Contains("Clicked: the case study", (await harness.MessagesAsync()).Select(m => m.Subject ?? ""));
    }

    [Fact]
    public async Task Reaching_the_goal_ends_the_programme_before_its_next_email()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: WithGoal, realLeads: true);
        var leadId = await MqlAsync(harness, "pricing@example.com");
        await harness.RunAsync();
        Assert.Single(harness.EmlFiles());

        // Act: the lead visits the pricing page (what the tracking snippet posts, applied by the processor).
        harness.Time.Advance(TimeSpan.FromHours(5));
        await harness.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(
            PageView(leadId, "pv-pricing-" + leadId, "https://www.example.com/pricing?plan=team", harness.Time.GetUtcNow()), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromDays(2));
        await harness.RunAsync();

        // Assert
        Assert.Single(harness.EmlFiles());
        harness.Time.Advance(TimeSpan.FromDays(10));
        Assert.Equal(0, (await harness.RunAsync()).Due);
    }

    [Fact]
    public async Task A_higher_priority_programme_that_comes_to_match_takes_the_lead_over_at_its_next_step()
    {
        // Arrange: an MQL with no industry enters the general programme.
        await using var harness = new NurtureHarness(azurite, programme: TakeOver);
        var lead = NurtureLeads.New("takeover@example.com", harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();
        Assert.Equal(["General welcome"], (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToArray());

        // Act: a later form tells us the lead works in software; the general programme's next step finds the better match.
        var mql = harness.Leads.Get(lead.LeadId);
        harness.Leads.Put(mql with { Profile = new Dictionary<string, string>(mql.Profile) { ["industry"] = "Software" } });
        harness.Time.Advance(TimeSpan.FromDays(2));
        await harness.RunAsync();
        await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromDays(5));
        await harness.RunAsync();

        // Assert: the software programme's e-mail, and never the general programme's second step.
        var subjects = (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToHashSet();
        Assert.Equal(["General welcome", "For software teams"], subjects);
    }

    [Fact]
    public async Task The_entry_filters_pick_the_programme_at_the_stage_change()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite, programme: TakeOver);
        var lead = NurtureLeads.New("dev@example.com", harness.Time.GetUtcNow(), ("industry", "SOFTWARE"));
        harness.Leads.Put(lead);

        // Act
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();

        // Assert
        Assert.Equal(["For software teams"], (await harness.MessagesAsync()).Select(m => m.Subject ?? "").ToArray());
    }

    /// <summary>
    /// A well-fitting lead (grade A) earns an MQL with the shipped model and stays one for the days a branch waits: a content form
    /// (15), a webinar form (20), a webinar registration (15) and ten page views (10) make 60, which decays to about 57 in three days.
    /// </summary>
    private static async Task<string> MqlAsync(NurtureHarness harness, string email)
    {
        var processor = harness.Services.GetRequiredService<LeadEventProcessor>();
        var leadId = TestLeadIds.LeadIdFor(email);
        var now = harness.Time.GetUtcNow();
        LeadEvent Form(string id, FormIntent intent) => new()
        {
            EventId = $"form-{id}-{leadId}",
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = now,
            Email = email,
            FormId = id,
            Intent = intent,
            Profile = new Dictionary<string, string>
            {
                ["firstName"] = "Dora", ["lastName"] = "Demo", ["country"] = "FR", ["role"] = "executive", ["companySize"] = "1001+", ["industry"] = "software",
            },
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, now, "form")],
        };
        await processor.ProcessAsync(Form("whitepaper-lead-scoring", FormIntent.ContentDownload), CancellationToken.None);
        await processor.ProcessAsync(Form("webinar-2025-autumn", FormIntent.EventRegistration), CancellationToken.None);
        await processor.ProcessAsync(new LeadEvent { EventId = "webinar-" + leadId, Type = LeadEventTypes.WebinarRegistration, OccurredAt = now, LeadId = leadId }, CancellationToken.None);
        for (var i = 0; i < 10; i++)
            await processor.ProcessAsync(PageView(leadId, $"pv-{i}-{leadId}", $"https://www.example.com/features/{i}", now), CancellationToken.None);
        var lead = (await harness.Services.GetRequiredService<ILeadDirectory>().FindSummaryAsync(leadId, CancellationToken.None))!;
        Assert.Equal(LifecycleStage.Mql, lead.Stage);
        Assert.Equal("whitepaper-lead-scoring", lead.OriginForm);
        return leadId;
    }

    private static LeadEvent PageView(string leadId, string eventId, string url, DateTimeOffset at) => new()
    {
        EventId = eventId,
        Type = LeadEventTypes.PageView,
        OccurredAt = at,
        LeadId = leadId,
        Properties = new Dictionary<string, string> { [LeadEventProperties.Url] = url },
    };

    /// <summary>Follows the first tracked link of the e-mail (the guide) and applies the click event it queues.</summary>
    private static async Task ClickAsync(NurtureHarness harness, string html, string userAgent)
    {
        var click = await ClickEventAsync(harness, html, userAgent);
        await harness.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(click, CancellationToken.None);
    }

    private static async Task<LeadEvent> ClickEventAsync(NurtureHarness harness, string html, string userAgent)
    {
        var token = WebUtility.UrlDecode(ClickToken().Match(WebUtility.HtmlDecode(html)).Groups[1].Value);
        Assert.NotNull(await harness.Tracker.RecordClickAsync(token, "GET", userAgent, CancellationToken.None));
        return Assert.Single(await harness.QueuedEventsAsync(LeadEventTypes.EmailClick));
    }

    [GeneratedRegex("""/api/track/click\?t=([^"&]+)""")]
    private static partial Regex ClickToken();
}
