using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Tests.Content;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Capture;

public sealed class TrackedActivityValidatorTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private readonly TrackedActivityValidator _validator = new(new FakeTimeProvider(Now), ContentFileBuilder.Sample());

    private CaptureResult Validate(Dictionary<string, string> fields, string? cookie = null) =>
        _validator.Validate(new CaptureInput { Fields = fields, VisitorCookie = cookie, UserAgent = "UA" }, "evt-9");

    [Fact]
    public void A_page_view_by_an_anonymous_visitor_becomes_an_event()
    {
        // Act
        var result = Validate(new() { ["type"] = "page-view", ["visitorId"] = "visitor-123", ["url"] = "https://www.example.com/pricing?utm_source=ads" });

        // Assert
        var e = result.Event!;
        Assert.Equal((LeadEventTypes.PageView, "visitor-123", null as string, Now), (e.Type, e.VisitorId, e.Email, e.OccurredAt));
        Assert.Equal("https://www.example.com/pricing?utm_source=ads", e.Property(LeadEventProperties.Url));
        Assert.Equal("https://www.example.com/pricing?utm_source=ads", e.Context!.LandingPageUrl);
        Assert.Equal("ads", e.Context.UtmSource);
    }

    [Fact]
    public void A_page_view_needs_a_url()
    {
        // Act
        var result = Validate(new() { ["type"] = "page-view", ["visitorId"] = "visitor-123" });

        // Assert
        Assert.Equal(("url", FieldErrorCodes.Required), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Theory]
    [InlineData("email", "Ada@Example.com", "email")]
    [InlineData("email", "", "email")]
    [InlineData("Email", "ada@example.com", "email")]
    [InlineData("leadId", "l0123456789abcdef", "leadId")]
    public void An_activity_that_names_a_person_is_refused_naming_the_field(string field, string value, string named)
    {
        // Act: a beacon anyone can send must not be able to name whose lead it scores.
        var result = Validate(new() { ["type"] = "content-download", ["visitorId"] = "visitor-123", ["contentId"] = "pricing-guide", [field] = value });

        // Assert
        Assert.Equal((named, FieldErrorCodes.NotAllowed), result.Errors.Select(e => (e.Field, e.Code)).Single());
        Assert.Null(result.Event);
    }

    [Theory]
    [InlineData(null, FieldErrorCodes.Required)]
    [InlineData("no-such-content", FieldErrorCodes.UnknownContent)]
    [InlineData("Pricing-Guide", FieldErrorCodes.UnknownContent)]
    public void A_content_download_needs_a_content_id_the_catalogue_knows(string? contentId, string code)
    {
        // Arrange
        var fields = new Dictionary<string, string> { ["type"] = "content-download", ["visitorId"] = "visitor-123", ["funnelStage"] = "bottom" };
        if (contentId is not null)
            fields["contentId"] = contentId;

        // Act
        var result = Validate(fields);

        // Assert
        Assert.Equal(("contentId", code), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("bottom")]
    [InlineData("sideways")]
    public void A_content_download_takes_its_funnel_stage_and_title_from_the_catalogue_whatever_the_request_says(string? claimedStage)
    {
        // Arrange
        var fields = new Dictionary<string, string> { ["type"] = "content-download", ["visitorId"] = "visitor-123", ["contentId"] = "blog-guide", ["title"] = "Pricing" };
        if (claimedStage is not null)
            fields["funnelStage"] = claimedStage;

        // Act
        var result = Validate(fields);

        // Assert
        var e = result.Event!;
        Assert.Equal(("visitor-123", null as string), (e.VisitorId, e.Email));
        Assert.Equal(new Dictionary<string, string> { ["contentId"] = "blog-guide", ["funnelStage"] = "top", ["title"] = "Title of blog-guide" }, e.Properties);
    }

    [Fact]
    public void A_page_view_of_a_catalogued_url_carries_the_catalogues_content_and_ignores_the_pages_claim()
    {
        // Act
        var catalogued = Validate(new() { ["type"] = "page-view", ["visitorId"] = "visitor-123", ["url"] = "https://www.example.com/pricing?plan=pro", ["contentId"] = "blog-guide", ["funnelStage"] = "top" });
        var other = Validate(new() { ["type"] = "page-view", ["visitorId"] = "visitor-123", ["url"] = "https://www.example.com/about", ["contentId"] = "pricing-guide", ["funnelStage"] = "bottom" });

        // Assert
        Assert.Equal(("pricing-guide", "bottom", "Title of pricing-guide"),
            (catalogued.Event!.Property(LeadEventProperties.ContentId), catalogued.Event.Property(LeadEventProperties.FunnelStage), catalogued.Event.Property(LeadEventProperties.Title)));
        Assert.Equal(new Dictionary<string, string> { ["url"] = "https://www.example.com/about" }, other.Event!.Properties);
    }

    [Fact]
    public void An_add_to_cart_keeps_its_product_id_without_a_funnel_stage()
    {
        // Act
        var result = Validate(new() { ["type"] = "add-to-cart", ["visitorId"] = "visitor-123", ["contentId"] = "sku-42", ["funnelStage"] = "bottom" });

        // Assert
        Assert.Equal(new Dictionary<string, string> { ["contentId"] = "sku-42" }, result.Event!.Properties);
    }

    [Fact]
    public void A_webinar_registration_may_name_catalogued_content()
    {
        // Act
        var known = Validate(new() { ["type"] = "webinar-registration", ["visitorId"] = "visitor-123", ["contentId"] = "case-study", ["campaign"] = "autumn" });
        var unknown = Validate(new() { ["type"] = "webinar-registration", ["visitorId"] = "visitor-123", ["contentId"] = "nope" });

        // Assert
        Assert.Equal(("case-study", "middle", "autumn"), (known.Event!.Property("contentId"), known.Event.Property("funnelStage"), known.Event.Property("campaign")));
        Assert.Equal(("contentId", FieldErrorCodes.UnknownContent), unknown.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Theory]
    [InlineData("email-open")]
    [InlineData("form-submission")]
    [InlineData("sales-decision")]
    public void Only_trackable_types_are_accepted(string type)
    {
        // Act
        var result = Validate(new() { ["type"] = type, ["visitorId"] = "visitor-123" });

        // Assert
        Assert.Equal(("type", FieldErrorCodes.UnknownType), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Fact]
    public void An_activity_without_a_visitor_is_refused()
    {
        // Act
        var result = Validate(new() { ["type"] = "add-to-cart" });

        // Assert
        Assert.Equal(("visitorId", FieldErrorCodes.Unidentified), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Fact]
    public void The_tracking_cookie_identifies_the_visitor_when_no_field_does()
    {
        // Act
        var result = Validate(new() { ["type"] = "webinar-registration", ["campaign"] = "autumn" }, cookie: "cookie-visitor-1");

        // Assert
        Assert.Equal("cookie-visitor-1", result.Event!.VisitorId);
        Assert.Equal("autumn", result.Event.Property(LeadEventProperties.Campaign));
    }

    [Fact]
    public void A_malformed_visitor_id_is_an_error_here()
    {
        // Act
        var result = Validate(new() { ["type"] = "add-to-cart", ["visitorId"] = "short" });

        // Assert
        Assert.Equal(("visitorId", FieldErrorCodes.InvalidValue), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }
}
