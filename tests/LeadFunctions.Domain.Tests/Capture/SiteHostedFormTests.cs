using System.Text.Json.Nodes;
using LeadFunctions.Domain.Capture;

namespace LeadFunctions.Domain.Tests.Capture;

/// <summary>
/// Forms whose landing pages live on a site apart from the app (Capture:SiteBaseUrl, e.g. the Static Web App azd deploys):
/// redirect paths become absolute URLs on that site, and the "site" origin keyword means its origin.
/// </summary>
public sealed class SiteHostedFormTests
{
    private static readonly Uri Site = new("https://landing.example.net");

    private static FormDefinition Parse(JsonObject form, Uri? site) => FormCatalog.Parse(FormsFileBuilder.File(form), site).Forms[0];

    [Fact]
    public void A_thank_you_path_is_resolved_to_an_absolute_url_on_the_site()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["thankYouUrl"] = "/thanks.html?form=demo";
        form["errorUrl"] = "/index.html";

        // Act
        var parsed = Parse(form, Site);

        // Assert
        Assert.Equal("https://landing.example.net/thanks.html?form=demo", parsed.ThankYouUrl.AbsoluteUri);
        Assert.Equal("https://landing.example.net/index.html", parsed.ErrorUrl!.AbsoluteUri);
    }

    [Fact]
    public void A_path_is_resolved_under_the_sites_own_path()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["thankYouUrl"] = "/thanks.html";

        // Act
        var parsed = Parse(form, new Uri("https://www.example.com/landing/"));

        // Assert
        Assert.Equal("https://www.example.com/landing/thanks.html", parsed.ThankYouUrl.AbsoluteUri);
    }

    [Fact]
    public void An_absolute_url_the_forms_file_names_is_kept_as_it_is()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();

        // Act
        var parsed = Parse(form, Site);

        // Assert
        Assert.Equal("https://www.example.com/thanks", parsed.ThankYouUrl.AbsoluteUri);
        Assert.Equal("https://www.example.com/oops", parsed.ErrorUrl!.AbsoluteUri);
    }

    [Fact]
    public void Without_a_site_a_path_stays_relative_to_the_app()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["thankYouUrl"] = "/thanks.html?form=demo";

        // Act
        var parsed = Parse(form, site: null);

        // Assert
        Assert.False(parsed.ThankYouUrl.IsAbsoluteUri);
        Assert.Equal("/thanks.html?form=demo", parsed.ThankYouUrl.OriginalString);
    }

    [Fact]
    public void The_site_keyword_becomes_the_sites_origin()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["allowedOrigins"] = new JsonArray("Site", "https://www.example.com");

        // Act
        var parsed = Parse(form, new Uri("https://Landing.Example.net/some/path"));

        // Assert
        Assert.Equal(["https://landing.example.net", "https://www.example.com"], parsed.AllowedOrigins);
        Assert.True(parsed.AllowsOrigin("https://landing.example.net", "func-abc.azurewebsites.net"));
        Assert.False(parsed.AllowsOrigin("https://evil.example", "func-abc.azurewebsites.net"));
    }

    [Fact]
    public void A_site_on_a_port_keeps_the_port_in_its_origin()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["allowedOrigins"] = new JsonArray("site");

        // Act
        var parsed = Parse(form, new Uri("http://127.0.0.1:5500"));

        // Assert
        Assert.Equal(["http://127.0.0.1:5500"], parsed.AllowedOrigins);
    }

    [Fact]
    public void Without_a_site_the_site_keyword_means_the_app_itself()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["allowedOrigins"] = new JsonArray("site", "self");

        // Act
        var parsed = Parse(form, site: null);

        // Assert
        Assert.Equal([OriginPolicy.Self], parsed.AllowedOrigins);
        Assert.True(parsed.AllowsOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"));
    }

    [Fact]
    public void Every_origin_of_the_catalog_includes_the_site_so_the_sites_tracking_snippet_may_post_events()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["allowedOrigins"] = new JsonArray("site");

        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(form), Site);

        // Assert
        Assert.Equal(["https://landing.example.net"], catalog.AllOrigins);
    }

    [Fact]
    public void A_path_too_long_once_on_the_site_is_refused_naming_the_field()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["thankYouUrl"] = "/" + new string('a', FormCatalog.MaxUrlLength - 1);

        // Act
        var error = Assert.Throws<FormsFileException>(() => FormCatalog.Parse(FormsFileBuilder.File(form), Site));

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].thankYouUrl:", StringComparison.Ordinal) && e.Contains("Capture:SiteBaseUrl", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://landing.example.net", true)]
    [InlineData("https://www.example.com/landing/", true)]
    [InlineData("http://127.0.0.1:5500", true)]
    [InlineData("http://localhost:5500/", true)]
    [InlineData("http://landing.example.net", false)]
    [InlineData("https://user:pass@landing.example.net", false)]
    [InlineData("https://landing.example.net/?next=https://evil.example", false)]
    [InlineData("https://landing.example.net/#x", false)]
    [InlineData("/thanks.html", false)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("", false)]
    public void A_site_base_url_is_an_absolute_https_url_or_http_on_loopback_without_query_or_user_info(string value, bool valid)
    {
        // Act
        var result = FormCatalog.TryParseSiteBaseUrl(value, out _);

        // Assert
        Assert.Equal(valid, result);
    }
}
