using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Hosting;

/// <summary>Finding a lead by address over HTTP: the address goes in a POST body, never in a URL that logs and telemetry keep.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadLookupHttpTests(AzuriteFixture azurite)
{
    private static readonly Uri Lookup = new("/api/leads/lookup", UriKind.Relative);

    [Fact]
    public async Task A_lead_is_found_by_posting_its_address_in_the_body_and_an_unknown_address_is_a_404()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, SignedIn.DevelopmentUser(settings: new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
        }));
        var email = AzuriteFixture.UniqueName("lookup") + "@example.com";
        await host.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(Events.Download(email, DateTimeOffset.UtcNow), CancellationToken.None);

        // Act
        using var found = await host.Client.PostAsJsonAsync(Lookup, new { email = "  " + email.ToUpperInvariant() + " " });
        using var missing = await host.Client.PostAsJsonAsync(Lookup, new { email = "nobody-" + email });

        // Assert
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        using var body = JsonDocument.Parse(await found.Content.ReadAsStringAsync());
        Assert.Equal(TestLeadIds.LeadIdFor(email), body.RootElement.GetProperty("leadId").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_lookup_without_a_valid_address_is_a_400_problem_naming_the_email_field()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false);

        // Act
        using var response = await host.Client.PostAsJsonAsync(Lookup, new { email = "not-an-address" });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(LeadLookup.EmailField, out _));
    }

    [Fact]
    public async Task The_old_lookup_with_the_address_in_the_query_string_is_gone()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, SignedIn.DevelopmentUser(settings: new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
        }));
        var email = AzuriteFixture.UniqueName("old") + "@example.com";
        await host.Services.GetRequiredService<LeadEventProcessor>().ProcessAsync(Events.Download(email, DateTimeOffset.UtcNow), CancellationToken.None);

        // Act
        using var byQuery = await host.Client.GetAsync(new Uri("/api/leads?email=" + Uri.EscapeDataString(email), UriKind.Relative));
        using var getLookup = await host.Client.GetAsync(new Uri("/api/leads/lookup?email=" + Uri.EscapeDataString(email), UriKind.Relative));

        // Assert: no route answers GET with the address (a wrong method is 404, as under the Functions host); the lead list
        // (GET /api/leads) refuses an address parameter rather than ignoring it, and finds nobody by it.
        Assert.Equal(HttpStatusCode.BadRequest, byQuery.StatusCode);
        var refused = await byQuery.Content.ReadAsStringAsync();
        Assert.Contains("\"email\"", refused, StringComparison.Ordinal);
        Assert.DoesNotContain(TestLeadIds.LeadIdFor(email), refused, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, getLookup.StatusCode);
    }
}
