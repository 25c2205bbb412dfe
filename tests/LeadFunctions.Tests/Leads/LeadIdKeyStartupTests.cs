using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Leads;

/// <summary>
/// With the lead id key anyone could compute a person's lead id from their address, so the app refuses to start on a key anyone
/// could know or guess, by the same rules as the signing key.
/// </summary>
public sealed class LeadIdKeyStartupTests
{
    [Theory]
    [InlineData(LeadIdentity.SampleKey, "public sample key")]
    [InlineData("@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/lead-id-key/)", "unresolved Key Vault reference")]
    [InlineData("integration-test-lead-id-key-0123456789abcdef", "too weak to key lead ids")]
    [InlineData("", "LeadIds:Key is required")]
    public async Task Outside_development_the_app_refuses_to_start_on_a_missing_known_or_weak_lead_id_key_and_says_why(string key, string reason)
    {
        using var host = Host(new() { ["LeadIds:Key"] = key }, Environments.Production);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("LeadIds:Key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_id_that_would_break_the_id_format_stops_the_start()
    {
        using var host = Host(new() { ["LeadIds:Key"] = TestLeadIds.Key, ["LeadIds:KeyId"] = "k_1" }, Environments.Production);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("LeadIds:KeyId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_development_the_sample_key_keys_lead_ids()
    {
        using var host = Host(new() { ["LeadIds:Key"] = LeadIdentity.SampleKey }, Environments.Development);

        await host.StartAsync();

        Assert.True(LeadIdentity.IsLeadId(host.Services.GetRequiredService<LeadIdentity>().LeadIdFor("ada@example.com")));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_random_key_starts_and_gives_the_ids_of_that_key()
    {
        using var host = Host(new() { ["LeadIds:Key"] = TestLeadIds.Key, ["LeadIds:KeyId"] = "k7" }, Environments.Production);

        await host.StartAsync();

        var id = host.Services.GetRequiredService<LeadIdentity>().LeadIdFor("ada@example.com");
        Assert.Equal(new LeadIdentity("k7", TestLeadIds.Key).LeadIdFor("ada@example.com"), id);
        Assert.NotEqual(TestLeadIds.LeadIdFor("ada@example.com"), id); // same key, other key id: told apart
        await host.StopAsync();
    }

    private static IHost Host(Dictionary<string, string?> settings, string environment)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = environment });
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        builder.Services.AddLeadIds();
        return builder.Build();
    }
}
