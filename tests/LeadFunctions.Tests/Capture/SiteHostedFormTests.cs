using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Capture;

/// <summary>
/// The deployed layout: the Functions host serves no pages, so the landing page lives on a site of its own
/// (Capture:SiteBaseUrl, the Static Web App azd deploys) and posts to the function app from there.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SiteHostedFormTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string SiteOrigin = "https://landing.example.net";
    private const string FunctionHost = "func-abc123.azurewebsites.net";
    private CaptureHarness _app = null!;

    public async Task InitializeAsync() =>
        _app = await CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Capture:SiteBaseUrl"] = SiteOrigin + "/" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string FormPath(string formId) => $"/api/forms/{formId}";

    private static void FromTheSite(HttpRequest request)
    {
        request.Scheme = "https";
        request.Host = new HostString(FunctionHost);
        request.Headers.Origin = SiteOrigin;
    }

    [Fact]
    public async Task A_visitor_on_the_site_is_sent_to_the_thank_you_page_on_the_site_not_to_a_path_on_the_function_app()
    {
        // Arrange
        var context = _app.Form(FormPath(DemoRequest.FormId), DemoRequest.Fields(), FromTheSite);

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert: a relative /thanks.html would resolve against the function app, which answers 404 in Azure.
        Assert.Equal(303, response.Status);
        Assert.Equal(SiteOrigin + DemoRequest.ThankYouUrl, response.Headers.Location.ToString());
        Assert.Equal(SiteOrigin, response.Headers.AccessControlAllowOrigin.ToString());
        Assert.Single(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_refused_submission_from_the_site_is_sent_back_to_the_sites_error_page_with_the_codes()
    {
        // Arrange
        var context = _app.Form(FormPath("whitepaper-lead-scoring"), [new("email", "ada@example.com")], FromTheSite);

        // Act
        var response = await _app.PostFormAsync("whitepaper-lead-scoring", context);

        // Assert
        Assert.Equal(303, response.Status);
        Assert.StartsWith(SiteOrigin + "/index.html?form=whitepaper-lead-scoring&errors=", response.Headers.Location.ToString(), StringComparison.Ordinal);
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task The_redirect_goes_to_the_site_whatever_host_the_request_claims()
    {
        // Arrange: a request with a forged Host header cannot steer the visitor to another host.
        var context = _app.Form(FormPath(DemoRequest.FormId), DemoRequest.Fields(), r => r.Host = new HostString("evil.example"));

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(303, response.Status);
        Assert.Equal(SiteOrigin + DemoRequest.ThankYouUrl, response.Headers.Location.ToString());
    }

    [Fact]
    public async Task An_absolute_thank_you_url_the_forms_file_names_is_kept()
    {
        // Arrange: the shipped quote form names https://www.example.com pages and allows only that origin.
        var fields = new Dictionary<string, string>
        {
            ["email"] = "ada@example.com", ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Engines", ["need"] = "A quote",
        };
        var context = _app.Form(FormPath("quote-request"), fields, r => r.Headers.Origin = "https://www.example.com");

        // Act
        var response = await _app.PostFormAsync("quote-request", context);

        // Assert
        Assert.Equal(303, response.Status);
        Assert.Equal("https://www.example.com/thanks/quote", response.Headers.Location.ToString());
    }

    [Fact]
    public async Task A_preflight_from_the_site_is_allowed_for_a_form_that_lists_site()
    {
        // Arrange
        var context = _app.Preflight(FormPath(DemoRequest.FormId), SiteOrigin);
        context.Request.Host = new HostString(FunctionHost);

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(SiteOrigin, response.Headers.AccessControlAllowOrigin.ToString());
    }

    [Fact]
    public async Task A_form_that_does_not_list_site_refuses_the_sites_page()
    {
        // Arrange
        var context = _app.Json(FormPath("quote-request"), """{"email":"ada@example.com"}""", FromTheSite);

        // Act
        var response = await _app.PostFormAsync("quote-request", context);

        // Assert
        Assert.Equal(403, response.Status);
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task The_sites_tracking_snippet_may_post_events()
    {
        // Arrange
        var context = _app.Preflight("/api/events", SiteOrigin);
        context.Request.Host = new HostString(FunctionHost);

        // Act
        var response = await _app.PostEventAsync(context);

        // Assert
        Assert.Equal(SiteOrigin, response.Headers.AccessControlAllowOrigin.ToString());
    }

    [Theory]
    [InlineData("http://landing.example.net")]
    [InlineData("https://landing.example.net/?next=https://evil.example")]
    [InlineData("landing.example.net")]
    public async Task A_site_base_url_that_is_not_an_absolute_https_url_stops_the_app_at_start(string value)
    {
        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            CaptureHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Capture:SiteBaseUrl"] = value }));

        // Assert
        Assert.Contains(error.Failures, f => f.StartsWith("Capture:SiteBaseUrl", StringComparison.Ordinal));
    }
}
