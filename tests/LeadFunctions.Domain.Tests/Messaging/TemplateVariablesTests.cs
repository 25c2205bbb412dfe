using LeadFunctions.Domain.Messaging.Composition;

namespace LeadFunctions.Domain.Tests.Messaging;

public sealed class TemplateVariablesTests
{
    private static List<string> MissingIn(string html, string text = "plain", string subject = "Hello", Dictionary<string, object?>? model = null)
    {
        var templates = EmailTemplates.FromSources(new Dictionary<string, (string?, string?)> { ["t"] = (html, text) });
        var missing = new List<string>();
        templates.Render("t", subject, model ?? Model(), missing);
        return missing;
    }

    private static Dictionary<string, object?> Model() => new()
    {
        ["lead"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["firstName"] = "Ada", ["company"] = "Engines" },
        ["links"] = new Dictionary<string, object?> { ["unsubscribe"] = "https://x.example/u" },
        ["card"] = new Dictionary<string, object?>
        {
            ["topEvents"] = new List<Dictionary<string, object?>> { new() { ["eventType"] = "page-view", ["points"] = "5" } },
            ["reroutedFrom"] = null,
        },
    };

    [Fact]
    public void A_misspelt_lead_field_is_reported_although_liquid_would_render_it_as_nothing()
    {
        Assert.Equal(["t.html.liquid: lead.fristName"], MissingIn("<p>Hi {{ lead.fristName }}</p>"));
    }

    [Fact]
    public void A_typo_in_a_branch_the_model_does_not_take_is_still_reported()
    {
        var missing = MissingIn("{% if lead.company %}ok{% else %}{{ lead.compnay }}{% endif %}", subject: "{{ lead.firstName | default: lead.nmae }}");

        Assert.Equal(["subject: lead.nmae", "t.html.liquid: lead.compnay"], missing.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Loop_items_are_checked_against_the_lists_first_item_and_loop_and_assigned_names_are_the_templates_own()
    {
        var missing = MissingIn(
            "{% for e in card.topEvents %}{{ e.eventType }} {{ e.pionts }}{% unless forloop.last %},{% endunless %}{% endfor %}" +
            "{% assign who = lead.firstName %}{{ who }}{% capture c %}x{% endcapture %}{{ c }}{% for i in (1..3) %}{{ i }}{% endfor %}{{ card.topEvents.size }}");

        Assert.Equal(["t.html.liquid: e.pionts"], missing);
    }

    [Fact]
    public void A_known_value_that_is_null_in_this_model_is_not_missing_but_an_unknown_root_is()
    {
        var missing = MissingIn("{{ card.reroutedFrom }}", text: "{{ programme }} {{ links.unsubscribe }} {{ links.yourData }}");

        Assert.Equal(["t.txt.liquid: links.yourData", "t.txt.liquid: programme"], missing.Order(StringComparer.Ordinal));
    }
}
