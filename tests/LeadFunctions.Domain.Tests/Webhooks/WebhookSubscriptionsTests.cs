using LeadFunctions.Domain.Webhooks;

namespace LeadFunctions.Domain.Tests.Webhooks;

public sealed class WebhookSubscriptionsTests
{
    private const string Valid = """
        {
          // comments are allowed, as in every config file
          "version": "1",
          "subscriptions": [
            { "id": "crm", "url": "https://crm.example.com/hooks", "events": ["stage-changed", "sql-alert"], "secretSetting": "Webhooks__Secrets__Default" },
            { "id": "chat", "url": "https://chat.example.com/in", "events": ["sql-alert"], "secretSetting": "Webhooks__Secrets__chat", "includeProfile": true },
          ]
        }
        """;

    [Fact]
    public void A_valid_file_gives_each_subscription_with_profile_data_off_unless_asked_for()
    {
        var catalogue = WebhookCatalogueReader.Parse(Valid, allowHttp: false);

        Assert.Equal("1", catalogue.Version);
        Assert.Equal(["crm", "chat"], catalogue.Subscriptions.Select(s => s.Id));
        Assert.False(catalogue.Find("crm")!.IncludeProfile);
        Assert.True(catalogue.Find("chat")!.IncludeProfile);
        Assert.True(catalogue.Find("crm")!.Wants(WebhookEventTypes.StageChanged));
        Assert.False(catalogue.Find("chat")!.Wants(WebhookEventTypes.StageChanged));
    }

    [Fact]
    public void Plain_http_is_accepted_only_when_allowed_for_development()
    {
        const string json = """{ "version": "1", "subscriptions": [ { "id": "local", "url": "http://127.0.0.1:5000/hook", "events": ["sql-alert"], "secretSetting": "S" } ] }""";

        Assert.Single(WebhookCatalogueReader.Parse(json, allowHttp: true).Subscriptions);
        var error = Assert.Throws<WebhookConfigurationException>(() => WebhookCatalogueReader.Parse(json, allowHttp: false));
        Assert.Contains(error.Errors, e => e.StartsWith("subscriptions[0].url: must use https", StringComparison.Ordinal) && e.EndsWith("(subscription 'local')", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{ "subscriptions": [] }""", "version: is required")]
    [InlineData("""{ "version": "1" }""", "subscriptions: is required")]
    [InlineData("""{ "version": "1", "subscriptions": [ { "id": "Bad Id", "url": "https://a.example", "events": ["sql-alert"], "secretSetting": "S" } ] }""", "subscriptions[0].id:")]
    [InlineData("""{ "version": "1", "subscriptions": [ { "id": "a", "url": "https://a.example", "events": ["sql-alert"], "secretSetting": "S" }, { "id": "a", "url": "https://b.example", "events": ["sql-alert"], "secretSetting": "S" } ] }""", "subscriptions[1].id: 'a' is already used by subscriptions[0]")]
    [InlineData("""{ "version": "1", "subscriptions": [ { "id": "a", "url": "/relative", "events": ["sql-alert"], "secretSetting": "S" } ] }""", "subscriptions[0].url: must be an absolute https URL")]
    [InlineData("""{ "version": "1", "subscriptions": [ { "id": "a", "url": "https://a.example", "events": [], "secretSetting": "S" } ] }""", "subscriptions[0].events: must list at least one")]
    [InlineData("""{ "version": "1", "subscriptions": [ { "id": "a", "url": "https://a.example", "events": ["sql-alert"], "secretSetting": "has spaces in it" } ] }""", "subscriptions[0].secretSetting:")]
    public void A_broken_file_is_refused_naming_the_field(string json, string expected)
    {
        var error = Assert.Throws<WebhookConfigurationException>(() => WebhookCatalogueReader.Parse(json, allowHttp: false));

        Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(200, WebhookAttemptVerdict.Delivered)]
    [InlineData(204, WebhookAttemptVerdict.Delivered)]
    [InlineData(301, WebhookAttemptVerdict.Permanent)]
    [InlineData(400, WebhookAttemptVerdict.Permanent)]
    [InlineData(404, WebhookAttemptVerdict.Permanent)]
    [InlineData(408, WebhookAttemptVerdict.Retry)]
    [InlineData(429, WebhookAttemptVerdict.Retry)]
    [InlineData(500, WebhookAttemptVerdict.Retry)]
    [InlineData(503, WebhookAttemptVerdict.Retry)]
    public void An_answer_is_delivered_retried_or_permanent_by_its_status(int status, WebhookAttemptVerdict expected) =>
        Assert.Equal(expected, WebhookRetryPolicy.Classify(status));

    [Fact]
    public void The_back_off_doubles_with_jitter_stays_under_the_cap_and_honours_a_longer_retry_after_within_it()
    {
        var first = TimeSpan.FromSeconds(30);
        var cap = TimeSpan.FromHours(1);

        Assert.Equal(TimeSpan.FromSeconds(15), WebhookRetryPolicy.NextDelay(1, first, cap, null, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(30), WebhookRetryPolicy.NextDelay(1, first, cap, null, random: 1));
        Assert.Equal(TimeSpan.FromSeconds(120), WebhookRetryPolicy.NextDelay(3, first, cap, null, random: 1));
        Assert.Equal(cap, WebhookRetryPolicy.NextDelay(30, first, cap, null, random: 1));
        Assert.Equal(TimeSpan.FromMinutes(10), WebhookRetryPolicy.NextDelay(1, first, cap, TimeSpan.FromMinutes(10), random: 0));
        Assert.Equal(cap, WebhookRetryPolicy.NextDelay(1, first, cap, TimeSpan.FromDays(2), random: 0));
    }
}
