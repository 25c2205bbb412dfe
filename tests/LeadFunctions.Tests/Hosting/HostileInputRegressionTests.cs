using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Domain.Webhooks;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Hosting;

/// <summary>
/// One test for each fault the hostile corpus found, over real HTTP on the local host (an admin signed in, the corpus's keys):
/// each answered 500 or a bare status before its fix.
/// </summary>
public sealed class HostileInputRegressionTests : IAsyncLifetime
{
    private static readonly byte[] NotUtf8 = [0x7B, 0x22, 0x65, 0x6D, 0x61, 0x69, 0x6C, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]; // {"email":"\xC3("}
    private readonly AzuritePorts _ports = AzuritePorts.Free();
    private readonly TrackingTokenSigner _signer = new(HostileCorpusTests.Secrets.TrackingSigningKey);
    private Process? _azurite;
    private RunningLocalHost _host = null!;

    public async Task InitializeAsync()
    {
        _azurite = AzuriteProcess.Start(_ports, "--inMemoryPersistence");
        await AzuriteProcess.WaitForPortAsync(_ports.Queue, TimeSpan.FromSeconds(30));
        await AzuriteProcess.WaitForPortAsync(_ports.Table, TimeSpan.FromSeconds(30));
        _host = await RunningLocalHost.StartAsync(_ports.ConnectionString, triggers: false, SignedIn.DevelopmentUser(settings: HostileCorpusTests.HostSettings()));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        if (_azurite is { HasExited: false })
        {
            _azurite.Kill(entireProcessTree: true);
            _azurite.WaitForExit(5000);
        }
        _azurite?.Dispose();
    }

    [Fact]
    public async Task A_one_click_unsubscribe_posted_in_utf7_is_a_400_page_not_a_500()
    {
        using var response = await PostAsync("/api/unsubscribe?t=" + Token(TrackingKind.Unsubscribe), "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded; charset=utf-7");

        await AssertPageAsync(response, 400);
    }

    [Fact]
    public async Task A_sales_rejection_posted_as_multipart_without_a_boundary_is_a_400_page_not_a_500()
    {
        using var response = await PostAsync("/api/sales/reject?t=" + Token(TrackingKind.Reject), "reason=x&toStage=mql", "multipart/form-data; boundary=");

        await AssertPageAsync(response, 400);
    }

    [Fact]
    public async Task A_signed_crm_event_that_is_not_utf8_is_a_400_problem_not_a_500()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/crm/events") { Content = Bytes(NotUtf8, "application/json") };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, WebhookSignature.Sign(Encoding.UTF8.GetBytes(HostileCorpusTests.Secrets.CrmWebhookSecret), DateTimeOffset.UtcNow, NotUtf8));

        using var response = await _host.Client.SendAsync(request);

        await AssertProblemAsync(response, 400);
    }

    [Fact]
    public async Task A_stage_change_with_a_lone_surrogate_in_its_reason_is_a_400_problem_naming_the_field()
    {
        using var response = await PostAsync("/api/leads/" + TestLeadIds.LeadIdFor("ada@example.com") + "/stage", """{"action":"reject","toStage":"mql","reason":"\ud800"}""", "application/json");

        var problem = await AssertProblemAsync(response, 400);
        Assert.Contains("reason", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_delivery_report_that_is_not_utf8_is_a_400_problem_not_a_500()
    {
        using var response = await _host.Client.PostAsync("/api/email/delivery-reports?secret=" + HostileCorpusTests.Secrets.DeliveryReportSecret, Bytes(NotUtf8, "application/json"));

        await AssertProblemAsync(response, 400);
    }

    [Fact]
    public async Task A_workspace_search_that_is_not_utf8_is_a_400_problem_not_a_500()
    {
        using var response = await _host.Client.PostAsync("/api/workspace/search", Bytes(NotUtf8, "application/json"));

        await AssertProblemAsync(response, 400);
    }

    [Fact]
    public async Task A_funnel_by_month_up_to_the_end_of_the_calendar_is_a_400_problem_not_a_500()
    {
        using var response = await _host.Client.GetAsync("/api/funnel?from=9999-12-01&to=9999-12-31&period=month");

        var problem = await AssertProblemAsync(response, 400);
        Assert.Contains("\"to\"", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/api/track/open?t=forged", 404)]
    [InlineData("GET", "/api/workspace/assets/..%2F..%2Fhost.json", 404)]
    [InlineData("POST", "/api/workspace/search", 404)]
    [InlineData("GET", "/api/leads?minScore=abc", 400)]
    [InlineData("GET", "/api/leads/not-a-lead?ledger=0", 400)]
    [InlineData("GET", "/api/funnel?to=2026-13-45", 400)]
    [InlineData("POST", "/api/email/delivery-reports?secret=wrong-secret-0123456789-0123456789-0123", 401)]
    [InlineData("OPTIONS", "/api/forms/newsletter", 403)]
    public async Task A_refusal_that_used_to_be_a_bare_status_or_untyped_problem_is_problem_details_with_type_title_and_status(string method, string url, int status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method == "POST")
            request.Content = new StringContent("""{"email":"nobody-at-all@example.com"}""", Encoding.UTF8, "application/json");
        if (method == "OPTIONS")
        {
            request.Headers.TryAddWithoutValidation("Origin", "https://evil.example.com");
            request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
        }

        using var response = await _host.Client.SendAsync(request);

        await AssertProblemAsync(response, status);
    }

    private string Token(TrackingKind kind)
    {
        var sentAt = DateTimeOffset.UtcNow.AddMinutes(-5);
        return Uri.EscapeDataString(_signer.Sign(new TrackingClaims
        {
            Kind = kind,
            LeadId = TestLeadIds.LeadIdFor("ada@example.com"),
            MessageId = "m-1",
            SentAtUnixSeconds = sentAt.ToUnixTimeSeconds(),
            Actor = kind is TrackingKind.Accept or TrackingKind.Reject ? "rep-1" : null,
            SqlAtTicks = kind is TrackingKind.Accept or TrackingKind.Reject ? sentAt.UtcTicks : null,
        }));
    }

    private Task<HttpResponseMessage> PostAsync(string url, string body, string contentType) =>
        _host.Client.PostAsync(url, Bytes(Encoding.UTF8.GetBytes(body), contentType));

    private static ByteArrayContent Bytes(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static async Task AssertPageAsync(HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<string> AssertProblemAsync(HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        using var problem = JsonDocument.Parse(text);
        Assert.StartsWith("urn:leadfunctions:problem:", problem.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("title").GetString()));
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        return text;
    }
}
