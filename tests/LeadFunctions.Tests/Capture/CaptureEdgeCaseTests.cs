using System.Text;
using LeadFunctions.Domain;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Capture;

/// <summary>Inputs from the open internet that once slipped through or answered 500: broken text, opaque origins, odd addresses, invisible characters.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CaptureEdgeCaseTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string EventsPath = "/api/events";
    private static readonly string FormPath = $"/api/forms/{DemoRequest.FormId}";
    private CaptureHarness _app = null!;

    public async Task InitializeAsync() => _app = await CaptureHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static TheoryData<string, byte[], string> BrokenText() => new()
    {
        // Raw bytes that are not UTF-8 inside a JSON string (JsonDocument only fails when the string is read).
        { "application/json", Bytes("{\"email\":\"a@example.com\",\"firstName\":\"", [0xC3, 0x28], "\"}"), "UTF-8" },
        // A UTF-8 encoded surrogate (CESU-8), which is not UTF-8 either.
        { "application/json", Bytes("{\"email\":\"a@example.com\",\"firstName\":\"", [0xED, 0xA0, 0x80], "\"}"), "UTF-8" },
        // Valid JSON, valid UTF-8, but the escape names half a surrogate pair: no Unicode text.
        { "application/json", Encoding.ASCII.GetBytes("""{"email":"a@example.com","firstName":"Eve\ud800"}"""), "surrogate" },
        { "application/json", Encoding.ASCII.GetBytes("""{"email":"a@example.com","\udc00":"x"}"""), "surrogate" },
        { "application/x-www-form-urlencoded", Encoding.ASCII.GetBytes("email=a%40example.com&firstName=%ED%A0%80"), "UTF-8" },
        { "application/x-www-form-urlencoded", Bytes("email=a%40example.com&firstName=", [0xFF], ""), "UTF-8" },
        { "multipart/form-data; boundary=xyz", Bytes("--xyz\r\nContent-Disposition: form-data; name=\"firstName\"\r\n\r\n", [0xED, 0xA0, 0x80], "\r\n--xyz--\r\n"), "UTF-8" },
    };

    [Theory]
    [MemberData(nameof(BrokenText))]
    public async Task Invalid_utf8_and_lone_surrogates_are_a_400_that_names_the_problem_not_a_500(string contentType, byte[] body, string named)
    {
        // Arrange
        var context = _app.Request("POST", FormPath, contentType, body, r => r.Headers.Accept = "application/json");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.MalformedBody, response.ProblemType());
        Assert.Contains(named, response.Body, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_lone_surrogate_in_an_event_is_a_400_naming_the_field()
    {
        // Arrange
        var context = _app.Json(EventsPath, """{"type":"add-to-cart","visitorId":"visitor-12345","contentId":"sku\udfff"}""");

        // Act
        var response = await _app.PostEventAsync(context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(["contentId"], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_form_post_with_origin_null_is_refused_as_a_foreign_origin()
    {
        // Arrange: a sandboxed iframe or a data: page on any site makes the browser send Origin: null.
        var context = _app.Json(FormPath, DemoRequest.Json(), r => r.Headers.Origin = "null");

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(403, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.OriginNotAllowed, response.ProblemType());
        Assert.False(response.Headers.ContainsKey("Access-Control-Allow-Origin"));
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task An_event_with_origin_null_is_refused_and_its_preflight_gets_no_cors_headers()
    {
        // Arrange
        var post = _app.Json(EventsPath, """{"type":"page-view","visitorId":"visitor-12345","url":"https://www.example.com/"}""", r => r.Headers.Origin = "null");

        // Act
        var response = await _app.PostEventAsync(post);
        var preflight = await _app.PostEventAsync(_app.Preflight(EventsPath, "null"));

        // Assert
        Assert.Equal(403, response.Status);
        Assert.Equal(ProblemTypes.Prefix + CaptureProblemCodes.OriginNotAllowed, response.ProblemType());
        Assert.Equal(403, preflight.Status);
        Assert.False(preflight.Headers.ContainsKey("Access-Control-Allow-Origin"));
        Assert.Empty(await _app.MessagesAsync());
    }

    [Theory]
    [InlineData("a@-example.com")]
    [InlineData("a@example-.com")]
    [InlineData("a@1.1")]
    [InlineData("a@example.123")]
    [InlineData("a@[127.0.0.1]")]
    [InlineData("a@example.com.")]
    [InlineData("a@exa_mple.com")]
    [InlineData("a@example..com")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com")]
    [InlineData("ad\u202Ea@example.com")]
    public async Task An_address_outside_rfc_5321_limits_is_an_invalid_email(string email)
    {
        // Arrange
        var context = _app.Json(FormPath, DemoRequest.Json(f => f["email"] = email));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal(["email"], response.ErrorFields());
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task An_international_domain_is_stored_in_its_punycode_form()
    {
        // Arrange
        var context = _app.Json(FormPath, DemoRequest.Json(f => f["email"] = "Ada@Bücher.Example"));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(202, response.Status);
        Assert.Equal("ada@xn--bcher-kva.example", Assert.Single(await _app.MessagesAsync()).Email);
    }

    [Theory]
    [InlineData("firstName", "Eve\u202Etxt.exe")]
    [InlineData("lastName", "\u2066Mallory\u2069")]
    [InlineData("company", "Evil\u200BCorp")]
    [InlineData("firstName", "\u200FEve")]
    public async Task Bidi_and_invisible_format_characters_in_a_name_or_company_are_a_400_naming_the_field(string field, string value)
    {
        // Arrange
        var context = _app.Json(FormPath, DemoRequest.Json(f => f[field] = value));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(400, response.Status);
        Assert.Equal([field], response.ErrorFields());
        Assert.Contains("characters that are not allowed", response.Body, StringComparison.Ordinal);
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task Joiners_that_scripts_and_emoji_need_are_accepted_in_a_name()
    {
        // Arrange: Persian uses ZWNJ inside words; emoji sequences use ZWJ.
        var context = _app.Json(FormPath, DemoRequest.Json(f => f["company"] = "می\u200Cخواهم \U0001F469\u200D\U0001F4BB"));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(202, response.Status);
        Assert.Single(await _app.MessagesAsync());
    }

    private static byte[] Bytes(string before, byte[] raw, string after) =>
        [.. Encoding.ASCII.GetBytes(before), .. raw, .. Encoding.ASCII.GetBytes(after)];
}
