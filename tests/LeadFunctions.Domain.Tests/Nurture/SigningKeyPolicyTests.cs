using System.Security.Cryptography;
using LeadFunctions.Domain.Tracking;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class SigningKeyPolicyTests
{
    private const string Setting = "Tracking:SigningKey";

    [Fact]
    public void The_public_sample_key_is_refused_outside_development_and_the_message_says_so()
    {
        var problem = SigningKeyPolicy.Problem(SigningKeyPolicy.SampleKey, Setting, development: false);

        Assert.Contains("public sample key", problem, StringComparison.Ordinal);
        Assert.Contains(Setting, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sample_key_still_works_in_development()
    {
        Assert.Null(SigningKeyPolicy.Problem(SigningKeyPolicy.SampleKey, Setting, development: true));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_unresolved_key_vault_reference_is_refused_with_the_reason(bool development)
    {
        var reference = "@Microsoft.KeyVault(SecretUri=https://kv-abc.vault.azure.net/secrets/tracking-signing-key/)";

        var problem = SigningKeyPolicy.Problem(reference, Setting, development);

        Assert.Contains("unresolved Key Vault reference", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "different characters")]
    [InlineData("Abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", "run of")]
    [InlineData("Qx7$Lm2#Kp9!RtQx7$Lm2#Kp9!RtQx7$Lm2#Kp9!RtQx7$Lm2#Kp9!Rt", "repeats")]
    [InlineData("Our-Production-Secret-For-Signing-Links-2026!!", "word")]
    [InlineData("correct-horse-battery-staple-lorem-ipsum-dolor-sit", "upper- and lower-case")]
    [InlineData("Zk3mQ9wX2pL7vR4tY8nB1cF6hJ0sD5gA", "at least 43 characters")]
    [InlineData("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", null)]
    [InlineData("9f86d081-884c-7d65-9a2f-eaa0c55ad015a3bf-4f1b-2b0b-822c", "hex digits")]
    public void Keys_that_are_short_or_visibly_not_random_are_refused_outside_development(string key, string? reason)
    {
        var problem = SigningKeyPolicy.Problem(key, Setting, development: false);

        if (reason is null)
            Assert.Null(problem);
        else
            Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_made_the_documented_way_are_accepted()
    {
        // openssl rand -base64 32, and hex of 32 random bytes, many times over: the checks must not refuse real keys.
        for (var i = 0; i < 2000; i++)
        {
            var bytes = RandomNumberGenerator.GetBytes(32);
            Assert.Null(SigningKeyPolicy.Problem(Convert.ToBase64String(bytes), Setting, development: false));
            Assert.Null(SigningKeyPolicy.Problem(Convert.ToHexStringLower(bytes), Setting, development: false));
        }
    }

    [Fact]
    public void A_key_of_three_guids_is_accepted()
    {
        var key = $"{Guid.NewGuid()}{Guid.NewGuid()}{Guid.NewGuid()}";

        Assert.Null(SigningKeyPolicy.Problem(key, Setting, development: false));
    }
}
