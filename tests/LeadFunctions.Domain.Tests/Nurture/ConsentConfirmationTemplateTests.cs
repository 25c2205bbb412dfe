using LeadFunctions.Domain.Messaging.Composition;

namespace LeadFunctions.Domain.Tests.Nurture;

/// <summary>The shipped double opt-in template, rendered as the composer renders it.</summary>
public sealed class ConsentConfirmationTemplateTests
{
    private const string Subject = "{{ lead.firstName | default: 'Hello' }}, please confirm you want our e-mails";
    private const string Link = "https://leads.example.com/api/consent/confirm?t=abc.def";

    private static readonly EmailTemplates Shipped = EmailTemplates.Load(Path.Combine(AppContext.BaseDirectory, "config", "templates"));

    private static RenderedEmail Render(string? firstName) => Shipped.Render("consent-confirmation", Subject, new Dictionary<string, object?>
    {
        ["lead"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["firstName"] = firstName, ["leadId"] = "l0" },
        ["links"] = new Dictionary<string, object?> { ["confirm"] = Link },
        ["validDays"] = 7,
    });

    [Fact]
    public void Both_parts_carry_the_confirmation_link_and_how_long_it_works()
    {
        var rendered = Render("Ada");

        Assert.Contains($"href=\"{Link}\"", rendered.HtmlBody, StringComparison.Ordinal);
        Assert.Contains(Link, rendered.TextBody, StringComparison.Ordinal);
        Assert.Contains("7 days", rendered.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("7 days", rendered.TextBody, StringComparison.Ordinal);
        Assert.StartsWith("Hi Ada,", rendered.TextBody, StringComparison.Ordinal);
        Assert.Equal("Ada, please confirm you want our e-mails", rendered.Subject);
    }

    [Fact]
    public void A_first_name_with_markup_is_escaped_in_the_html_part()
    {
        var rendered = Render("<script>alert(1)</script>");

        Assert.DoesNotContain("<script>", rendered.HtmlBody, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Hi &lt;script&gt;alert(1)&lt;/script&gt;,", rendered.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lead_without_a_first_name_is_greeted_plainly()
    {
        var rendered = Render(null);

        Assert.Contains("Hi there,", rendered.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("Hello, please confirm you want our e-mails", rendered.Subject);
    }
}
