using System.Text;
using LeadFunctions.Domain;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Tests.Leads;
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
        // Arrange: navigator.sendBeacon with URLSearchParams, as track.js sends a download.
        var context = _app.Request("POST", Path, "application/x-www-form-urlencoded;charset=UTF-8",
            Encoding.UTF8.GetBytes("type=content-download&visitorId=visitor-12345&contentId=pricing-guide"));

        // Act
        var response = await _app.PostEventAsync(context);

        // Assert: what the download is comes from the shipped content catalogue.
        Assert.Equal(202, response.Status);
        var message = Assert.Single(await _app.MessagesAsync());
        Assert.Equal(("visitor-12345", null as string, "pricing-guide", "bottom", "Pricing guide"),
            (message.VisitorId, message.Email, message.Property(LeadEventProperties.ContentId), message.Property(LeadEventProperties.FunnelStage), message.Property(LeadEventProperties.Title)));
    }

    [Fact]
    public async Task A_page_view_of_a_catalogued_page_carries_the_catalogues_content_whatever_the_page_claims()
    {
        // Arrange
        var context = _app.Json(Path, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/blog/lead-scoring-basics","funnelStage":"bottom","contentId":"pricing-guide"}""");

        // Act
        var response = await _app.PostEventAsync(context);

        // Assert
        Assert.Equal(202, response.Status);
        var message = Assert.Single(await _app.MessagesAsync());
        Assert.Equal(("lead-scoring-basics", "top"), (message.Property(LeadEventProperties.ContentId), message.Property(LeadEventProperties.FunnelStage)));
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
    [InlineData("""{"type":"content-download","visitorId":"visitor-12345","funnelStage":"bottom"}""", "contentId")]
    [InlineData("""{"type":"content-download","visitorId":"visitor-12345","contentId":"not-in-the-catalogue"}""", "contentId")]
    [InlineData("""{"type":"add-to-cart"}""", "visitorId")]
    [InlineData("""{"type":"add-to-cart","visitorId":"visitor-12345","email":"ada@example.com"}""", "email")]
    [InlineData("""{"type":"add-to-cart","visitorId":"visitor-12345","leadId":"l0123456789"}""", "leadId")]
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

    [Theory]
    [InlineData("""{"type":"model-rescore","visitorId":"visitor-12345"}""")]
    [InlineData("""{"type":"model-rescore","visitorId":"visitor-12345","modelVersion":"evil-1","rescoreJob":"20260101000000abcdef12"}""")]
    public async Task A_model_rescore_posted_from_the_internet_is_refused_naming_the_type_and_nothing_is_enqueued(string json)
    {
        // Act: only the re-score job may create this event type.
        var response = await _app.PostEventAsync(_app.Json(Path, json));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(["type"], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_form_post_claiming_to_be_a_model_rescore_is_enqueued_as_the_form_submission_it_is()
    {
        // Arrange: a hostile page adds the system type and its properties as form fields.
        var fields = DemoRequest.Fields();
        fields["type"] = LeadEventTypes.ModelRescore;
        fields["modelVersion"] = "evil-1";
        var context = _app.Form("/api/forms/" + DemoRequest.FormId, fields);

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(303, response.Status);
        var message = Assert.Single(await _app.MessagesAsync());
        Assert.Equal(LeadEventTypes.FormSubmission, message.Type);
        Assert.Null(message.Property(Domain.Scoring.LeadRescore.TargetVersionProperty));
    }

    [Fact]
    public async Task Eight_download_beacons_naming_a_strangers_email_are_refused_and_their_lead_gains_no_points()
    {
        // Arrange: the stranger is a real lead (whitepaper form: 15 points, fit B as an executive at a 51-200 company),
        // scored by the real processor with the shipped model.
        var scoring = new ScoringHarness(azurite, ScoringHarness.ShippedModelJson());
        scoring.Time.SetUtcNow(CaptureHarness.Now);
        var stranger = AzuriteFixture.UniqueName("stranger") + "@example.com";
        var form = await _app.PostFormAsync("whitepaper-lead-scoring", _app.Json("/api/forms/whitepaper-lead-scoring",
            $$"""{"email":"{{stranger}}","firstName":"Stella","lastName":"Stranger","company":"Elsewhere Ltd","role":"executive","companySize":"51-200"}"""));
        Assert.Equal(202, form.Status);
        await scoring.ProcessAsync(await _app.MessagesAsync());
        var before = await scoring.LeadAsync(stranger);
        Assert.Equal((15.0, LifecycleStage.Lead), (before.Lead.EngagementScore, before.Lead.Stage));

        // Act: the attack. Each beacon names the stranger and claims the bottom of the funnel (20 points each with the shipped
        // model: eight of them were +160, an SQL and a sales alert for someone who never came to the site).
        var responses = new List<CapturedResponse>();
        for (var i = 0; i < 8; i++)
        {
            var body = $"type=content-download&email={Uri.EscapeDataString(stranger)}&funnelStage=bottom&contentId=pricing-guide&visitorId=attacker-0001";
            responses.Add(await _app.PostEventAsync(_app.Request("POST", Path, "application/x-www-form-urlencoded", Encoding.UTF8.GetBytes(body))));
        }
        var queued = await _app.MessagesAsync();
        await scoring.ProcessAsync(queued);

        // Assert: every beacon is a 400 naming the field, nothing reached the queue, and the lead is as it was.
        Assert.All(responses, r => Assert.Equal((400, ProblemTypes.Prefix + CaptureProblemCodes.InvalidFields, "email"), (r.Status, r.ProblemType(), string.Join(",", r.ErrorFields()))));
        Assert.Empty(queued);
        var after = await scoring.LeadAsync(stranger);
        Assert.Equal((15.0, LifecycleStage.Lead), (after.Lead.EngagementScore, after.Lead.Stage));
        Assert.Equal(["content-download-form"], after.Ledger.Select(l => l.RuleId));
    }

    [Fact]
    public async Task A_client_claiming_bottom_of_the_funnel_for_top_of_funnel_content_is_scored_as_top()
    {
        // Arrange
        var scoring = new ScoringHarness(azurite, ScoringHarness.ShippedModelJson());
        scoring.Time.SetUtcNow(CaptureHarness.Now);
        var visitor = "visitor-" + Guid.NewGuid().ToString("N")[..12];
        var email = AzuriteFixture.UniqueName("reader") + "@example.com";

        // Act: the visitor downloads the top-of-funnel guide (the beacon lies about its stage), then signs up, which names them.
        var download = await _app.PostEventAsync(_app.Json(Path, $$"""{"type":"content-download","visitorId":"{{visitor}}","contentId":"lead-scoring-basics","funnelStage":"bottom"}"""));
        var signup = await _app.PostFormAsync("newsletter", _app.Json("/api/forms/newsletter", $$"""{"email":"{{email}}","consent":true,"visitorId":"{{visitor}}"}"""));
        await scoring.ProcessAsync(await _app.MessagesAsync());

        // Assert: 5 for the sign-up and 5 for a top-of-funnel download, not 20.
        Assert.Equal((202, 202), (download.Status, signup.Status));
        var lead = await scoring.LeadAsync(email);
        Assert.Equal(["download-top-of-funnel", "newsletter-signup"], lead.Ledger.Select(l => l.RuleId).Order(StringComparer.Ordinal));
        Assert.Equal(10, lead.Lead.EngagementScore, 9);
    }

    [Fact]
    public async Task A_wrong_content_type_is_refused()
    {
        // Act
        var response = await _app.PostEventAsync(_app.Request("POST", Path, "text/plain", Encoding.UTF8.GetBytes("type=page-view")));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.UnsupportedContentType, response.ProblemType());
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

    [Fact]
    public async Task A_beacon_that_carries_its_idempotency_key_as_a_field_gets_the_event_id_the_header_would_give()
    {
        // Arrange: sendBeacon cannot set headers, so track.js sends the key in the URL-encoded body.
        var fields = new Dictionary<string, string>
        {
            ["type"] = "webinar-registration", ["visitorId"] = "visitor-12345", ["campaign"] = "autumn", ["idempotencyKey"] = "beacon-2",
        };
        const string header = """{"type":"webinar-registration","visitorId":"visitor-12345","campaign":"autumn"}""";

        // Act
        var first = await _app.PostEventAsync(_app.Form(Path, fields));
        var retry = await _app.PostEventAsync(_app.Form(Path, fields));
        var byHeader = await _app.PostEventAsync(_app.Json(Path, header, r => r.Headers["Idempotency-Key"] = "beacon-2"));

        // Assert
        Assert.Equal((202, 202, 202), (first.Status, retry.Status, byHeader.Status));
        var expected = Domain.Capture.CaptureEventIds.FromIdempotencyKey("events", "beacon-2");
        Assert.Equal(expected, first.JsonBody().GetProperty("submissionId").GetString());
        Assert.Equal([expected, expected, expected], (await _app.MessagesAsync()).Select(m => m.EventId).ToArray());
    }

    [Fact]
    public async Task A_beacon_with_an_invalid_idempotency_key_field_is_a_400_naming_the_field_and_nothing_is_enqueued()
    {
        // Act
        var response = await _app.PostEventAsync(_app.Json(Path, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/","idempotencyKey":"two words"}"""));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(["idempotencyKey"], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Theory]
    [InlineData("Europe/London<script>")]
    [InlineData("Eastern Standard Time")]
    [InlineData("Europe/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task A_malformed_browser_time_zone_is_a_400_naming_the_field_and_nothing_is_enqueued(string zone)
    {
        // Arrange
        var json = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "page-view", ["visitorId"] = "visitor-12345", ["url"] = "https://www.example.com/", ["timeZone"] = zone,
        });

        // Act
        var response = await _app.PostEventAsync(_app.Json(Path, json));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(["timeZone"], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_known_browser_time_zone_rides_with_the_event_and_a_well_formed_unknown_one_is_dropped_without_losing_the_event()
    {
        // Act
        var known = await _app.PostEventAsync(_app.Json(Path, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/a","timeZone":"America/New_York"}"""));
        var unknown = await _app.PostEventAsync(_app.Json(Path, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/b","timeZone":"Mars/Olympus_Mons"}"""));

        // Assert
        Assert.Equal((202, 202), (known.Status, unknown.Status));
        var messages = (await _app.MessagesAsync()).OrderBy(m => m.Property(LeadEventProperties.Url), StringComparer.Ordinal).ToList();
        Assert.Equal(["America/New_York", null], messages.Select(m => m.Property(LeadEventProperties.TimeZone)));
    }
}
