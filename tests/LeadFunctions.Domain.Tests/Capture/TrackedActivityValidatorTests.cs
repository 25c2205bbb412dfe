using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Events;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Capture;

public sealed class TrackedActivityValidatorTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private readonly TrackedActivityValidator _validator = new(new FakeTimeProvider(Now));

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
    [InlineData(null, FieldErrorCodes.Required)]
    [InlineData("sideways", FieldErrorCodes.NotAnOption)]
    public void A_content_download_needs_a_known_funnel_stage(string? stage, string code)
    {
        // Arrange
        var fields = new Dictionary<string, string> { ["type"] = "content-download", ["email"] = "a@example.com" };
        if (stage is not null)
            fields["funnelStage"] = stage;

        // Act
        var result = Validate(fields);

        // Assert
        Assert.Equal(("funnelStage", code), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Fact]
    public void A_content_download_by_email_is_normalised_and_keeps_its_stage()
    {
        // Act
        var result = Validate(new() { ["type"] = "content-download", ["email"] = " Bob@Example.com", ["funnelStage"] = "bottom", ["contentId"] = "pricing-guide" });

        // Assert
        var e = result.Event!;
        Assert.Equal("bob@example.com", e.Email);
        Assert.Equal("bottom", e.Property(LeadEventProperties.FunnelStage));
        Assert.Equal("pricing-guide", e.Property(LeadEventProperties.ContentId));
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
    public void An_activity_without_email_or_visitor_is_refused()
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
