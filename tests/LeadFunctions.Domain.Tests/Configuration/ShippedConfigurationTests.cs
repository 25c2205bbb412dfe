using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Domain.Tests.Configuration;

/// <summary>
/// The shipped files are edited by different people (forms by marketing, the model with sales): these tests keep them
/// speaking the same values, so a fit rule can never silently wait for an answer no form can give.
/// </summary>
public sealed class ShippedConfigurationTests
{
    private static readonly FormCatalog Forms = FormCatalog.Load(Path.Combine(AppContext.BaseDirectory, "config", "forms.json"));
    private static readonly ScoringModel Model = ScoringModelLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "config", "scoring-model.json"));
    private static readonly SalesRouting Routing = SalesRoutingReader.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "sales-routing.json")));
    private static readonly ContentCatalogue Content = ContentCatalogue.Load(Path.Combine(AppContext.BaseDirectory, "config", "content.json"));

    public static TheoryData<string> FitRulesOnChoiceFields()
    {
        var data = new TheoryData<string>();
        foreach (var rule in Model.FitRules.Where(r => ChoicesFor(r.Field).Count > 0))
            data.Add(rule.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(FitRulesOnChoiceFields))]
    public void A_fit_rule_on_a_choice_field_names_only_values_a_shipped_form_can_send(string ruleId)
    {
        // Arrange
        var rule = Model.FitRules.Single(r => r.Id == ruleId);
        var choices = ChoicesFor(rule.Field);

        // Act
        var unreachable = rule.Operator switch
        {
            FitOperator.Equals or FitOperator.OneOf => rule.Values.Where(v => !choices.Contains(v, StringComparer.OrdinalIgnoreCase)).ToList(),
            FitOperator.Contains => rule.Values.Where(v => !choices.Any(c => c.Contains(v, StringComparison.OrdinalIgnoreCase))).ToList(),
            _ => choices.Any(c => rule.Matches(new Dictionary<string, string> { [rule.Field] = c })) ? [] : ["(no choice is in range)"],
        };

        // Assert
        Assert.True(unreachable.Count == 0,
            $"fit rule '{rule.Id}' on '{rule.Field}' waits for {string.Join(", ", unreachable)}, but the forms offer only {string.Join(", ", choices)}");
    }

    public static TheoryData<string> RoutingRulesOnChoiceFields()
    {
        var data = new TheoryData<string>();
        foreach (var rule in Routing.Rules.Where(r => ChoicesFor(r.Field).Count > 0))
            data.Add(rule.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(RoutingRulesOnChoiceFields))]
    public void A_routing_rule_on_a_choice_field_names_only_values_a_shipped_form_can_send(string ruleId)
    {
        // Arrange
        var rule = Routing.Rules.Single(r => r.Id == ruleId);
        var choices = ChoicesFor(rule.Field);

        // Act
        var unreachable = rule.Values.Where(v => !choices.Contains(v, StringComparer.OrdinalIgnoreCase)).ToList();
        if ((rule.Min is not null || rule.Max is not null) && !choices.Any(c => rule.Matches(new Dictionary<string, string> { [rule.Field] = c })))
            unreachable.Add($"(no choice is within {rule.Min}..{rule.Max})");

        // Assert
        Assert.True(unreachable.Count == 0,
            $"routing rule '{rule.Id}' on '{rule.Field}' waits for {string.Join(", ", unreachable)}, but the forms offer only {string.Join(", ", choices)}");
    }

    [Fact]
    public void The_routing_check_reaches_the_company_size_rule()
    {
        Assert.Contains(Routing.Rules, r => r.Id == "enterprise" && ChoicesFor(r.Field).Count > 0);
    }

    [Fact]
    public void An_executive_at_a_mid_sized_company_from_the_demo_form_gets_a_good_fit_grade()
    {
        // Arrange: the answers a real visitor would pick on the shipped demo form.
        var profile = new Dictionary<string, string> { ["role"] = "executive", ["companySize"] = "51-200" };

        // Act
        var score = Model.FitRules.Where(r => r.Matches(profile)).Sum(r => r.Points);

        // Assert
        Assert.Equal("B", Model.GradeFor(score));
    }

    public static TheoryData<string> FunnelStageRules()
    {
        var data = new TheoryData<string>();
        foreach (var rule in Model.EngagementRules.Where(r => r.Match.FunnelStage is not null))
            data.Add(rule.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(FunnelStageRules))]
    public void A_funnel_stage_rule_waits_for_a_stage_some_catalogued_content_has(string ruleId)
    {
        // Arrange
        var stage = Model.EngagementRules.Single(r => r.Id == ruleId).Match.FunnelStage;

        // Act
        var content = Content.Items.Where(i => string.Equals(i.FunnelStage, stage, StringComparison.OrdinalIgnoreCase)).Select(i => i.Id).ToList();

        // Assert
        Assert.True(content.Count > 0, $"rule '{ruleId}' waits for funnel stage '{stage}', but no content in content.json has it");
    }

    public static TheoryData<string> CataloguedContent()
    {
        var data = new TheoryData<string>();
        foreach (var item in Content.Items)
            data.Add(item.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(CataloguedContent))]
    public void A_download_of_any_catalogued_content_earns_the_points_of_its_funnel_stage(string contentId)
    {
        // Arrange: the download as the events endpoint builds it, with a client claiming the best stage.
        Assert.True(Content.TryGet(contentId, out var item));
        var validator = new TrackedActivityValidator(new FakeTimeProvider(), Content);
        var download = validator.Validate(new CaptureInput
        {
            Fields = new Dictionary<string, string> { ["type"] = "content-download", ["visitorId"] = "visitor-123", ["contentId"] = contentId, ["funnelStage"] = "bottom" },
        }, "evt-1").Event!;

        // Act
        var matched = Model.EngagementRules.Where(r => ScoringEngine.Matches(r.Match, download)).ToList();

        // Assert
        var rule = Assert.Single(matched);
        Assert.Equal(item.FunnelStage, rule.Match.FunnelStage);
    }

    [Fact]
    public void Every_content_a_shipped_form_names_is_in_the_catalogue()
    {
        // Act
        var unknown = Forms.Forms
            .Where(f => f.Properties.TryGetValue(LeadEventProperties.ContentId, out var id) && !Content.TryGet(id, out _))
            .Select(f => f.Id)
            .ToList();

        // Assert
        Assert.True(unknown.Count == 0, $"forms {string.Join(", ", unknown)} name content that content.json does not list");
        Assert.Contains(Forms.Forms, f => f.Properties.ContainsKey(LeadEventProperties.ContentId));
    }

    public static TheoryData<string, string> CataloguedUrlPatterns()
    {
        var data = new TheoryData<string, string>();
        foreach (var item in Content.Items)
        {
            foreach (var pattern in item.Urls)
                data.Add(item.Id, pattern);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CataloguedUrlPatterns))]
    public void A_catalogued_url_pattern_is_not_hidden_by_an_earlier_broader_one(string contentId, string pattern)
    {
        // Arrange: a page the pattern describes (leading '*' on a site, other wildcards as a plain word).
        var url = ExampleUrl(pattern);

        // Act
        var matched = Content.MatchUrl(url);

        // Assert
        Assert.True(matched?.Id == contentId, $"a page view of {url} ('{pattern}' of '{contentId}') is filed under '{matched?.Id}'");
    }

    [Fact]
    public void The_pricing_page_is_bottom_of_funnel_content_and_earns_the_pricing_page_points()
    {
        // Arrange
        const string url = "https://www.example.com/pricing?plan=team";

        // Act
        var content = Content.MatchUrl(url);
        var rules = Model.EngagementRules.Where(r => ScoringEngine.Matches(r.Match, PageView(url))).Select(r => r.Id).ToList();

        // Assert
        Assert.Equal(("pricing-guide", FunnelStages.Bottom), (content?.Id, content?.FunnelStage));
        Assert.Contains("pricing-page", rules);
    }

    private static string ExampleUrl(string pattern)
    {
        var url = pattern.StartsWith('*') ? "https://www.example.com" + pattern[1..] : pattern;
        return url.Replace("*", "example", StringComparison.Ordinal).Replace("?", "x", StringComparison.Ordinal);
    }

    private static LeadEvent PageView(string url) => new()
    {
        EventId = "evt-page",
        Type = LeadEventTypes.PageView,
        OccurredAt = DateTimeOffset.UnixEpoch,
        VisitorId = "visitor-123",
        Properties = new Dictionary<string, string> { [LeadEventProperties.Url] = url },
    };

    private static List<string> ChoicesFor(string profileField) =>
        Forms.Forms.SelectMany(f => f.Fields)
            .Where(f => f.Type == FormFieldType.Choice && string.Equals(f.ProfileField, profileField, StringComparison.Ordinal))
            .SelectMany(f => f.Options)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
}
