using System.Text.Json.Nodes;
using LeadFunctions.Domain.Capture;

namespace LeadFunctions.Domain.Tests.Capture;

/// <summary>Forms on pages the app serves itself: "self" origins and thank-you paths work on any host and port.</summary>
public sealed class AppHostedFormTests
{
    [Fact]
    public void A_path_on_the_app_is_a_valid_thank_you_url_and_is_kept_relative()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["thankYouUrl"] = "/thanks.html?form=demo";

        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(form));

        // Assert
        Assert.False(catalog.Forms[0].ThankYouUrl.IsAbsoluteUri);
        Assert.Equal("/thanks.html?form=demo", catalog.Forms[0].ThankYouUrl.OriginalString);
    }

    [Theory]
    [InlineData("//evil.example/thanks")]
    [InlineData("/\\evil.example/thanks")]
    [InlineData("/thanks\\..\\x")]
    [InlineData("/thanks\nLocation: https://evil.example")]
    public void A_path_a_browser_could_read_as_another_host_is_refused(string url)
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["thankYouUrl"] = url;

        // Act
        var error = Assert.Throws<FormsFileException>(() => FormCatalog.Parse(FormsFileBuilder.File(form)));

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].thankYouUrl:", StringComparison.Ordinal));
    }

    [Fact]
    public void Self_is_accepted_as_an_allowed_origin()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["allowedOrigins"] = new JsonArray("Self", "https://www.example.com");

        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(form));

        // Assert
        Assert.Equal([OriginPolicy.Self, "https://www.example.com"], catalog.Forms[0].AllowedOrigins);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "127.0.0.1:8080", true)]
    [InlineData("https://leads.azurewebsites.net", "leads.azurewebsites.net", true)]
    [InlineData("http://127.0.0.1:8080", "127.0.0.1:7071", false)]
    [InlineData("https://evil.example", "leads.azurewebsites.net", false)]
    [InlineData("https://evil.example", null, false)]
    public void Self_allows_only_pages_served_from_the_host_the_request_was_sent_to(string origin, string? requestHost, bool allowed)
    {
        // Act
        var result = OriginPolicy.Allows([OriginPolicy.Self], origin, requestHost);

        // Assert
        Assert.Equal(allowed, result);
    }

    [Fact]
    public void A_listed_origin_is_allowed_from_any_host()
    {
        // Act
        var result = OriginPolicy.Allows(["https://www.example.com"], "https://www.example.com", "leads.azurewebsites.net");

        // Assert
        Assert.True(result);
    }
}
