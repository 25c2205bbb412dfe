using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace LeadFunctions.Tests.Capture;

/// <summary>The sample landing page is served by the app itself, on whatever port: "site" (meaning the app when no Capture:SiteBaseUrl is set) and thank-you paths make that work.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AppHostedFormTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string OtherPortOrigin = "http://127.0.0.1:8123";
    private CaptureHarness _app = null!;

    public async Task InitializeAsync() => _app = await CaptureHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string FormPath(string formId) => $"/api/forms/{formId}";

    [Fact]
    public async Task A_form_on_a_page_the_app_serves_on_another_port_is_accepted_and_sent_to_the_thank_you_path()
    {
        // Arrange: the app runs on 8123 (PORT=8123 ./run.sh); the shipped form lists "site" (without a site: the app itself), not that port.
        var context = _app.Form(FormPath(DemoRequest.FormId), DemoRequest.Fields(), r =>
        {
            r.Host = new HostString("127.0.0.1", 8123);
            r.Headers.Origin = OtherPortOrigin;
        });

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(303, response.Status);
        Assert.Equal("/thanks.html?form=demo", response.Headers.Location.ToString());
        Assert.Equal(OtherPortOrigin, response.Headers.AccessControlAllowOrigin.ToString());
        Assert.Single(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_page_on_another_host_is_not_self_even_when_it_names_a_loopback_port()
    {
        // Arrange: a page from 127.0.0.1:8123 posting to the app on 127.0.0.1:9999 is cross-origin.
        var context = _app.Json(FormPath(DemoRequest.FormId), DemoRequest.Json(), r =>
        {
            r.Host = new HostString("127.0.0.1", 9999);
            r.Headers.Origin = OtherPortOrigin;
        });

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(403, response.Status);
        Assert.Empty(await _app.MessagesAsync());
    }

    [Fact]
    public async Task A_preflight_from_the_apps_own_page_is_allowed_for_a_form_that_lists_site_when_no_site_is_set()
    {
        // Arrange
        var context = _app.Preflight(FormPath(DemoRequest.FormId), OtherPortOrigin);
        context.Request.Host = new HostString("127.0.0.1", 8123);

        // Act
        var response = await _app.PostFormAsync(DemoRequest.FormId, context);

        // Assert
        Assert.Equal(OtherPortOrigin, response.Headers.AccessControlAllowOrigin.ToString());
    }

    [Fact]
    public async Task A_form_that_lists_neither_self_nor_site_refuses_the_apps_own_page()
    {
        // Arrange: the shipped quote form allows only https://www.example.com.
        var context = _app.Preflight(FormPath("quote-request"), OtherPortOrigin);
        context.Request.Host = new HostString("127.0.0.1", 8123);

        // Act
        var response = await _app.PostFormAsync("quote-request", context);

        // Assert
        Assert.False(response.Headers.ContainsKey("Access-Control-Allow-Origin"));
    }
}
