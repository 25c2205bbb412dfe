using LeadFunctions.Domain.Messaging.Composition;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class EmailTemplateTests
{
    private static EmailTemplates Templates(string html, string text = "Hi {{ lead.firstName }}") =>
        EmailTemplates.FromSources(new Dictionary<string, (string?, string?)> { ["t"] = (html, text) });

    private static Dictionary<string, object?> Model(string firstName, string company = "Acme") => new()
    {
        ["lead"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["firstName"] = firstName, ["company"] = company },
        ["links"] = new Dictionary<string, object?> { ["unsubscribe"] = "https://leads.example.com/api/unsubscribe?t=abc" },
    };

    [Fact]
    public void A_lead_named_with_a_script_tag_is_html_encoded_in_the_html_part()
    {
        // Arrange
        var templates = Templates("<p>Hi {{ lead.firstName }} from {{ lead.company }}</p>");

        // Act
        var rendered = templates.Render("t", "Hello", Model("<script>alert('x')</script>", "\"><img src=x onerror=alert(1)>"));

        // Assert
        Assert.DoesNotContain("<script>", rendered.HtmlBody, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", rendered.HtmlBody, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", rendered.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("&quot;&gt;&lt;img", rendered.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Accented_names_stay_readable_while_markup_is_encoded()
    {
        var rendered = Templates("<p>{{ lead.firstName }}</p>").Render("t", "x", Model("Zoë & Niccolò"));

        Assert.Equal("<p>Zoë &amp; Niccolò</p>", rendered.HtmlBody);
    }

    [Fact]
    public void Cr_and_lf_in_a_field_cannot_add_a_header_through_the_subject()
    {
        // Arrange
        var templates = Templates("<p>x</p>");

        // Act
        var rendered = templates.Render("t", "Hello {{ lead.firstName }}", Model("Eve\r\nBcc: victim@example.com\nX-Evil: 1"));

        // Assert
        Assert.DoesNotContain('\r', rendered.Subject);
        Assert.DoesNotContain('\n', rendered.Subject);
        Assert.Equal("Hello Eve Bcc: victim@example.com X-Evil: 1", rendered.Subject);
    }

    [Fact]
    public void An_encoded_word_or_bidi_control_in_a_field_reaches_the_subject_neutralised()
    {
        // Arrange
        var templates = Templates("<p>x</p>");

        // Act
        var rendered = templates.Render("t", "Hello {{ lead.firstName }} of {{ lead.company }}",
            Model("=?utf-8?q?Eve=0D=0ABcc:_x@evil.example?=", "\u202Eemoc.live"));

        // Assert
        Assert.Equal("Hello = ?utf-8?q?Eve=0D=0ABcc:_x@evil.example?= of emoc.live", rendered.Subject);
    }

    [Fact]
    public void Header_text_loses_every_control_and_line_separator_character()
    {
        Assert.Equal("a b c d", HeaderText.Clean("a\r\nb\u2028c\u0000\td"));
        Assert.Equal("", HeaderText.Clean("\r\n"));
        Assert.Equal(5, HeaderText.Clean("abcdefgh", 5).Length);
    }

    [Fact]
    public void The_text_part_is_not_html_encoded()
    {
        var rendered = Templates("<p>x</p>", "Hi {{ lead.firstName }}").Render("t", "x", Model("Tom & Jerry"));

        Assert.Equal("Hi Tom & Jerry", rendered.TextBody);
    }

    [Fact]
    public void Links_written_by_the_template_are_tracked_and_a_pixel_is_added_but_lead_text_never_becomes_a_link()
    {
        // Arrange
        var templates = Templates("""<html><body><p>{{ lead.firstName }}</p><a href="https://www.example.com/a?x=1&amp;y=2">A</a></body></html>""");
        var rendered = templates.Render("t", "x", Model("""<a href="https://evil.example/">win</a>"""));
        var tracked = new List<string>();

        // Act
        var html = TrackedHtml.Rewrite(rendered.HtmlBody, url => { tracked.Add(url); return "https://t.example/c?t=1&u=2"; }, "https://t.example/o?t=1");

        // Assert
        Assert.Equal(["https://www.example.com/a?x=1&y=2"], tracked);
        Assert.Contains("""href="https://t.example/c?t=1&amp;u=2" """.TrimEnd(), html, StringComparison.Ordinal);
        Assert.Contains("""<img src="https://t.example/o?t=1" width="1" height="1" """.TrimEnd(), html, StringComparison.Ordinal);
        Assert.True(html.IndexOf("<img", StringComparison.Ordinal) < html.IndexOf("</body>", StringComparison.Ordinal));
    }

    [Fact]
    public void A_template_missing_its_text_part_or_with_bad_liquid_is_reported_by_file()
    {
        var error = Assert.Throws<EmailTemplateException>(() => EmailTemplates.FromSources(new Dictionary<string, (string?, string?)>
        {
            ["half"] = ("<p>x</p>", null),
            ["broken"] = ("{% if %}", "ok"),
        }));

        Assert.Contains(error.Errors, e => e.Contains("half.txt.liquid is missing", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("broken.html.liquid", StringComparison.Ordinal));
    }

    [Fact]
    public void The_shipped_templates_all_parse_and_render()
    {
        var templates = EmailTemplates.Load(Path.Combine(AppContext.BaseDirectory, "config", "templates"));

        foreach (var name in templates.Names)
        {
            var rendered = templates.Render(name, "Subject {{ lead.firstName }}", Model("Ada"));
            Assert.False(string.IsNullOrWhiteSpace(rendered.HtmlBody), name);
            Assert.False(string.IsNullOrWhiteSpace(rendered.TextBody), name);
        }
        Assert.Contains("sales-alert", templates.Names);
    }
}
