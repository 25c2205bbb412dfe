using System.Text;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Capture;

[Collection(AzuriteCollection.Name)]
public sealed class TrackEventTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Path = "/api/events";
    private CaptureHarness _app = null!;

    public async Task InitializeAsync() => _app = await CaptureHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_page_view_as_json_is_enqueued_with_its_url_and_visitor()
    {
        // Arrange
        var context = _app.Json(Path, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/pricing","referrer":"https://www.google.com/"}""",
            r => r.Headers.UserAgent = "Mozilla/5.0");

        // Act
        var response = await _app.PostEventAsync(context);

        // Assert
        Assert.Equal(202, response.Status);
        var message = Assert.Single(await _app.MessagesAsync());
        Assert.Equal(response.JsonBody().GetProperty("submissionId").GetString(), message.EventId);
        Assert.Equal((LeadEventTypes.PageView, "visitor-12345", "https://www.example.com/pricing"), (message.Type, message.VisitorId, message.Property(LeadEventProperties.Url)));
        Assert.Equal("https://www.google.com/", message.Context!.Referrer);
        Assert.Equal("Mozilla/5.0", message.Context.UserAgent);
    }

    [Fact]
    public async Task A_beacon_posted_as_a_url_encoded_form_gets_json_not_a_redirect()
    {
        // Arrange: navigator.sendBeacon with URLSearchParams.
        var context = _app.Request("POST", Path, "application/x-www-form-urlencoded;charset=UTF-8",
            Encoding.UTF8.GetBytes("type=content-download&email=Ada%40Example.com&funnelStage=bottom&contentId=pricing-guide"));

        // Act
        var response = await _app.PostEventAsync(context);

        // Assert
        Assert.Equal(202, response.Status);
        var message = Assert.Single(await _app.MessagesAsync());
        Assert.Equal(("ada@example.com", "bottom", "pricing-guide"),
            (message.Email, message.Property(LeadEventProperties.FunnelStage), message.Property(LeadEventProperties.ContentId)));
    }

    [Fact]
    public async Task A_multipart_add_to_cart_identified_by_cookie_is_enqueued()
    {
        // Arrange
        using var multipart = new MultipartFormDataContent { { new StringContent("add-to-cart"), "type" }, { new StringContent("sku-42"), "contentId" } };
        var context = _app.Request("POST", Path, multipart.Headers.ContentType!.ToString(), await multipart.ReadAsByteArrayAsync(),
            r => r.Headers.Cookie = "lf_vid=cookievisitor01");

        // Act
        var response = await _app.PostEventAsync(context);

        // Assert
        Assert.Equal(202, response.Status);
        Assert.Equal("cookievisitor01", Assert.Single(await _app.MessagesAsync()).VisitorId);
    }

    [Theory]
    [InlineData("""{"type":"email-open","visitorId":"visitor-12345"}""", "type")]
    [InlineData("""{"type":"page-view","visitorId":"visitor-12345"}""", "url")]
    [InlineData("""{"type":"content-download","visitorId":"visitor-12345","funnelStage":"lower"}""", "funnelStage")]
    [InlineData("""{"type":"add-to-cart"}""", "visitorId")]
    [InlineData("""{"type":"add-to-cart","email":"nope"}""", "email")]
    [InlineData("""{"type":"page-view","visitorId":"visitor-12345","url":{"href":"x"}}""", "url")]
    public async Task Invalid_activity_is_a_problem_naming_the_field_and_nothing_is_enqueued(string json, string field)
    {
        // Act
        var response = await _app.PostEventAsync(_app.Json(Path, json));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal([field], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_wrong_content_type_is_refused()
    {
        // Act
        var response = await _app.PostEventAsync(_app.Request("POST", Path, "text/plain", Encoding.UTF8.GetBytes("type=page-view")));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(CaptureProblemCodes.TypePrefix + CaptureProblemCodes.UnsupportedContentType, response.ProblemType());
    }

    [Fact]
    public async Task A_preflight_is_allowed_for_any_origin_a_form_allows_and_denied_for_others()
    {
        // Act
        var allowed = await _app.PostEventAsync(_app.Preflight(Path, "http://localhost:7071"));
        var denied = await _app.PostEventAsync(_app.Preflight(Path, "https://evil.example"));

        // Assert
        Assert.Equal(204, allowed.Status);
        Assert.Equal("http://localhost:7071", allowed.Headers.AccessControlAllowOrigin.ToString());
        Assert.Equal(403, denied.Status);
        Assert.False(denied.Headers.ContainsKey("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_configured_event_origin_list_replaces_the_forms_origins()
    {
        // Arrange
        await using var app = await CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Capture:EventOrigins:0"] = "https://shop.example.com" });

        // Act
        var shop = await app.PostEventAsync(app.Preflight(Path, "https://shop.example.com"));
        var formOrigin = await app.PostEventAsync(app.Preflight(Path, "https://www.example.com"));

        // Assert
        Assert.Equal(204, shop.Status);
        Assert.Equal(403, formOrigin.Status);
    }

    [Fact]
    public async Task The_same_idempotency_key_gives_the_same_event_id()
    {
        // Arrange
        const string body = """{"type":"webinar-registration","visitorId":"visitor-12345","campaign":"autumn"}""";

        // Act
        var first = await _app.PostEventAsync(_app.Json(Path, body, r => r.Headers["Idempotency-Key"] = "beacon-1"));
        var second = await _app.PostEventAsync(_app.Json(Path, body, r => r.Headers["Idempotency-Key"] = "beacon-1"));

        // Assert
        Assert.Equal(first.JsonBody().GetProperty("submissionId").GetString(), second.JsonBody().GetProperty("submissionId").GetString());
        var ids = (await _app.MessagesAsync()).Select(m => m.EventId).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Equal(first.JsonBody().GetProperty("submissionId").GetString(), Assert.Single(ids.Distinct()));
    }
}
