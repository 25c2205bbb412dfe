using System.Text.Json.Nodes;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Tests.Content;

public sealed class ContentCatalogueTests
{
    private static ContentCatalogueException Invalid(string json) => Assert.Throws<ContentCatalogueException>(() => ContentCatalogue.Parse(json));

    [Fact]
    public void The_shipped_catalogue_loads_with_a_version_and_content_of_every_funnel_stage()
    {
        // Act
        var catalogue = ContentCatalogue.Load(Path.Combine(AppContext.BaseDirectory, "config", "content.json"));

        // Assert
        Assert.False(string.IsNullOrWhiteSpace(catalogue.Version));
        Assert.Equal(FunnelStages.All.Order(), catalogue.Items.Select(i => i.FunnelStage).Distinct().Order());
        Assert.True(catalogue.TryGet("whitepaper-lead-scoring", out var whitepaper));
        Assert.Equal(FunnelStages.Middle, whitepaper.FunnelStage);
    }

    [Fact]
    public void A_valid_file_is_read_into_items()
    {
        // Act
        var catalogue = ContentCatalogue.Parse(ContentFileBuilder.File(ContentFileBuilder.Item("pricing-guide", "bottom", "*/pricing*")));

        // Assert
        Assert.Equal("c-1", catalogue.Version);
        Assert.True(catalogue.TryGet("pricing-guide", out var item));
        Assert.Equal(new ContentItem { Id = "pricing-guide", Title = "Title of pricing-guide", FunnelStage = "bottom", Urls = item.Urls }, item);
        Assert.Equal(["*/pricing*"], item.Urls);
        Assert.False(catalogue.TryGet("Pricing-Guide", out _));
    }

    [Fact]
    public void A_url_is_matched_against_the_patterns_in_file_order_as_a_whole_url_ignoring_case()
    {
        // Arrange: the more specific page first, so it wins over the general one.
        var catalogue = ContentCatalogue.Parse(ContentFileBuilder.File(
            ContentFileBuilder.Item("enterprise-pricing", "bottom", "*/pricing/enterprise*"),
            ContentFileBuilder.Item("pricing", "middle", "*/pricing*"),
            ContentFileBuilder.Item("blog", "top", "https://www.example.com/blog/*")));

        // Act
        var enterprise = catalogue.MatchUrl("https://www.example.com/Pricing/Enterprise?x=1");
        var pricing = catalogue.MatchUrl("https://www.example.com/pricing");
        var blog = catalogue.MatchUrl("https://www.example.com/blog/post-1");
        var otherHost = catalogue.MatchUrl("https://evil.example/x?https://www.example.com/blog/");
        var none = catalogue.MatchUrl("https://www.example.com/about");

        // Assert
        Assert.Equal(("enterprise-pricing", "pricing", "blog"), (enterprise?.Id, pricing?.Id, blog?.Id));
        Assert.Null(otherHost);
        Assert.Null(none);
    }

    [Fact]
    public void Describe_sets_content_id_funnel_stage_and_title_over_what_was_there()
    {
        // Arrange
        var item = new ContentItem { Id = "pricing-guide", Title = "Pricing guide", FunnelStage = "bottom" };
        var properties = new Dictionary<string, string> { [LeadEventProperties.FunnelStage] = "top", [LeadEventProperties.Title] = "Free stuff", ["campaign"] = "c" };

        // Act
        item.Describe(properties);

        // Assert
        Assert.Equal(new Dictionary<string, string> { ["contentId"] = "pricing-guide", ["funnelStage"] = "bottom", ["title"] = "Pricing guide", ["campaign"] = "c" }, properties);
    }

