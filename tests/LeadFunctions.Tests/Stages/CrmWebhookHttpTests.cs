using System.Net;
using System.Text;
using System.Text.Json;
using LeadFunctions.Domain.Webhooks;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Stages;

/// <summary>The CRM webhook over real HTTP on the local host: open to the internet without a key, closed to anything unsigned.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrmWebhookHttpTests(AzuriteFixture azurite)
{
    private static readonly Uri Endpoint = new("/api/crm/events", UriKind.Relative);

    [Fact]
    public async Task An_unsigned_post_needs_no_function_key_to_reach_the_webhook_and_is_refused_401_as_a_problem()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["Crm:WebhookSecret"] = "crm-http-test-secret-0123456789abcdef-0123",
        });
        using var content = new StringContent("""{"id":"e1","type":"deal-won","source":"hubspot","email":"x@example.com"}""", Encoding.UTF8, "application/json");

        // Act
        using var response = await host.Client.PostAsync(Endpoint, content);

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(WebhookSignature.HeaderName, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_secret_the_webhook_fails_closed_with_a_503()
    {
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?> { ["Crm:WebhookSecret"] = "" });
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");

        using var response = await host.Client.PostAsync(Endpoint, content);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }
}
