using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Leads;
using LeadFunctions.LocalHost;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace LeadFunctions.Tests.Hosting;

/// <summary>
/// Logs carry ids, never addresses or names: every line the local host's logging pipeline writes (with structured values,
/// scopes and exceptions) during a whole lead's life — capture, scoring, double opt-in, nurture, opens and clicks, a demo
/// request with phone and message, the sales alert and its acceptance, reading the lead, unsubscribing — is searched for them.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class PersonalDataInLogsTests(AzuriteFixture azurite) : IDisposable
{
    private const string FirstName = "Zebulon";
    private const string LastName = "Quixotic";
    private const string Company = "Unobtainium Srl";
    private const string Phone = "+39 333 1234567";
    private const string MessageText = "Please ring me about the perpendicular flux marmalade";

    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "leadfunctions-pii-logs-" + Guid.NewGuid().ToString("N"));

    private string Outbox => Path.Combine(_scratch, "outbox");
    private string LogFile => Path.Combine(_scratch, "host.log");

    [Fact]
    public async Task A_whole_lead_lifecycle_through_the_local_host_logs_no_address_name_phone_company_or_message()
    {
        // Arrange
        Directory.CreateDirectory(_scratch);
        var localPart = "zebulon.quixotic." + Guid.NewGuid().ToString("N")[..8];
        var email = localPart + "@unobtainium-mail.example";
        var leadId = TestLeadIds.LeadIdFor(email);
        var visitor = "visitor-" + Guid.NewGuid().ToString("N")[..12];

        await using (var host = await StartAsync())
        {
            // Act: capture (with a malformed attempt first), visitor activity, double opt-in, nurture, open and click.
            using (var malformed = await PostAsync(host, "/api/forms/demo-request", new() { ["email"] = email + "@", ["firstName"] = FirstName, ["lastName"] = LastName, ["company"] = Company, ["phone"] = Phone }))
                Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            await AcceptedAsync(host, "/api/forms/whitepaper-lead-scoring", new()
            {
                ["email"] = email, ["firstName"] = FirstName, ["lastName"] = LastName, ["company"] = Company,
                ["role"] = "marketing-manager", ["companySize"] = "51-200", ["consent"] = true, ["visitorId"] = visitor,
            });
            foreach (var content in new[] { "pricing-guide", "buyers-checklist" })
                await AcceptedAsync(host, "/api/events", new() { ["type"] = "content-download", ["visitorId"] = visitor, ["contentId"] = content });
            var confirmation = await EventuallyAsync(() => OutboxMessage(m => m.Subject?.Contains("confirm", StringComparison.OrdinalIgnoreCase) == true && IsTo(m, email)));
            var confirmLink = Link(confirmation!.TextBody, "consent/confirm");
            using (var confirmed = await host.Client.PostAsync(confirmLink, new FormUrlEncodedContent(new Dictionary<string, string> { ["confirm"] = "yes" })))
                Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
            var nurture = await EventuallyAsync(() => OutboxMessage(m => m != null && IsTo(m, email) && m.Headers[HeaderId.ListUnsubscribe] is not null && m.MessageId != confirmation.MessageId));
            using (await host.Client.GetAsync(Link(nurture!.HtmlBody, "track/open"))) { }
            using (await host.Client.GetAsync(Link(nurture.HtmlBody, "track/click"))) { }

            // Act: a demo request with phone and message makes an SQL; sales accept it from the alert.
            await AcceptedAsync(host, "/api/forms/demo-request", new()
            {
                ["email"] = email, ["firstName"] = FirstName, ["lastName"] = LastName, ["company"] = Company, ["role"] = "executive",
                ["companySize"] = "201-1000", ["phone"] = Phone, ["message"] = MessageText, ["consent"] = true,
            });
            var alert = await EventuallyAsync(() => OutboxMessage(m => m.Subject?.Contains(LastName, StringComparison.Ordinal) == true && !IsTo(m, email)));
            var accept = Link(alert!.HtmlBody, "sales/accept");
            using (await host.Client.GetAsync(accept)) { }
            using (await host.Client.PostAsync(accept, new FormUrlEncodedContent(new Dictionary<string, string> { ["decision"] = "accept" }))) { }

            // Act: read the lead (by id, and by address the way the API allows), then unsubscribe with one click.
            using (await host.Client.GetAsync(new Uri($"/api/leads/{leadId}", UriKind.Relative))) { }
            using (await host.Client.PostAsJsonAsync(new Uri("/api/leads/lookup", UriKind.Relative), new { email })) { }
            var unsubscribe = Link(nurture.Headers[HeaderId.ListUnsubscribe], "unsubscribe");
            using (var unsubscribed = await host.Client.PostAsync(unsubscribe, new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" })))
                Assert.True(unsubscribed.IsSuccessStatusCode);
            var directory = host.Services.GetRequiredService<ILeadDirectory>();
            var lead = await EventuallyAsync(async () => (await directory.FindAsync(leadId, CancellationToken.None)) is { Lead.Unsubscribed: true } l ? l : null);
            Assert.NotNull(lead);
        }

        // Assert: the log is the pipeline's (it names the lead by id), and holds none of what the lead told us.
        var log = await File.ReadAllTextAsync(LogFile);
        Assert.Contains(leadId, log, StringComparison.Ordinal);
        foreach (var secret in new[] { email, localPart, FirstName, LastName, Company, "Unobtainium", Phone, "1234567", MessageText, "flux marmalade", "unobtainium-mail" })
        {
            var found = log.IndexOf(secret, StringComparison.OrdinalIgnoreCase);
            Assert.True(found < 0, $"The log contains '{secret}': …{(found < 0 ? "" : log.Substring(Math.Max(0, found - 200), Math.Min(400, log.Length - Math.Max(0, found - 200))))}…");
        }
    }

    public void Dispose()
    {
        ScratchFolder.Delete(_scratch);
    }

    private Task<RunningLocalHost> StartAsync() => RunningLocalHost.StartAsync(azurite, triggers: true, new Dictionary<string, string?>
    {
        ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
        ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
        ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
        ["Email:Folder:Path"] = Outbox,
        ["NurtureSchedule"] = "*/2 * * * * *",
        [LocalHostApp.LogFileSetting] = LogFile,
    });

    private static async Task<HttpResponseMessage> PostAsync(RunningLocalHost host, string path, Dictionary<string, object> body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        request.Headers.Accept.ParseAdd("application/json");
        return await host.Client.SendAsync(request);
    }

    private static async Task AcceptedAsync(RunningLocalHost host, string path, Dictionary<string, object> body)
    {
        using var response = await PostAsync(host, path, body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static bool IsTo(MimeMessage message, string email) => message.To.Mailboxes.Any(to => to.Address == email);

    /// <summary>The path and query of the first link to <paramref name="route"/> (e-mails name Tracking:BaseUrl; the test host runs elsewhere).</summary>
    private static Uri Link(string? text, string route)
    {
        var match = Regex.Match(System.Net.WebUtility.HtmlDecode(text ?? ""), $@"https?://[^\s""'<>]+/api/{Regex.Escape(route)}\?t=[^\s""'<>]+");
        Assert.True(match.Success, $"No link to {route} in: {text}");
        return new Uri(new Uri(match.Value).PathAndQuery, UriKind.Relative);
    }

    private Task<MimeMessage?> OutboxMessage(Func<MimeMessage, bool> match) =>
        Task.FromResult(Directory.Exists(Outbox) ? Directory.GetFiles(Outbox, "*.eml").Select(f => MimeMessage.Load(f)).FirstOrDefault(match) : null);

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
