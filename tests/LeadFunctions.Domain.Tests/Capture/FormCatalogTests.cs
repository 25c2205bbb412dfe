using System.Text.Json.Nodes;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Tests.Capture;

public sealed class FormCatalogTests
{
    private static FormsFileException Invalid(string json) => Assert.Throws<FormsFileException>(() => FormCatalog.Parse(json));

    [Fact]
    public void The_shipped_forms_file_is_valid_and_covers_every_intent()
    {
        // Act
        var catalog = FormCatalog.Load(Path.Combine(AppContext.BaseDirectory, "config", "forms.json"));

        // Assert
        Assert.False(string.IsNullOrWhiteSpace(catalog.Version));
        Assert.Equal(Enum.GetValues<FormIntent>().Order(), catalog.Forms.Select(f => f.Intent).Distinct().Order());
        Assert.True(catalog.TryGet("newsletter", out var newsletter));
        Assert.Equal(ConsentPurposes.MarketingEmail, newsletter.Consent!.Purpose);
        Assert.All(catalog.Forms, f => Assert.NotNull(f.HoneypotField));
    }

    [Fact]
    public void A_valid_file_is_read_into_definitions()
    {
        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(FormsFileBuilder.ValidForm()));

        // Assert
        Assert.Equal("7", catalog.Version);
        Assert.True(catalog.TryGet("demo", out var form));
        Assert.Equal(FormIntent.DemoRequest, form.Intent);
        Assert.Equal("email", form.EmailField.Name);
        Assert.Equal(["1-10", "11-50", "51-200"], form.Fields.Single(f => f.Name == "companySize").Options);
        Assert.Equal(new FormConsentDefinition { Field = "consent", Purpose = ConsentPurposes.MarketingEmail, TextVersion = "v3", Required = true }, form.Consent);
        Assert.Equal(new Uri("https://www.example.com/thanks"), form.ThankYouUrl);
        Assert.Equal(["https://www.example.com"], form.AllowedOrigins);
        Assert.False(catalog.TryGet("Demo", out _));
    }

    [Fact]
    public void A_thank_you_url_on_plain_http_names_the_form_and_field()
    {
        // Arrange
        var bad = FormsFileBuilder.ValidForm("quote", "quote-request");
        bad["thankYouUrl"] = "http://www.example.com/thanks";

        // Act
        var error = Invalid(FormsFileBuilder.File(FormsFileBuilder.ValidForm("a"), FormsFileBuilder.ValidForm("b"), bad));

        // Assert
        var message = Assert.Single(error.Errors);
        Assert.StartsWith("forms[2].thankYouUrl: must be an absolute https URL", message, StringComparison.Ordinal);
        Assert.Contains("(form 'quote')", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7071/thanks.html")]
    [InlineData("http://localhost:8080/thanks")]
    [InlineData("https://www.example.com/thanks?x=1")]
    public void Http_is_allowed_only_on_loopback_hosts(string url)
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["thankYouUrl"] = url;

        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(form));

        // Assert
        Assert.Equal(new Uri(url), catalog.Forms[0].ThankYouUrl);
    }

    [Theory]
    [InlineData("thankYouUrl", "//evil.example/thanks", "forms[0].thankYouUrl:")]
    [InlineData("thankYouUrl", "javascript:alert(1)", "forms[0].thankYouUrl:")]
    [InlineData("thankYouUrl", "https://user:pw@www.example.com/", "forms[0].thankYouUrl:")]
    [InlineData("errorUrl", "ftp://www.example.com/", "forms[0].errorUrl:")]
    [InlineData("id", "Demo Form", "forms[0].id:")]
    [InlineData("intent", "buy-now", "forms[0].intent: 'buy-now' is not one of")]
    [InlineData("honeypotField", "1st", "forms[0].honeypotField:")]
    public void A_wrong_form_setting_is_named(string property, string value, string expected)
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form[property] = value;

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://www.example.com/landing")]
    [InlineData("http://www.example.com")]
    [InlineData("www.example.com")]
    public void An_allowed_origin_must_be_an_exact_origin(string origin)
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["allowedOrigins"] = new JsonArray(origin);

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.StartsWith("forms[0].allowedOrigins[0]:", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Allowed_origins_are_normalised_to_what_browsers_send()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["allowedOrigins"] = new JsonArray("HTTPS://WWW.Example.com/", "https://www.example.com:443", "http://127.0.0.1:7071");

        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(form));

        // Assert
        Assert.Equal(["https://www.example.com", "http://127.0.0.1:7071"], catalog.Forms[0].AllowedOrigins);
    }

    [Fact]
    public void Field_mistakes_are_each_named_by_index()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        var fields = form["fields"]!.AsArray();
        fields[1]!["profileField"] = null;
        fields[2]!["maxLength"] = 0;
        fields[3]!["options"] = new JsonArray();
        fields[4]!["type"] = "date";

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].fields[1].profileField: is required", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].fields[2].maxLength: must be between 1 and", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].fields[3].options: a choice field must list its options", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].fields[4].type: 'date' is not one of", StringComparison.Ordinal));
    }

    [Fact]
    public void A_form_without_an_email_field_is_refused()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["fields"]!.AsArray().RemoveAt(0);

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.Contains("forms[0].fields: must have exactly one field of type 'email' (has 0) (form 'demo')", error.Errors);
    }

    [Fact]
    public void An_optional_email_field_is_refused()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["fields"]![0]!["required"] = false;

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].fields[0].required: the e-mail field must be required", StringComparison.Ordinal));
    }

    [Fact]
    public void Reserved_and_repeated_field_names_are_refused()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["fields"]![2]!["name"] = "utm_source";
        form["honeypotField"] = "firstName";

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].fields[2].name: 'utm_source' is reserved", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].honeypotField: 'firstName' is already used by forms[0].fields[1].name", StringComparison.Ordinal));
    }

    [Fact]
    public void A_newsletter_must_require_marketing_consent()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm("news", "newsletter-signup");
        form["consent"]!["required"] = false;

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.Contains("forms[0].consent: a newsletter sign-up must require 'marketing-email' consent (form 'news')", error.Errors);
    }

    [Fact]
    public void Consent_without_a_text_version_is_refused()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["consent"]!["textVersion"] = " ";

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith("forms[0].consent.textVersion: is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Marketing_consent_asks_for_double_opt_in_unless_the_form_turns_it_off()
    {
        // Arrange
        var off = FormsFileBuilder.ValidForm("off");
        off["consent"]!["doubleOptIn"] = false;

        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(FormsFileBuilder.ValidForm("default"), off));

        // Assert
        Assert.True(catalog.TryGet("default", out var byDefault));
        Assert.True(byDefault.Consent!.DoubleOptIn);
        Assert.True(catalog.TryGet("off", out var turnedOff));
        Assert.False(turnedOff.Consent!.DoubleOptIn);
    }

    [Fact]
    public void Every_shipped_form_asks_for_double_opt_in_for_marketing_email()
    {
        var catalog = FormCatalog.Load(Path.Combine(AppContext.BaseDirectory, "config", "forms.json"));

        Assert.All(catalog.Forms.Where(f => f.Consent?.Purpose == ConsentPurposes.MarketingEmail), f => Assert.True(f.Consent!.DoubleOptIn, f.Id));
    }

    [Fact]
    public void Double_opt_in_on_a_purpose_other_than_marketing_email_names_the_field()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["consent"]!["purpose"] = "terms";
        form["consent"]!["doubleOptIn"] = true;

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        var message = Assert.Single(error.Errors);
        Assert.StartsWith("forms[0].consent.doubleOptIn: applies only to 'marketing-email' consent", message, StringComparison.Ordinal);
        Assert.EndsWith("(form 'demo')", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_double_opt_in_setting_that_is_not_a_boolean_names_the_field()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["consent"]!["doubleOptIn"] = "yes";

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.StartsWith("forms[0].consent.doubleOptIn:", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_purpose_other_than_marketing_email_never_uses_double_opt_in()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["consent"]!["purpose"] = "terms";

        // Act
        var catalog = FormCatalog.Parse(FormsFileBuilder.File(form));

        // Assert
        Assert.False(catalog.Forms[0].Consent!.DoubleOptIn);
    }

    [Fact]
    public void Two_forms_with_one_id_are_refused()
    {
        // Act
        var error = Invalid(FormsFileBuilder.File(FormsFileBuilder.ValidForm("same"), FormsFileBuilder.ValidForm("same")));

        // Assert
        Assert.Contains("forms[1].id: 'same' is used by another form", error.Errors);
    }

    [Fact]
    public void A_misspelt_property_is_named_with_its_path()
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["fields"]![1]!["requried"] = true;

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.StartsWith("forms[0].fields[1].requried:", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_version_or_forms_says_both()
    {
        // Act
        var error = Invalid("""{ "forms": [] }""");

        // Assert
        Assert.Contains(error.Errors, e => e.StartsWith("version: is required", StringComparison.Ordinal));
        Assert.Contains("forms: must list at least one form", error.Errors);
    }

    [Theory]
    [InlineData("funnelStage", "bottom")]
    [InlineData("title", "Pricing guide")]
    public void A_form_may_not_set_what_its_content_is_worth_only_name_the_content(string property, string value)
    {
        // Arrange
        var form = FormsFileBuilder.ValidForm();
        form["properties"] = new JsonObject { [property] = value, ["contentId"] = "pricing-guide" };

        // Act
        var error = Invalid(FormsFileBuilder.File(form));

        // Assert
        Assert.StartsWith($"forms[0].properties.{property}: comes from the content catalogue (config/content.json); name the content with 'contentId' instead",
            Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        // Act
        var error = Assert.Throws<FormsFileException>(() => FormCatalog.Load("/nonexistent/forms.json"));

        // Assert
        Assert.Contains("/nonexistent/forms.json", Assert.Single(error.Errors), StringComparison.Ordinal);
    }
}