    [Theory]
    [InlineData("id", null, "content[0].id: is required")]
    [InlineData("id", "Pricing Guide", "content[0].id: must be 1-64 lower-case letters")]
    [InlineData("title", null, "content[0].title: is required")]
    [InlineData("title", "line\nbreak", "content[0].title: must be at most 200 characters")]
    [InlineData("funnelStage", null, "content[0].funnelStage: is required (one of top, middle, bottom) (content 'guide')")]
    [InlineData("funnelStage", "deep", "content[0].funnelStage: 'deep' is not one of top, middle, bottom (content 'guide')")]
    public void A_missing_or_wrong_field_is_named(string field, string? value, string expected)
    {
        // Arrange
        var item = ContentFileBuilder.Item("guide", "top");
        item[field] = value;

        // Act
        var error = Invalid(ContentFileBuilder.File(item));

        // Assert
        Assert.StartsWith(expected, Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*", "content[0].urls[0]: '*' matches every URL")]
    [InlineData("*?*", "content[0].urls[0]: '*?*' matches every URL")]
    [InlineData("", "content[0].urls[0]: must be a URL glob")]
    [InlineData("*/pri cing*", "content[0].urls[0]: must be a URL glob")]
    public void A_url_pattern_that_matches_everything_or_is_not_a_glob_is_named(string pattern, string expected)
    {
        // Act
        var error = Invalid(ContentFileBuilder.File(ContentFileBuilder.Item("guide", "top", pattern)));

        // Assert
        Assert.StartsWith(expected, Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_content_id_or_url_pattern_used_twice_is_named_with_where_it_was_first()
    {
        // Act
        var error = Invalid(ContentFileBuilder.File(
            ContentFileBuilder.Item("guide", "top", "*/guide*"),
            ContentFileBuilder.Item("guide", "middle"),
            ContentFileBuilder.Item("other", "middle", "*/GUIDE*")));

        // Assert
        Assert.Equal(
        [
            "content[1].id: 'guide' is already used by content[0] (content 'guide')",
            "content[2].urls[0]: '*/GUIDE*' is already used by content[0].urls[0], which is tried first (content 'other')",
        ], error.Errors);
    }

    [Fact]
    public void A_file_without_version_or_content_says_both()
    {
        // Act
        var error = Invalid("""{ "content": [] }""");

        // Assert
        Assert.Equal(["version: is required (bump it with every change to the catalogue)", "content: must list at least one item"], error.Errors);
    }

    [Fact]
    public void A_misspelt_key_is_refused_not_ignored()
    {
        // Arrange
        var item = ContentFileBuilder.Item("guide", "top");
        item["stage"] = "bottom";

        // Act
        var error = Invalid(ContentFileBuilder.File(item));

        // Assert
        var message = Assert.Single(error.Errors);
        Assert.StartsWith("content.json is not valid JSON:", message, StringComparison.Ordinal);
        Assert.Contains("stage", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        // Act
        var error = Assert.Throws<ContentCatalogueException>(() => ContentCatalogue.Load("/nonexistent/content.json"));

        // Assert
        Assert.Contains("/nonexistent/content.json", Assert.Single(error.Errors), StringComparison.Ordinal);
    }
}

/// <summary>Content catalogue files for tests: one valid item, changed by the test.</summary>
internal static class ContentFileBuilder
{
    public static JsonObject Item(string id, string funnelStage, params string[] urls)
    {
        var item = new JsonObject { ["id"] = id, ["title"] = $"Title of {id}", ["funnelStage"] = funnelStage };
        if (urls.Length > 0)
            item["urls"] = new JsonArray(urls.Select(u => (JsonNode?)JsonValue.Create(u)).ToArray());
        return item;
    }

    public static string File(params JsonObject[] items) =>
        new JsonObject { ["version"] = "c-1", ["content"] = new JsonArray(items.Select(i => (JsonNode?)i).ToArray()) }.ToJsonString();

    /// <summary>A catalogue with one item of each stage, for validators under test.</summary>
    public static ContentCatalogue Sample() => ContentCatalogue.Parse(File(
        Item("blog-guide", "top", "*/blog/*"),
        Item("case-study", "middle"),
        Item("pricing-guide", "bottom", "*/pricing*")));
}
