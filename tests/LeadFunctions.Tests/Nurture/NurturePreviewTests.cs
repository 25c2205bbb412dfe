using System.Text;
using System.Text.Json;
using LeadFunctions.Admin;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Nurture;

/// <summary><c>POST /api/ops/nurture/preview</c> over the nurture feature as the app wires it, with the shipped templates.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class NurturePreviewTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_step_renders_as_the_composer_sends_it_with_signed_links_for_the_preview_lead()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);

        // Act
        var (status, body) = await PostAsync(harness, """{ "programme": "trio", "step": "first" }""");

        // Assert
        Assert.Equal(200, status);
        Assert.Equal("First for Ada", body.GetProperty("subject").GetString());
        Assert.Contains("Hi Ada,", body.GetProperty("html").GetString(), StringComparison.Ordinal);
        Assert.Contains("Unsubscribe: https://leads.contoso.example/api/unsubscribe?t=", body.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Empty(body.GetProperty("warnings").EnumerateArray());
        var links = body.GetProperty("links").EnumerateArray()
            .Select(l => (Href: l.GetProperty("href").GetString()!, Kind: l.GetProperty("kind").GetString()!, Target: l.GetProperty("target").GetString()))
            .ToList();
        Assert.Contains(links, l => l.Kind == "click" && l.Target == "https://www.example.com/guides/getting-started?utm_source=nurture&utm_campaign=trio"
            && l.Href.StartsWith("https://leads.contoso.example/api/track/click?t=", StringComparison.Ordinal));
        Assert.Contains(links, l => l.Kind == "open");
        Assert.Contains(links, l => l.Kind == "unsubscribe");
        Assert.Contains(links, l => l.Kind == "your-data");
        Assert.DoesNotContain(links, l => l.Kind is "external" or "unverified");
        var signer = harness.Services.GetRequiredService<Domain.Tracking.TrackingTokenSigner>();
        var token = Uri.UnescapeDataString(links.First(l => l.Kind == "click").Href.Split("?t=")[1]);
        Assert.Equal(NurturePreview.LeadId, signer.Verify(token)!.LeadId);
    }

    [Fact]
    public async Task A_posted_sample_lead_is_used_and_each_variable_it_lacks_is_a_warning()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);

        // Act
        var (status, body) = await PostAsync(harness, """{ "programme": "trio", "step": "first", "lead": { "profile": { "company": "Initech" } } }""");

        // Assert
        Assert.Equal(200, status);
        Assert.Equal("First for", body.GetProperty("subject").GetString());
        Assert.Contains("from Initech", body.GetProperty("html").GetString(), StringComparison.Ordinal);
        var warnings = body.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.Contains("subject: lead.firstName is not in this lead's data: it renders as nothing.", warnings);
    }

    [Fact]
    public async Task The_clicks_opens_and_unsubscribes_of_a_preview_are_answered_but_never_counted_queued_or_stored()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var (_, body) = await PostAsync(harness, """{ "programme": "trio", "step": "first" }""");
        string TokenOf(string kind) => Uri.UnescapeDataString(body.GetProperty("links").EnumerateArray()
            .First(l => l.GetProperty("kind").GetString() == kind).GetProperty("href").GetString()!.Split("?t=")[1]);
        harness.Time.Advance(TimeSpan.FromMinutes(5));

        // Act
        var redirect = await harness.Tracker.RecordClickAsync(TokenOf("click"), "GET", "Mozilla/5.0", CancellationToken.None);
        var opened = await harness.Tracker.RecordOpenAsync(TokenOf("open"), "GET", "Mozilla/5.0", CancellationToken.None);
        var unsubscribed = await harness.Tracker.UnsubscribeAsync(TokenOf("unsubscribe"), "one-click", CancellationToken.None);

        // Assert
        Assert.Equal("https://www.example.com/guides/getting-started?utm_source=nurture&utm_campaign=trio", redirect);
        Assert.True(opened && unsubscribed);
        Assert.Empty(await harness.QueuedEventsAsync());
        Assert.False(await harness.Services.GetRequiredService<NurtureStore>().IsSuppressedAsync(NurturePreview.LeadId, CancellationToken.None));
    }

    [Theory]
    [InlineData("""{ "programme": "nope", "step": "first" }""", "programme")]
    [InlineData("""{ "programme": "trio", "step": "nope" }""", "step")]
    public async Task An_unknown_programme_or_step_is_a_404_problem_naming_the_field(string request, string field)
    {
        await using var harness = new NurtureHarness(azurite);

        var (status, body) = await PostAsync(harness, request);

        Assert.Equal((404, 404), (status, body.GetProperty("status").GetInt32()));
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Theory]
    [InlineData("""{ "step": "first" }""", "programme")]
    [InlineData("""{ "programme": "trio" }""", "step")]
    [InlineData("""{ "programme": "trio", "step": "first", "lead": { "profile": { "firstName": 42 } } }""", "lead.profile.firstName")]
    [InlineData("""{ "programme": "trio", "step": "first", "lead": { "email": "a@b.example" } }""", "lead.email")]
    [InlineData("""{ "programme": "trio", "step": "first", "extra": 1 }""", "extra")]
    [InlineData("""[1, 2]""", "body")]
    [InlineData("""not json""", "body")]
    public async Task A_malformed_request_is_a_400_problem_naming_the_field(string request, string field)
    {
        await using var harness = new NurtureHarness(azurite);

        var (status, body) = await PostAsync(harness, request);

        Assert.Equal(400, status);
        Assert.Equal([field], body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_body_over_64_KiB_or_a_profile_value_over_the_bound_is_refused_without_rendering()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var huge = JsonSerializer.Serialize(new { programme = "trio", step = "first", lead = new { profile = new { message = new string('x', 70_000) } } });
        var longValue = JsonSerializer.Serialize(new { programme = "trio", step = "first", lead = new { profile = new { message = new string('x', 4001) } } });

        // Act
        var (tooLarge, _) = await PostAsync(harness, huge, sendLength: false);
        var (tooLong, body) = await PostAsync(harness, longValue);

        // Assert
        Assert.Equal(413, tooLarge);
        Assert.Equal(400, tooLong);
        Assert.True(body.GetProperty("errors").TryGetProperty("lead.profile.message", out _));
    }

    [Fact]
    public async Task A_subject_that_fails_when_rendered_is_a_422_problem_with_the_error()
    {
        // Arrange: parses at start, fails at render (no partials are served to e-mail templates).
        const string broken = """
            { "version": "1", "enrolOnMql": "p", "programmes": [ { "id": "p", "version": "1", "steps": [
              { "id": "a", "delay": "0", "subject": "{% include 'missing' %}", "template": "nurture-welcome" } ] } ] }
            """;
        await using var harness = new NurtureHarness(azurite, programme: broken);

        // Act
        var (status, body) = await PostAsync(harness, """{ "programme": "p", "step": "a" }""");

        // Assert
        Assert.Equal(422, status);
        Assert.StartsWith("Programme 'p' step 'a' (template 'nurture-welcome') did not render:", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task<(int Status, JsonElement Body)> PostAsync(NurtureHarness harness, string json, bool sendLength = true)
    {
        var context = new DefaultHttpContext { RequestServices = harness.Services };
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(json);
        context.Request.Body = new MemoryStream(bytes);
        if (sendLength)
            context.Request.ContentLength = bytes.Length;
        context.Response.Body = new MemoryStream();

        var result = await new PreviewNurtureStep(harness.Services.GetRequiredService<INurturePreview>()).Run(context.Request, CancellationToken.None);
        var status = result switch { ObjectResult o => o.StatusCode ?? 200, _ => throw new InvalidOperationException(result.GetType().Name) };
        var value = ((ObjectResult)result).Value;
        var body = JsonSerializer.SerializeToElement(value, value!.GetType(), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        return (status, body);
    }
}
