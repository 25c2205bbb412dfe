using System.Text.Json;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Webhooks;

/// <summary>A wrong subscriptions file, or a secret it names that is missing or weak, stops the app at start with the field named.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class WebhookStartupTests(AzuriteFixture azurite)
{
    private static readonly string StrongSecret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    [Theory]
    [InlineData("""{"id": "crm", "url": "http://crm.example.com/hook", "events": ["sql-alert"], "secretSetting": "Webhooks__Secrets__crm"}""", "subscriptions[0].url: must use https")]
    [InlineData("""{"id": "crm", "url": "https://user:pw@crm.example.com/hook", "events": ["sql-alert"], "secretSetting": "Webhooks__Secrets__crm"}""", "subscriptions[0].url: must not carry credentials")]
    [InlineData("""{"id": "crm", "events": ["sql-alert"], "secretSetting": "Webhooks__Secrets__crm"}""", "subscriptions[0].url: is required")]
    [InlineData("""{"id": "crm", "url": "https://crm.example.com/hook", "events": ["sql-alert"]}""", "subscriptions[0].secretSetting: is required")]
    [InlineData("""{"id": "crm", "url": "https://crm.example.com/hook", "events": ["deal-won"], "secretSetting": "Webhooks__Secrets__crm"}""", "subscriptions[0].events[0]: 'deal-won' is not an event")]
    [InlineData("""{"id": "crm", "url": "https://crm.example.com/hook", "events": ["sql-alert"], "secretSetting": "Webhooks__Secrets__other"}""", "subscriptions[0].secretSetting: the setting 'Webhooks__Secrets__other' is not set")]
    [InlineData("""{"id": "crm", "url": "https://crm.example.com/hook", "events": ["sql-alert"], "secretSetting": "Webhooks__Secrets__weak"}""", "Webhooks__Secrets__weak")]
    [InlineData("""{"id": "crm", "url": "https://crm.example.com/hook", "events": ["sql-alert"], "secretSetting": "Webhooks__Secrets__crm", "secret": "inline"}""", "not valid JSON")]
    public async Task An_invalid_subscription_stops_the_app_at_start_naming_the_field(string subscription, string expected)
    {
        // Arrange
        var file = Path.Combine(Path.GetTempPath(), "lf-webhooks-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, $$"""{ "version": "t-1", "subscriptions": [ {{subscription}} ] }""");
        using var host = WebhookHarness.Build(Settings(file), TimeProvider.System, Environments.Production);

        try
        {
            // Act
            var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

            // Assert
            Assert.Contains(failure.Failures, f => f.Contains("Webhooks:SubscriptionsFile", StringComparison.Ordinal) && f.Contains(expected, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_shipped_file_has_no_subscriptions_and_starts()
    {
        var settings = Settings(null);
        using var host = WebhookHarness.Build(settings, TimeProvider.System, Environments.Production);

        await host.StartAsync();
        await host.StopAsync();

        using var shipped = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "config", "webhooks.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        Assert.Equal(0, shipped.RootElement.GetProperty("subscriptions").GetArrayLength());
    }

    private Dictionary<string, string?> Settings(string? file) => new()
    {
        [StorageOptions.ConnectionName] = azurite.ConnectionString,
        ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
        ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
        ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
        ["SalesAlerts:EscalationAddress"] = NurtureHarness.EscalationAddress,
        ["Tracking:SigningKey"] = NurtureHarness.SigningKey,
        ["Tracking:BaseUrl"] = "https://leads.contoso.example",
        [TestLeadIds.Setting] = TestLeadIds.Key,
        ["Email:Sender"] = "Folder",
        ["Email:Folder:Path"] = Path.Combine(Path.GetTempPath(), "lf-webhooks-outbox"),
        ["Email:FromAddress"] = "noreply@contoso.example",
        ["Webhooks:SubscriptionsFile"] = file ?? "config/webhooks.json",
        ["Webhooks:DeliveriesTable"] = AzuriteFixture.UniqueName("hooks"),
        ["Webhooks:Secrets:crm"] = StrongSecret,
        ["Webhooks:Secrets:weak"] = "password",
    };
}
