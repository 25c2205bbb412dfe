using System.Text;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace LeadFunctions.Tests.Capture;

/// <summary>Floods of the anonymous capture endpoints, per client address and per e-mail address, through the functions.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CaptureRateLimitTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string EventsPath = "/api/events";
    private static readonly string FormPath = $"/api/forms/{DemoRequest.FormId}";
    private CaptureHarness _app = null!;

    public async Task InitializeAsync() => _app = await CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?>
    {
        ["RateLimit:Forms:PermitLimit"] = "3",
        ["RateLimit:Forms:WindowSeconds"] = "60",
        ["RateLimit:Events:PermitLimit"] = "2",
        ["RateLimit:Email:PermitLimit"] = "2",
        ["RateLimit:Email:WindowSeconds"] = "3600",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Action<HttpRequest> From(string forwardedFor) => r => r.Headers["X-Forwarded-For"] = forwardedFor;

    private Task<CapturedResponse> PostForm(string forwardedFor, string email, Action<HttpRequest>? also = null) =>
        _app.PostFormAsync(DemoRequest.FormId, _app.Json(FormPath, DemoRequest.Json(f => f["email"] = email), r =>
        {
            From(forwardedFor)(r);
            also?.Invoke(r);
        }));

    [Fact]
    public async Task A_client_over_the_form_limit_gets_429_with_retry_after_and_a_problem_and_nothing_is_enqueued()
    {
        // Arrange
        for (var i = 0; i < 3; i++)
            Assert.Equal(202, (await PostForm("203.0.113.7:50000", $"lead{i}@example.com")).Status);

        // Act
        var limited = await PostForm("203.0.113.7:50001", "lead9@example.com");
        var otherClient = await PostForm("198.51.100.2:40000", "lead10@example.com");

        // Assert
        Assert.Equal(429, limited.Status);
        Assert.StartsWith(CaptureResults.ProblemContentType, limited.ContentType, StringComparison.Ordinal);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.RateLimited, limited.ProblemType());
        Assert.Equal(429, limited.JsonBody().GetProperty("status").GetInt32());
        Assert.True(int.TryParse(limited.Headers.RetryAfter.ToString(), out var retryAfter) && retryAfter is > 0 and <= 60, limited.Headers.RetryAfter.ToString());
        Assert.Equal(202, otherClient.Status);
        var messages = await _app.MessagesAsync();
        Assert.Equal(4, messages.Count);
        Assert.DoesNotContain(messages, m => m.Email == "lead9@example.com");
    }

    [Fact]
    public async Task Addresses_a_client_puts_left_of_the_platforms_entry_in_x_forwarded_for_buy_no_new_budget()
    {
        // Arrange: the front end appends the address it saw; everything before it is the client's own claim.
        for (var i = 0; i < 3; i++)
            await PostForm($"10.0.0.{i}, 192.0.2.{i}, 203.0.113.7:5000{i}", $"lead{i}@example.com");

        // Act
        var response = await PostForm("10.9.9.9, 203.0.113.7:50009", "lead9@example.com");

        // Assert
        Assert.Equal(429, response.Status);
    }

    [Fact]
    public async Task A_browser_form_over_the_limit_gets_a_429_page_with_retry_after_not_the_error_url()
    {
        // Arrange
        for (var i = 0; i < 3; i++)
            await _app.PostFormAsync("whitepaper-lead-scoring", _app.Form("/api/forms/whitepaper-lead-scoring", [new("email", "ada@example.com")], From("203.0.113.7")));

        // Act
        var response = await _app.PostFormAsync("whitepaper-lead-scoring", _app.Form("/api/forms/whitepaper-lead-scoring", [new("email", "ada@example.com")], From("203.0.113.7")));

        // Assert
        Assert.Equal(429, response.Status);
        Assert.StartsWith("text/html", response.ContentType, StringComparison.Ordinal);
        Assert.Contains("Too many requests", response.Body, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(response.Headers.RetryAfter.ToString()));
        Assert.False(response.Headers.ContainsKey("Location"));
    }

    [Fact]
    public async Task One_e_mail_address_is_limited_whichever_clients_send_it_and_however_it_is_spelled()
    {
        // Arrange
        Assert.Equal(202, (await PostForm("203.0.113.1", "victim@example.com")).Status);
        Assert.Equal(202, (await PostForm("203.0.113.2", "Victim@EXAMPLE.com")).Status);

        // Act
        var third = await PostForm("203.0.113.3", " VICTIM@example.com ");
        var otherAddress = await PostForm("203.0.113.3", "someone.else@example.com");

        // Assert
        Assert.Equal(429, third.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.RateLimited, third.ProblemType());
        Assert.Equal(202, otherAddress.Status);
        Assert.Equal(3, (await _app.MessagesAsync()).Count);
    }

    [Fact]
    public async Task An_event_flood_from_one_client_gets_429_and_an_allowed_page_can_read_it()
    {
        // Arrange
        HttpContext PageView() => _app.Json(EventsPath, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/"}""", r =>
        {
            r.Headers.Origin = "https://www.example.com";
            r.Headers["X-Forwarded-For"] = "[2001:db8:1:2::7]:443";
        });
        await _app.PostEventAsync(PageView());
        await _app.PostEventAsync(PageView());

        // Act: another address in the same IPv6 /64 is the same subscriber.
        var response = await _app.PostEventAsync(PageView());
        var sameSubnet = await _app.PostEventAsync(_app.Json(EventsPath, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/"}""",
            r => r.Headers["X-Forwarded-For"] = "2001:db8:1:2:ffff::1"));

        // Assert
        Assert.Equal(429, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.RateLimited, response.ProblemType());
        Assert.Equal("https://www.example.com", response.Headers.AccessControlAllowOrigin.ToString());
        Assert.Contains("Retry-After", response.Headers.AccessControlExposeHeaders.ToString(), StringComparison.Ordinal);
        Assert.Equal(429, sameSubnet.Status);
        Assert.Equal(2, (await _app.MessagesAsync()).Count);
    }
}

/// <summary>Limits that are switched off, or configured wrong.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CaptureRateLimitSettingsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Limits_switched_off_let_a_flood_through()
    {
        // Arrange
        await using var app = await CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?>
        {
            ["RateLimit:Enabled"] = "false",
            ["RateLimit:Forms:PermitLimit"] = "1",
        });

        // Act
        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
            statuses.Add((await app.PostFormAsync(DemoRequest.FormId, app.Json($"/api/forms/{DemoRequest.FormId}", DemoRequest.Json()))).Status);

        // Assert
        Assert.Equal([202, 202, 202], statuses);
    }

    [Fact]
    public async Task An_invalid_limit_stops_the_app_at_start_naming_the_setting()
    {
        // Act
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?>
        {
            ["RateLimit:Forms:PermitLimit"] = "0",
            ["RateLimit:ForwardedForHops"] = "-1",
            ["RateLimit:MaxPartitions"] = "5",
        }));

        // Assert
        Assert.Contains("RateLimit:Forms:PermitLimit", error.Message, StringComparison.Ordinal);
        Assert.Contains("RateLimit:ForwardedForHops", error.Message, StringComparison.Ordinal);
        Assert.Contains("RateLimit:MaxPartitions", error.Message, StringComparison.Ordinal);
    }
}
