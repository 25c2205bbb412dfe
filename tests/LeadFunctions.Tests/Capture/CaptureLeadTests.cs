using System.Net.Http.Headers;
using LeadFunctions.Domain;
using System.Text;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Capture;

[Collection(AzuriteCollection.Name)]
public sealed class CaptureLeadTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private CaptureHarness _app = null!;

    public async Task InitializeAsync() => _app = await CaptureHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string FormPath(string formId) => $"/api/forms/{formId}";

    [Fact]
    public async Task A_url_encoded_browser_form_is_enqueued_and_redirected_to_its_thank_you_page()
    {
        // Arrange
        var context = _app.Form(FormPath(DemoRequest.FormId), DemoRequest.Fields());

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(303, response.Status);
        Assert.Equal(DemoRequest.ThankYouUrl, response.Headers.Location.ToString());
        var message = Assert.Single(await _app.MessagesAsync());
        Assert.Equal((LeadEventTypes.FormSubmission, FormIntent.DemoRequest, "grace.hopper@example.com"), (message.Type, message.Intent, message.Email));
    }

    [Fact]
    public async Task A_multipart_browser_form_is_enqueued_and_redirected()
    {
        // Arrange
        using var multipart = new MultipartFormDataContent();
        foreach (var (name, value) in DemoRequest.Fields())
            multipart.Add(new StringContent(value, Encoding.UTF8), name);
        var body = await multipart.ReadAsByteArrayAsync();
        var context = _app.Request("POST", FormPath(DemoRequest.FormId), multipart.Headers.ContentType!.ToString(), body,
            r => r.Headers.Accept = "text/html");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(303, response.Status);
        Assert.Equal(DemoRequest.ThankYouUrl, response.Headers.Location.ToString());
        Assert.Equal("Compilers Inc", Assert.Single(await _app.MessagesAsync()).Profile["company"]);
    }

    [Fact]
    public async Task A_json_client_gets_202_with_the_submission_id_the_event_carries()
    {
        // Arrange
        var context = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json());

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(202, response.Status);
        var submissionId = response.JsonBody().GetProperty("submissionId").GetString();
        Assert.Equal(submissionId, Assert.Single(await _app.MessagesAsync()).EventId);
    }

    [Fact]
    public async Task A_url_encoded_post_that_asks_for_json_gets_json()
    {
        // Arrange
        var context = _app.Form(FormPath(DemoRequest.FormId), DemoRequest.Fields(), r => r.Headers.Accept = "application/json");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(202, response.Status);
        Assert.True(response.JsonBody().TryGetProperty("submissionId", out _));
    }

    [Fact]
    public async Task An_unknown_form_is_404_and_nothing_is_enqueued()
    {
        // Arrange
        var context = _app.Json(FormPath("no-such-form"), DemoRequest.Json());

        // Act
        var response = await _app.PostFormAsync("no-such-form", context);

        // Assert
        Assert.Equal(404, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.UnknownForm, response.ProblemType());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task Missing_fields_and_consent_are_a_problem_naming_each_field()
    {
        // Arrange
        var context = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(f =>
        {
            f.Remove("email");
            f.Remove("consent");
            f["companySize"] = "huge";
        }));
        // The demo form's consent is optional; the whitepaper's too. Use a form that requires it.
        var newsletter = _app.Json(FormPath("newsletter"), """{ "email": "not-an-email" }""");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);
        var newsletterResponse = await _app.PostFormAsync("newsletter", newsletter);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.StartsWith(CaptureResults.ProblemContentType, response.ContentType, StringComparison.Ordinal);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.InvalidFields, response.ProblemType());
        Assert.Equal(["email", "companySize"], response.ErrorFields());
        Assert.Equal(400, newsletterResponse.Status);
        Assert.Equal(["email", "consent"], newsletterResponse.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData(null)]
    public async Task A_wrong_content_type_is_a_400_naming_the_content_type(string? contentType)
    {
        // Arrange
        var context = _app.Request("POST", FormPath(DemoRequest.FormId), contentType, Encoding.UTF8.GetBytes(DemoRequest.Json()));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.UnsupportedContentType, response.ProblemType());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task An_oversized_body_is_refused_even_when_content_length_is_absent()
    {
        // Arrange
        var fields = DemoRequest.Fields();
        fields["message"] = new string('x', 70 * 1024);
        using var content = new FormUrlEncodedContent(fields);
        var body = await content.ReadAsByteArrayAsync();
        var context = _app.Request("POST", FormPath(DemoRequest.FormId), "application/x-www-form-urlencoded", body, r =>
        {
            r.ContentLength = null;
            r.Headers.Accept = "application/json";
        });

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.BodyTooLarge, response.ProblemType());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task Too_many_fields_are_refused()
    {
        // Arrange
        var json = DemoRequest.Json(f =>
        {
            for (var i = 0; i < 60; i++)
                f[$"extra{i}"] = "x";
        });

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, _app.Json(FormPath(DemoRequest.FormId), json));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.TooManyFields, response.ProblemType());
    }

    [Fact]
    public async Task A_field_over_the_request_limit_is_named()
    {
        // Arrange
        var json = DemoRequest.Json(f => f["message"] = new string('x', 5000));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, _app.Json(FormPath(DemoRequest.FormId), json));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.FieldTooLong, response.ProblemType());
        Assert.Equal(["message"], response.ErrorFields());
    }

    [Fact]
    public async Task A_field_over_the_form_limit_is_named()
    {
        // Arrange
        var json = DemoRequest.Json(f => f["firstName"] = new string('x', 101));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, _app.Json(FormPath(DemoRequest.FormId), json));

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(["firstName"], response.ErrorFields());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "email=a%ZZ%40example.com&consent=on")]
    [InlineData("application/x-www-form-urlencoded", "email=a%C3%28%40example.com")]
    [InlineData("application/json", "{ \"email\": ")]
    [InlineData("application/json", "[1, 2]")]
    [InlineData("multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n")]
    public async Task A_malformed_body_is_refused(string contentType, string body)
    {
        // Arrange
        var context = _app.Request("POST", FormPath(DemoRequest.FormId), contentType, Encoding.Latin1.GetBytes(body), r => r.Headers.Accept = "application/json");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.MalformedBody, response.ProblemType());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_field_given_twice_is_refused()
    {
        // Arrange
        var fields = DemoRequest.Fields().ToList();
        fields.Add(new("email", "other@example.com"));
        var context = _app.Form(FormPath(DemoRequest.FormId), fields, r => r.Headers.Accept = "application/json");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.DuplicateField, response.ProblemType());
        Assert.Equal(["email"], response.ErrorFields());
    }

    [Fact]
    public async Task A_browser_form_with_errors_gets_a_readable_page()
    {
        // Arrange
        var fields = DemoRequest.Fields();
        fields["email"] = "<b>nope</b>";
        var context = _app.Form(FormPath(DemoRequest.FormId), fields);

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.StartsWith("text/html", response.ContentType, StringComparison.Ordinal);
        Assert.Contains("email is not a valid e-mail address.", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>nope</b>", response.Body, StringComparison.Ordinal);
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_browser_form_with_an_error_url_is_sent_there_with_the_error_codes()
    {
        // Arrange
        var context = _app.Form(FormPath("whitepaper-lead-scoring"), [new("email", "ada@example.com")]);

        // Act
        var response = await _app.PostFormAsync("whitepaper-lead-scoring", context);

        // Assert
        Assert.Equal(303, response.Status);
        var location = response.Headers.Location.ToString();
        var queryStart = location.IndexOf('?', StringComparison.Ordinal);
        Assert.Equal("/index.html", location[..queryStart]);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(location[queryStart..]);
        Assert.Equal("whitepaper-lead-scoring", query["form"].ToString());
        Assert.Equal("firstName:required,lastName:required,company:required,role:required", query["errors"].ToString());
    }

    [Fact]
    public async Task A_filled_honeypot_answers_like_a_success_enqueues_nothing_and_is_counted()
    {
        // Arrange
        var fields = DemoRequest.Fields();
        fields["website"] = "http://cheap-pills.example";
        var browser = _app.Form(FormPath(DemoRequest.FormId), fields);
        var script = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(f => f["website"] = "http://cheap-pills.example"));

        // Act
        var browserResponse = await _app.PostFormAsync(DemoRequest.FormId, browser);
        var scriptResponse = await _app.PostFormAsync(DemoRequest.FormId, script);

        // Assert
        Assert.Equal(303, browserResponse.Status);
        Assert.Equal(DemoRequest.ThankYouUrl, browserResponse.Headers.Location.ToString());
        Assert.Equal(202, scriptResponse.Status);
        Assert.True(Guid.TryParseExact(scriptResponse.JsonBody().GetProperty("submissionId").GetString(), "N", out _));
        Assert.Empty(await _app.MessagesAsync());
        Assert.Equal(2, _app.HoneypotCount);
    }

    [Fact]
    public async Task The_redirect_only_ever_goes_to_the_forms_configured_thank_you_url()
    {
        // Arrange: every way a client could try to steer the redirect.
        var fields = DemoRequest.Fields();
        fields["redirect"] = "https://evil.example/phish";
        fields["thankYouUrl"] = "https://evil.example/phish";
        fields["returnUrl"] = "https://evil.example/phish";
        var context = _app.Form(FormPath(DemoRequest.FormId) + "?redirect=https://evil.example/", fields,
            r => r.Headers.Referer = "https://evil.example/landing");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(303, response.Status);
        Assert.Equal(DemoRequest.ThankYouUrl, response.Headers.Location.ToString());
    }

    [Fact]
    public async Task Another_forms_thank_you_url_is_never_used()
    {
        // Act
        var demo = await _app.PostFormAsync(DemoRequest.FormId, _app.Form(FormPath(DemoRequest.FormId), DemoRequest.Fields()));
        var newsletter = await _app.PostFormAsync("newsletter", _app.Form(FormPath("newsletter"), [new("email", "a@example.com"), new("consent", "on")]));

        // Assert
        Assert.Equal(DemoRequest.ThankYouUrl, demo.Headers.Location.ToString());
        Assert.Equal("/thanks.html?form=newsletter", newsletter.Headers.Location.ToString());
    }

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_with_that_origin_only()
    {
        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, _app.Preflight(FormPath(DemoRequest.FormId), "https://www.example.com"));

        // Assert
        Assert.Equal(204, response.Status);
        Assert.Equal("https://www.example.com", response.Headers.AccessControlAllowOrigin.ToString());
        Assert.Contains("POST", response.Headers.AccessControlAllowMethods.ToString(), StringComparison.Ordinal);
        Assert.Contains("Idempotency-Key", response.Headers.AccessControlAllowHeaders.ToString(), StringComparison.Ordinal);
        Assert.Contains("Content-Type", response.Headers.AccessControlAllowHeaders.ToString(), StringComparison.Ordinal);
        Assert.Contains("Origin", response.Headers.Vary.ToString(), StringComparison.Ordinal);
        Assert.False(response.Headers.ContainsKey("Access-Control-Allow-Credentials"));
    }

    [Theory]
    [InlineData("https://evil.example", "POST")]
    [InlineData("null", "POST")]
    [InlineData("https://www.example.com", "DELETE")]
    public async Task A_preflight_from_another_origin_or_for_another_method_gets_no_cors_headers(string origin, string method)
    {
        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, _app.Preflight(FormPath(DemoRequest.FormId), origin, method));

        // Assert
        Assert.Equal(403, response.Status);
        Assert.False(response.Headers.ContainsKey("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.ContainsKey("Access-Control-Allow-Methods"));
    }

    [Fact]
    public async Task A_preflight_for_one_form_does_not_allow_an_origin_only_another_form_allows()
    {
        // Act: the quote form allows only https://www.example.com.
        var response = await _app.PostFormAsync("quote-request", _app.Preflight(FormPath("quote-request"), "http://127.0.0.1:7071"));

        // Assert
        Assert.Equal(403, response.Status);
    }

    [Fact]
    public async Task A_post_from_an_allowed_origin_carries_cors_headers_and_one_from_another_is_refused()
    {
        // Arrange
        var allowed = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(), r => r.Headers.Origin = "https://www.example.com");
        var foreign = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(), r => r.Headers.Origin = "https://evil.example");

        // Act
        var allowedResponse = await _app.PostFormAsync(DemoRequest.FormId, allowed);
        var foreignResponse = await _app.PostFormAsync(DemoRequest.FormId, foreign);

        // Assert
        Assert.Equal(202, allowedResponse.Status);
        Assert.Equal("https://www.example.com", allowedResponse.Headers.AccessControlAllowOrigin.ToString());
        Assert.Equal(403, foreignResponse.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.OriginNotAllowed, foreignResponse.ProblemType());
        Assert.False(foreignResponse.Headers.ContainsKey("Access-Control-Allow-Origin"));
        Assert.Single(await _app.MessagesAsync());
    }

    [Fact]
    public async Task The_same_idempotency_key_gives_the_same_event_id()
    {
        // Arrange
        const string key = "3f1c9d2e-5b7a-4e8f-9c0d-1a2b3c4d5e6f";
        HttpContextFactory post = () => _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(), r => r.Headers["Idempotency-Key"] = key);

        // Act
        var first = await _app.PostFormAsync(DemoRequest.FormId, post());
        var second = await _app.PostFormAsync(DemoRequest.FormId, post());
        var otherForm = await _app.PostFormAsync("newsletter",
            _app.Json(FormPath("newsletter"), """{"email":"a@example.com","consent":true}""", r => r.Headers["Idempotency-Key"] = key));

        // Assert
        var id = first.JsonBody().GetProperty("submissionId").GetString();
        Assert.Equal(id, second.JsonBody().GetProperty("submissionId").GetString());
        Assert.NotEqual(id, otherForm.JsonBody().GetProperty("submissionId").GetString());
        var messages = await _app.MessagesAsync();
        Assert.Equal(2, messages.Count(m => m.EventId == id));
    }

    [Fact]
    public async Task An_invalid_idempotency_key_is_refused()
    {
        // Arrange
        var context = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(), r => r.Headers["Idempotency-Key"] = new string('k', 300));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(["Idempotency-Key"], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_browser_form_posted_twice_with_the_same_idempotency_key_field_is_queued_both_times_under_one_event_id_derived_from_form_and_key()
    {
        // Arrange: a plain HTML form cannot send headers; track.js puts the key into a hidden input instead.
        const string key = "Q2xpZW50LWtleS0xMjM0NTY3ODk";
        Dictionary<string, string> Fields(string k)
        {
            var fields = DemoRequest.Fields();
            fields["idempotencyKey"] = k;
            return fields;
        }

        // Act: the post, its retry (a 503 answered, or a reload of the answer page), and another page view's post.
        var first = await _app.PostFormAsync(DemoRequest.FormId, _app.Form(FormPath(DemoRequest.FormId), Fields(key)));
        var retry = await _app.PostFormAsync(DemoRequest.FormId, _app.Form(FormPath(DemoRequest.FormId), Fields(key)));
        var other = await _app.PostFormAsync(DemoRequest.FormId, _app.Form(FormPath(DemoRequest.FormId), Fields("another-page-view-key")));

        // Assert: the processor keys on the event id, so the first two are one submission; the third is its own.
        Assert.Equal((303, 303, 303), (first.Status, retry.Status, other.Status));
        var ids = (await _app.MessagesAsync()).Select(m => m.EventId).ToList();
        var expected = Domain.Capture.CaptureEventIds.FromIdempotencyKey(DemoRequest.FormId, key);
        Assert.Equal(2, ids.Count(id => id == expected));
        Assert.Single(ids, id => id == Domain.Capture.CaptureEventIds.FromIdempotencyKey(DemoRequest.FormId, "another-page-view-key"));
        Assert.Equal(3, ids.Count);
    }

    [Fact]
    public async Task The_idempotency_key_header_wins_over_the_idempotency_key_field()
    {
        // Arrange
        var context = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(f => f["idempotencyKey"] = "field-key"),
            r => r.Headers["Idempotency-Key"] = "header-key");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(202, response.Status);
        var expected = Domain.Capture.CaptureEventIds.FromIdempotencyKey(DemoRequest.FormId, "header-key");
        Assert.Equal(expected, response.JsonBody().GetProperty("submissionId").GetString());
        Assert.Equal(expected, Assert.Single(await _app.MessagesAsync()).EventId);
    }

    [Fact]
    public async Task A_browser_form_whose_idempotency_key_field_is_empty_is_taken_under_a_new_event_id_each_time()
    {
        // Arrange: the page's script did not run, so the hidden input is posted empty.
        var fields = DemoRequest.Fields();
        fields["idempotencyKey"] = "";

        // Act
        var first = await _app.PostFormAsync(DemoRequest.FormId, _app.Form(FormPath(DemoRequest.FormId), fields));
        var second = await _app.PostFormAsync(DemoRequest.FormId, _app.Form(FormPath(DemoRequest.FormId), fields));

        // Assert
        Assert.Equal((303, 303), (first.Status, second.Status));
        var ids = (await _app.MessagesAsync()).Select(m => m.EventId).ToList();
        Assert.Equal(2, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(Guid.TryParseExact(id, "N", out _)));
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("key\u0001")]
    [InlineData("cl\u00e9")]
    [InlineData("\u043a\u043b\u044e\u0447")]
    [InlineData("256 characters")]
    public async Task An_invalid_idempotency_key_field_is_a_400_naming_the_field_and_nothing_is_enqueued(string escaped)
    {
        // Arrange
        var key = escaped == "256 characters" ? new string('k', 256) : System.Text.RegularExpressions.Regex.Unescape(escaped);
        var context = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(f => f["idempotencyKey"] = key));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.EndsWith("invalid-idempotency-key", response.ProblemType(), StringComparison.Ordinal);
        Assert.Equal(["idempotencyKey"], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    private delegate Microsoft.AspNetCore.Http.HttpContext HttpContextFactory();
}
