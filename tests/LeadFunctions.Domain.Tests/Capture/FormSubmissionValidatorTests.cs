using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tests.Content;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Capture;

public sealed class FormSubmissionValidatorTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private readonly FormDefinition _form = FormCatalog.Parse(FormsFileBuilder.File(FormsFileBuilder.ValidForm())).Forms[0];
    private readonly FormSubmissionValidator _validator = new(new FakeTimeProvider(Now), ContentFileBuilder.Sample());

    private static Dictionary<string, string> ValidFields() => new()
    {
        ["email"] = "  Ada.Lovelace@Example.COM ",
        ["firstName"] = "Ada",
        ["company"] = "Analytical Engines",
        ["companySize"] = "11-50",
        ["message"] = "Line one\r\nLine two",
        ["consent"] = "on",
    };

    private CaptureResult Validate(Dictionary<string, string> fields, string? userAgent = null, string? referer = null, string? cookie = null) =>
        _validator.Validate(_form, new CaptureInput { Fields = fields, UserAgent = userAgent, RefererHeader = referer, VisitorCookie = cookie }, "evt-1");

    [Fact]
    public void A_valid_submission_becomes_a_form_submission_event_with_profile_and_consent()
    {
        // Act
        var result = Validate(ValidFields());

        // Assert
        var e = Assert.IsType<LeadEvent>(result.Event);
        Assert.Equal("evt-1", e.EventId);
        Assert.Equal(LeadEventTypes.FormSubmission, e.Type);
        Assert.Equal(FormIntent.DemoRequest, e.Intent);
        Assert.Equal("demo", e.FormId);
        Assert.Equal(Now, e.OccurredAt);
        Assert.Equal("ada.lovelace@example.com", e.Email);
        Assert.Equal(new Dictionary<string, string>
        {
            ["firstName"] = "Ada", ["company"] = "Analytical Engines", ["companySize"] = "11-50", ["message"] = "Line one\r\nLine two",
        }, e.Profile);
        Assert.Equal([new ConsentRecord(ConsentPurposes.MarketingEmail, "v3", false, Now, "form:demo") { Pending = true }], e.Consents);
    }

    [Fact]
    public void A_ticked_box_on_a_double_opt_in_form_is_only_a_pending_request_not_consent()
    {
        // Act
        var consent = Assert.Single(Validate(ValidFields()).Event!.Consents);

        // Assert
        Assert.True(_form.Consent!.DoubleOptIn);
        Assert.True(consent.Pending);
        Assert.False(consent.Granted);
        Assert.Null(consent.ConfirmedAt);
    }

    [Fact]
    public void A_ticked_box_on_a_form_without_double_opt_in_grants_consent_at_once()
    {
        // Arrange
        var form = _form with { Consent = _form.Consent! with { DoubleOptIn = false } };

        // Act
        var result = _validator.Validate(form, new CaptureInput { Fields = ValidFields() }, "evt-3");

        // Assert
        Assert.Equal([new ConsentRecord(ConsentPurposes.MarketingEmail, "v3", true, Now, "form:demo")], result.Event!.Consents);
    }

    [Fact]
    public void Missing_required_fields_and_consent_are_each_reported()
    {
        // Arrange
        var fields = ValidFields();
        fields.Remove("email");
        fields["firstName"] = "   ";
        fields.Remove("consent");

        // Act
        var result = Validate(fields);

        // Assert
        Assert.Null(result.Event);
        Assert.Equal(
            [("email", FieldErrorCodes.Required), ("firstName", FieldErrorCodes.Required), ("consent", FieldErrorCodes.ConsentRequired)],
            result.Errors.Select(e => (e.Field, e.Code)));
    }

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("Ada <ada@example.com>")]
    [InlineData("ada@localhost")]
    public void An_invalid_email_is_refused(string email)
    {
        // Arrange
        var fields = ValidFields();
        fields["email"] = email;

        // Act
        var result = Validate(fields);

        // Assert
        Assert.Equal(("email", FieldErrorCodes.InvalidEmail), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Fact]
    public void A_value_over_the_field_limit_is_refused()
    {
        // Arrange
        var fields = ValidFields();
        fields["firstName"] = new string('a', 51);

        // Act
        var result = Validate(fields);

        // Assert
        Assert.Equal(("firstName", FieldErrorCodes.TooLong), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Fact]
    public void A_choice_outside_its_options_is_refused()
    {
        // Arrange
        var fields = ValidFields();
        fields["companySize"] = "10000";

        // Act
        var result = Validate(fields);

        // Assert
        Assert.Equal(("companySize", FieldErrorCodes.NotAnOption), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Fact]
    public void Line_breaks_are_refused_in_a_single_line_field()
    {
        // Arrange
        var fields = ValidFields();
        fields["company"] = "Evil\r\nBcc: everyone@example.com";

        // Act
        var result = Validate(fields);

        // Assert
        Assert.Equal(("company", FieldErrorCodes.InvalidCharacters), result.Errors.Select(e => (e.Field, e.Code)).Single());
    }

    [Fact]
    public void A_filled_honeypot_is_spam_even_when_the_rest_is_invalid()
    {
        // Arrange
        var fields = new Dictionary<string, string> { ["website"] = "http://spam.example", ["email"] = "bad" };

        // Act
        var result = Validate(fields);

        // Assert
        Assert.True(result.IsSpam);
        Assert.Null(result.Event);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void An_empty_honeypot_is_not_spam()
    {
        // Arrange
        var fields = ValidFields();
        fields["website"] = "";

        // Act
        var result = Validate(fields);

        // Assert
        Assert.False(result.IsSpam);
        Assert.NotNull(result.Event);
    }

    [Fact]
    public void An_unticked_optional_consent_records_nothing()
    {
        // Arrange
        var form = _form with { Consent = _form.Consent! with { Required = false } };
        var fields = ValidFields();
        fields["consent"] = "false";

        // Act
        var result = _validator.Validate(form, new CaptureInput { Fields = fields }, "evt-2");

        // Assert
        Assert.Empty(result.Event!.Consents);
    }

    [Fact]
    public void The_capture_context_comes_from_fields_and_headers()
    {
        // Arrange
        var fields = ValidFields();
        fields["utm_source"] = "linkedin";
        fields["utm_medium"] = "social";
        fields["utm_campaign"] = "spring";
        fields["utm_term"] = "lead scoring";
        fields["utm_content"] = "carousel";
        fields["referrer"] = "https://www.linkedin.com/feed/";
        fields["pageUrl"] = "https://www.example.com/demo";
        fields["visitorId"] = "v_0123456789abcdef";

        // Act
        var result = Validate(fields, userAgent: "Mozilla/5.0 (Test)", cookie: "cookie-visitor-1");

        // Assert
        var e = result.Event!;
        Assert.Equal("v_0123456789abcdef", e.VisitorId);
        Assert.Equal(new CaptureContext
        {
            UtmSource = "linkedin", UtmMedium = "social", UtmCampaign = "spring", UtmTerm = "lead scoring", UtmContent = "carousel",
            Referrer = "https://www.linkedin.com/feed/", LandingPageUrl = "https://www.example.com/demo", UserAgent = "Mozilla/5.0 (Test)",
        }, e.Context);
    }

    [Fact]
    public void A_plain_form_takes_its_landing_page_and_utm_tags_from_the_referer_header()
    {
        // Act
        var result = Validate(ValidFields(), referer: "https://www.example.com/demo?utm_source=newsletter&utm_campaign=june%20launch");

        // Assert
        var context = result.Event!.Context!;
        Assert.Equal("https://www.example.com/demo?utm_source=newsletter&utm_campaign=june%20launch", context.LandingPageUrl);
        Assert.Equal("newsletter", context.UtmSource);
        Assert.Equal("june launch", context.UtmCampaign);
    }

    [Fact]
    public void The_visitor_id_falls_back_to_the_cookie_and_malformed_ids_are_dropped()
    {
        // Arrange
        var fields = ValidFields();
        fields["visitorId"] = "<script>";

        // Act
        var fromCookie = Validate(fields, cookie: "cookie-visitor-1");
        var neither = Validate(fields, cookie: "x");

        // Assert
        Assert.Equal("cookie-visitor-1", fromCookie.Event!.VisitorId);
        Assert.Null(neither.Event!.VisitorId);
    }

    [Fact]
    public void Malformed_context_is_dropped_rather_than_losing_the_lead()
    {
        // Arrange
        var fields = ValidFields();
        fields["pageUrl"] = "javascript:alert(1)";
        fields["utm_source"] = new string('x', 500);

        // Act
        var result = Validate(fields);

        // Assert
        Assert.NotNull(result.Event);
        Assert.Null(result.Event.Context!.LandingPageUrl);
        Assert.Null(result.Event.Context.UtmSource);
    }

    [Fact]
    public void Fixed_form_properties_travel_with_the_event_and_its_content_is_described_by_the_catalogue()
    {
        // Arrange
        var form = _form with { Properties = new Dictionary<string, string> { [LeadEventProperties.ContentId] = "pricing-guide", [LeadEventProperties.Campaign] = "spring" } };

        // Act
        var result = _validator.Validate(form, new CaptureInput { Fields = ValidFields() }, "evt-3");

        // Assert
        Assert.Equal(new Dictionary<string, string> { ["contentId"] = "pricing-guide", ["funnelStage"] = "bottom", ["title"] = "Title of pricing-guide", ["campaign"] = "spring" },
            result.Event!.Properties);
    }

    [Fact]
    public void Undeclared_fields_are_not_stored()
    {
        // Arrange
        var fields = ValidFields();
        fields["submit"] = "Send";

        // Act
        var result = Validate(fields);

        // Assert
        Assert.DoesNotContain("submit", result.Event!.Profile.Keys);
        Assert.DoesNotContain("Send", result.Event.Profile.Values);
    }
}
