using System.Text;
using LeadFunctions.Domain.Tracking;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class TrackingTokenTests
{
    private const string Key = "test-signing-key-0123456789-abcdefghijklmnop";
    private readonly TrackingTokenSigner _signer = new(Key);

    private static TrackingClaims Click(string url = "https://www.example.com/guide") => new()
    {
        Kind = TrackingKind.Click,
        LeadId = "l0123456789abcdef0123456789abcdef",
        MessageId = "l0123-nurture-welcome-one",
        Programme = "welcome",
        Step = "one",
        SentAtUnixSeconds = 1_770_000_000,
        Url = url,
    };

    [Fact]
    public void A_signed_token_verifies_to_the_same_claims()
    {
        var token = _signer.Sign(Click());

        Assert.Equal(Click(), _signer.Verify(token, TrackingKind.Click));
    }

    [Fact]
    public void A_token_whose_payload_was_edited_to_point_elsewhere_is_refused()
    {
        // Arrange: swap the payload for one naming another URL, keeping the original signature.
        var token = _signer.Sign(Click());
        var forgedPayload = _signer.Sign(Click("https://evil.example/")).Split('.')[0];
        var tampered = forgedPayload + "." + token.Split('.')[1];

        // Act + Assert
        Assert.Null(_signer.Verify(tampered, TrackingKind.Click));
    }

    [Fact]
    public void A_token_with_a_changed_signature_character_is_refused()
    {
        var token = _signer.Sign(Click());
        var last = token[^1];
        var tampered = token[..^1] + (last == 'A' ? 'B' : 'A');

        Assert.Null(_signer.Verify(tampered, TrackingKind.Click));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("no-dot")]
    [InlineData(".")]
    [InlineData("!!!.???")]
    public void Garbage_is_refused_without_throwing(string? token)
    {
        Assert.Null(_signer.Verify(token, TrackingKind.Click));
    }

    [Fact]
    public void A_token_signed_with_another_key_is_refused()
    {
        var other = new TrackingTokenSigner("another-signing-key-0123456789-abcdefghijk");

        Assert.Null(_signer.Verify(other.Sign(Click()), TrackingKind.Click));
    }

    [Fact]
    public void A_token_is_accepted_only_by_the_endpoint_of_its_kind()
    {
        var open = _signer.Sign(Click() with { Kind = TrackingKind.Open, Url = null });

        Assert.Null(_signer.Verify(open, TrackingKind.Unsubscribe));
        Assert.NotNull(_signer.Verify(open, TrackingKind.Open));
    }

    [Fact]
    public void A_short_key_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new TrackingTokenSigner("short"));
    }

    [Fact]
    public void The_token_carries_no_email_address()
    {
        var token = _signer.Sign(Click());
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(Pad(token.Split('.')[0].Replace('-', '+').Replace('_', '/'))));

        Assert.DoesNotContain("@", payload, StringComparison.Ordinal);
    }

    private static string Pad(string s) => s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
}
