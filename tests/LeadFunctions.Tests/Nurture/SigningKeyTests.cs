using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Tests.Support;
using LeadFunctions.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Nurture;

/// <summary>The app refuses to start on a key anyone could know, and rotating the key keeps links already sent working.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SigningKeyTests(AzuriteFixture azurite)
{
    private static Dictionary<string, string?> Key(string key) => new() { ["Tracking:SigningKey"] = key };

    [Theory]
    [InlineData(SigningKeyPolicy.SampleKey, "public sample key")]
    [InlineData("@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/tracking-signing-key/)", "unresolved Key Vault reference")]
    [InlineData("integration-test-signing-key-0123456789abcdef", "too weak")]
    public void Outside_development_the_app_refuses_to_start_on_a_known_or_weak_key_and_says_why(string key, string reason)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new NurtureHarness(azurite, settings: Key(key)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("Tracking:SigningKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_development_the_sample_key_still_signs_links()
    {
        await using var harness = new NurtureHarness(azurite, settings: Key(SigningKeyPolicy.SampleKey), environment: "Development");
        var signer = harness.Services.GetRequiredService<TrackingTokenSigner>();

        var token = signer.Sign(Unsubscribe(harness));

        Assert.NotNull(signer.Verify(token, TrackingKind.Unsubscribe));
    }

    [Fact]
    public void A_weak_previous_key_is_refused_too()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Tracking:SigningKeyId"] = "k2",
            ["Tracking:PreviousSigningKeys:0:Id"] = "k1",
            ["Tracking:PreviousSigningKeys:0:Key"] = SigningKeyPolicy.SampleKey,
        };

        var error = Assert.Throws<OptionsValidationException>(() => new NurtureHarness(azurite, settings: settings));

        Assert.Contains("Tracking:PreviousSigningKeys:0:Key is the public sample key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_keys_with_the_same_id_are_refused()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Tracking:PreviousSigningKeys:0:Id"] = TrackingTokenSigner.DefaultKeyId,
            ["Tracking:PreviousSigningKeys:0:Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };

        var error = Assert.Throws<OptionsValidationException>(() => new NurtureHarness(azurite, settings: settings));

        Assert.Contains("already the id of another signing key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_rotating_the_key_an_unsubscribe_link_sent_before_still_works()
    {
        // Arrange: a link sent under the old key.
        string token;
        var oldKey = NurtureHarness.SigningKey;
        await using (var before = new NurtureHarness(azurite))
            token = before.Services.GetRequiredService<TrackingTokenSigner>().Sign(Unsubscribe(before));
        var newKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var after = new NurtureHarness(azurite, settings: new Dictionary<string, string?>
        {
            ["Tracking:SigningKey"] = newKey,
            ["Tracking:SigningKeyId"] = "2026-04",
            ["Tracking:PreviousSigningKeys:0:Id"] = TrackingTokenSigner.DefaultKeyId,
            ["Tracking:PreviousSigningKeys:0:Key"] = oldKey,
        });
        var unsubscribe = ActivatorUtilities.CreateInstance<Unsubscribe>(after.Services);

        // Act
        var page = Assert.IsType<ContentResult>(await unsubscribe.Run(Get(token), CancellationToken.None));
        var fresh = after.Services.GetRequiredService<TrackingTokenSigner>().Sign(Unsubscribe(after));

        // Assert
        Assert.Equal(200, page.StatusCode);
        Assert.StartsWith("2026-04.", fresh, StringComparison.Ordinal);
    }

    private static TrackingClaims Unsubscribe(NurtureHarness harness) => new()
    {
        Kind = TrackingKind.Unsubscribe,
        LeadId = TestLeadIds.LeadIdFor("rotated@example.com"),
        MessageId = "m-1",
        SentAtUnixSeconds = harness.Time.GetUtcNow().ToUnixTimeSeconds(),
    };

    private static HttpRequest Get(string token)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/api/unsubscribe";
        context.Request.QueryString = QueryString.Create("t", token);
        return context.Request;
    }
}
