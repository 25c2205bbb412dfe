using System.Net;
using System.Net.Http.Json;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace LeadFunctions.Tests.Hosting;

/// <summary>
/// The whole local pipeline as <c>run.sh</c> runs it: capture over real HTTP, the WebJobs queue listener scoring the events,
/// and the WebJobs timer running <c>SendNurture</c>, which writes what it sends into the outbox folder.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LocalHostNurtureTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "leadfunctions-nurture-e2e-" + Guid.NewGuid().ToString("N"));

    private string Outbox => Path.Combine(_scratch, "outbox");

    [Fact]
    public async Task A_lead_whose_activity_makes_it_an_MQL_confirms_its_consent_through_the_emailed_link_and_then_receives_the_first_nurture_email()
    {
        // Arrange
        await using var host = await StartAsync();
        var email = AzuriteFixture.UniqueName("ada") + "@example.com";
        var programme = ShippedProgrammes().Programmes["mql-welcome"];
        var first = programme.Steps[0];
        Assert.Equal(TimeSpan.Zero, first.Delay);
        var nurtureSuffix = $"-{programme.Id}-{first.Id}";

        // Act 1: with the shipped model, the whitepaper form with consent gives 15 points and fit C (manager 15 + size 20),
        // two downloads of bottom-of-funnel content (by the content catalogue) 20 each: 55 >= the MQL bar of 50, below the
        // SQL bar of 100. The downloads are the visitor's; the form, sent with the same visitor id, makes them the lead's.
        // The ticked box is only a request (double opt-in), so what arrives first is the confirmation e-mail.
        var visitor = "visitor-" + Guid.NewGuid().ToString("N")[..12];
        await PostAsync(host, "/api/forms/whitepaper-lead-scoring", new Dictionary<string, object>
        {
            ["email"] = email, ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Analytical Engines",
            ["role"] = "marketing-manager", ["companySize"] = "51-200", ["consent"] = true, ["visitorId"] = visitor,
        });
        foreach (var content in new[] { "pricing-guide", "buyers-checklist" })
            await PostAsync(host, "/api/events", new Dictionary<string, object>
            {
                ["type"] = "content-download", ["visitorId"] = visitor, ["contentId"] = content,
            });
        var confirmation = await EventuallyAsync(() => OutboxMessageTo(email));

        // Assert 1: a confirmation, not a nurture e-mail, and its link opens a page with a button.
        Assert.NotNull(confirmation);
        Assert.DoesNotContain(nurtureSuffix, confirmation.MessageId ?? "", StringComparison.Ordinal);
        Assert.Equal("Ada, please confirm you want our e-mails", confirmation.Subject);
        var link = ConfirmationLink(confirmation.TextBody);
        using (var page = await host.Client.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<form method=\"post\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Act 2: press the button.
        using (var confirmed = await host.Client.PostAsync(link, new FormUrlEncodedContent(new Dictionary<string, string> { ["confirm"] = "yes" })))
            Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var message = await EventuallyAsync(() => OutboxMessageTo(email, nurtureSuffix));

        // Assert 2: the consent is granted, with the request and the confirmation on record, and the first nurture e-mail went.
        Assert.NotNull(message);
        var lead = await host.Services.GetRequiredService<ILeadDirectory>().FindAsync(TestLeadIds.LeadIdFor(email), CancellationToken.None);
        Assert.Contains(lead!.History, change => change.To == LifecycleStage.Mql);
        var consent = Assert.Single(lead.Lead.Consents);
        Assert.Equal(("form:whitepaper-lead-scoring", true, "confirmation-link"), (consent.Source, consent.Granted, consent.ConfirmedSource));
        Assert.Equal(email, Assert.Single(message.To.Mailboxes).Address);
        Assert.StartsWith("Ada, ", message.Subject, StringComparison.Ordinal);
        var unsubscribe = message.Headers[HeaderId.ListUnsubscribe] ?? "";
        Assert.StartsWith("<http://", unsubscribe, StringComparison.Ordinal);
        Assert.Contains("/api/unsubscribe?t=", unsubscribe, StringComparison.Ordinal);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
    }

    [Fact]
    public async Task A_demo_request_makes_an_SQL_whose_sales_alert_goes_to_the_routed_owner_in_the_outbox_folder()
    {
        // Arrange
        await using var host = await StartAsync();
        var email = AzuriteFixture.UniqueName("grace") + "@example.com";
        var routing = SalesRoutingReader.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "sales-routing.json")));

        // Act
        await PostAsync(host, "/api/forms/demo-request", new Dictionary<string, object>
        {
            ["email"] = email, ["firstName"] = "Grace", ["lastName"] = "Hopper", ["company"] = "Compilers Inc",
            ["role"] = "executive", ["companySize"] = "201-1000", ["consent"] = true,
        });
        var alert = await EventuallyAsync(() => OutboxMessageAbout("Grace Hopper"));

        // Assert
        Assert.NotNull(alert);
        var lead = await host.Services.GetRequiredService<ILeadDirectory>().FindAsync(TestLeadIds.LeadIdFor(email), CancellationToken.None);
        Assert.Equal(LifecycleStage.Sql, lead!.Lead.Stage);
        var owner = Assert.Single(alert.To.Mailboxes).Address;
        Assert.Contains(owner, routing.Route(lead.Lead).Owners);
        Assert.NotEqual(email, owner);
        Assert.Contains("/api/sales/accept?t=", alert.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("/api/sales/reject?t=", alert.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lead_who_clicks_the_guide_link_gets_the_clicked_branchs_email_in_the_outbox()
    {
        // Arrange: the shipped templates, a branch that waits fifteen seconds (time enough for the listener to apply the click) for a click on the welcome's guide link.
        Directory.CreateDirectory(_scratch);
        var programmes = Path.Combine(_scratch, "nurture.json");
        await File.WriteAllTextAsync(programmes, """
            { "version": "e2e-branch", "programmes": [ { "id": "fork", "version": "1", "priority": 1, "entry": { "on": ["mql"] }, "steps": [
              { "id": "welcome", "delay": "0", "subject": "Welcome {{ lead.firstName }}", "template": "nurture-welcome" },
              { "id": "read-guide", "branch": { "wait": "00:00:15", "click": "guide" }, "then": "clicked", "else": "not-clicked" },
              { "id": "clicked", "delay": "0", "subject": "You read the guide", "template": "nurture-case-study", "next": "end" },
              { "id": "not-clicked", "delay": "0", "subject": "You missed the guide", "template": "nurture-talk" } ] } ] }
            """);
        await using var host = await StartAsync(new Dictionary<string, string?>
        {
            ["Nurture:ProgrammesFile"] = programmes,
            ["Tracking:MinimumHumanDelaySeconds"] = "1",
        });
        var email = AzuriteFixture.UniqueName("branch") + "@example.com";
        var visitor = "visitor-" + Guid.NewGuid().ToString("N")[..12];
        await PostAsync(host, "/api/forms/whitepaper-lead-scoring", new Dictionary<string, object>
        {
            ["email"] = email, ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Analytical Engines",
            ["role"] = "marketing-manager", ["companySize"] = "51-200", ["consent"] = true, ["visitorId"] = visitor,
        });
        foreach (var content in new[] { "pricing-guide", "buyers-checklist" })
            await PostAsync(host, "/api/events", new Dictionary<string, object> { ["type"] = "content-download", ["visitorId"] = visitor, ["contentId"] = content });
        var confirmation = await EventuallyAsync(() => OutboxMessageTo(email));
        using (var confirmed = await host.Client.PostAsync(ConfirmationLink(confirmation!.TextBody), new FormUrlEncodedContent(new Dictionary<string, string> { ["confirm"] = "yes" })))
            Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var welcome = await EventuallyAsync(() => OutboxMessageTo(email, "-fork-welcome"));
        Assert.NotNull(welcome);

        // Act: the person follows the guide link from a browser, a couple of seconds after it arrived.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var click = System.Text.RegularExpressions.Regex.Match(welcome.HtmlBody ?? "", @"https?://[^""]+/api/track/click\?t=[^""]+");
        Assert.True(click.Success, "The welcome e-mail has no tracked link.");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(WebUtility.HtmlDecode(click.Value)).PathAndQuery, UriKind.Relative));
        request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15");
        using (var redirect = await host.Client.SendAsync(request))
            Assert.StartsWith("https://www.example.com/guides/getting-started", redirect.Headers.Location?.ToString(), StringComparison.Ordinal);
        var clicked = await EventuallyAsync(() => OutboxMessageTo(email, "-fork-clicked"));

        // Assert
        Assert.NotNull(clicked);
        Assert.Equal("You read the guide", clicked.Subject);
        Assert.Null(await OutboxMessageTo(email, "-fork-not-clicked"));
    }

    public void Dispose()
    {
        ScratchFolder.Delete(_scratch);
    }

    private async Task<RunningLocalHost> StartAsync(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
            ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
            ["Email:Folder:Path"] = Outbox,
            // Every two seconds (NCRONTAB with seconds), so the timer picks up what the listener scheduled.
            ["NurtureSchedule"] = "*/2 * * * * *",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            settings[key] = value;
        return await RunningLocalHost.StartAsync(azurite, triggers: true, settings);
    }

    private static NurtureCatalogue ShippedProgrammes() =>
        NurtureCatalogueReader.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "nurture.json")));

    private static async Task PostAsync(RunningLocalHost host, string path, Dictionary<string, object> body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private Task<MimeMessage?> OutboxMessageTo(string email, string? messageIdSuffix = null) =>
        Task.FromResult(OutboxMessages().FirstOrDefault(m => m.To.Mailboxes.Any(to => to.Address == email)
            && (messageIdSuffix is null || (m.MessageId ?? "").Split('@')[0].EndsWith(messageIdSuffix, StringComparison.Ordinal))));

    /// <summary>The path and query of the confirmation link (the e-mail names Tracking:BaseUrl; the test host runs on another port).</summary>
    private static Uri ConfirmationLink(string? textBody)
    {
        var match = System.Text.RegularExpressions.Regex.Match(textBody ?? "", @"https?://\S+/api/consent/confirm\?t=\S+");
        Assert.True(match.Success, "The confirmation e-mail has no confirmation link.");
        return new Uri(new Uri(match.Value).PathAndQuery, UriKind.Relative);
    }

    private Task<MimeMessage?> OutboxMessageAbout(string name) =>
        Task.FromResult(OutboxMessages().FirstOrDefault(m => m.Subject?.Contains(name, StringComparison.Ordinal) == true));

    private List<MimeMessage> OutboxMessages()
    {
        if (!Directory.Exists(Outbox))
            return [];
        // The sender writes a temporary file and renames it, so every *.eml here is complete.
        return Directory.GetFiles(Outbox, "*.eml").Select(file => MimeMessage.Load(file)).ToList();
    }

    /// <summary>Polls until the listener and the timer have done their work; the bound only stops a broken run from hanging.</summary>
    private static async Task<T?> EventuallyAsync<T>(Func<Task<T?>> probe) where T : class
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        while (true)
        {
            var value = await probe();
            if (value is not null || DateTimeOffset.UtcNow > deadline)
                return value;
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }
}
