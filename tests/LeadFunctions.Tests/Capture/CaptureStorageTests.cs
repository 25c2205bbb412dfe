using LeadFunctions.Domain.Events;
using LeadFunctions.Domain;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Capture;

[Collection(AzuriteCollection.Name)]
public sealed class CaptureStorageTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_posted_form_ends_as_exactly_one_message_with_every_captured_field()
    {
        // Arrange
        await using var app = await CaptureHarness.StartAsync(azurite);
        var fields = DemoRequest.Fields();
        fields["phone"] = "+39 02 1234567";
        fields["message"] = "We run 40 landing pages.\r\nCan you help?";
        fields["utm_source"] = "linkedin";
        fields["utm_medium"] = "paid-social";
        fields["utm_campaign"] = "q3-demo";
        fields["utm_term"] = "lead scoring";
        fields["utm_content"] = "video-a";
        fields["referrer"] = "https://www.linkedin.com/";
        fields["pageUrl"] = "https://www.example.com/demo?utm_source=linkedin";
        var context = app.Form("/api/forms/demo-request", fields, r =>
        {
            r.Headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0";
            r.Headers.Cookie = "lf_vid=v1a2b3c4d5e6f7a8b9";
            r.Headers.Origin = "http://127.0.0.1:7071";
        });

        // Act
        var response = await app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(303, response.Status);
        var raw = Assert.Single((await app.Queue.ReceiveMessagesAsync(maxMessages: 32)).Value);
        var message = LeadEventJson.Deserialize(raw.Body.ToString());
        Assert.Equal(LeadEvent.CurrentSchemaVersion, message.SchemaVersion);
        Assert.True(Guid.TryParseExact(message.EventId, "N", out _));
        Assert.Equal(LeadEventTypes.FormSubmission, message.Type);
        Assert.Equal(CaptureHarness.Now, message.OccurredAt);
        Assert.Equal("grace.hopper@example.com", message.Email);
        Assert.Equal("v1a2b3c4d5e6f7a8b9", message.VisitorId);
        Assert.Equal("demo-request", message.FormId);
        Assert.Equal(FormIntent.DemoRequest, message.Intent);
        Assert.Equal(new Dictionary<string, string>
        {
            ["firstName"] = "Grace", ["lastName"] = "Hopper", ["company"] = "Compilers Inc", ["role"] = "executive",
            ["companySize"] = "201-1000", ["phone"] = "+39 02 1234567", ["message"] = "We run 40 landing pages.\r\nCan you help?",
        }, message.Profile);
        // The shipped demo form asks for double opt-in: the tick is a pending request until its confirmation link is used.
        Assert.Equal([new ConsentRecord(ConsentPurposes.MarketingEmail, "demo-2025-06", false, CaptureHarness.Now, "form:demo-request") { Pending = true }], message.Consents);
        Assert.Equal(new CaptureContext
        {
            UtmSource = "linkedin", UtmMedium = "paid-social", UtmCampaign = "q3-demo", UtmTerm = "lead scoring", UtmContent = "video-a",
            Referrer = "https://www.linkedin.com/", LandingPageUrl = "https://www.example.com/demo?utm_source=linkedin",
            UserAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        }, message.Context);
        // The queue trigger reads Base64: the raw text must decode to the same JSON.
        Assert.Equal(raw.Body.ToString(), LeadEventJson.Serialize(message));
    }

    [Fact]
    public async Task When_the_queue_cannot_take_the_event_the_answer_is_503_with_retry_after()
    {
        // Arrange: the queue was never created, so storage answers 404 to the enqueue.
        await using var app = await CaptureHarness.StartAsync(azurite, createQueue: false);
        var script = app.Json("/api/forms/demo-request", DemoRequest.Json());
        var browser = app.Form("/api/forms/demo-request", DemoRequest.Fields());
        var tracked = app.Json("/api/events", """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/"}""");

        // Act
        var scriptResponse = await app.PostFormAsync(DemoRequest.FormId, script);
        var browserResponse = await app.PostFormAsync(DemoRequest.FormId, browser);
        var trackedResponse = await app.PostEventAsync(tracked);

        // Assert
        Assert.Equal(503, scriptResponse.Status);
        Assert.Equal("30", scriptResponse.Headers.RetryAfter.ToString());
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.Unavailable, scriptResponse.ProblemType());
        Assert.StartsWith(CaptureResults.ProblemContentType, scriptResponse.ContentType, StringComparison.Ordinal);
        Assert.Equal(503, browserResponse.Status);
        Assert.Equal("30", browserResponse.Headers.RetryAfter.ToString());
        Assert.False(browserResponse.Headers.ContainsKey("Location"));
        Assert.Equal(503, trackedResponse.Status);
        Assert.Equal("30", trackedResponse.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task A_broken_forms_file_stops_the_app_at_start_naming_the_form_and_field()
    {
        // Arrange
        var path = Path.Combine(Path.GetTempPath(), AzuriteFixture.UniqueName("forms") + ".json");
        await File.WriteAllTextAsync(path, """
            { "version": "1", "forms": [ {
              "id": "broken", "intent": "demo-request",
              "fields": [ { "name": "email", "type": "email", "required": true } ],
              "thankYouUrl": "http://www.example.com/thanks"
            } ] }
            """);
        try
        {
            // Act
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
                CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Capture:FormsFile"] = path }));

            // Assert
            Assert.Contains(error.Failures, f => f.Contains("forms[0].thankYouUrl: must be an absolute https URL", StringComparison.Ordinal) && f.Contains("'broken'", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Out_of_range_limits_are_named_at_start()
    {
        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Capture:MaxBodyBytes"] = "10", ["Capture:EventOrigins:0"] = "*" }));

        // Assert
        Assert.Contains(error.Failures, f => f.StartsWith("Capture:MaxBodyBytes", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Capture:EventOrigins:0", StringComparison.Ordinal));
    }
}
