using System.Security.Cryptography;
using System.Text;
using LeadFunctions.Domain.Tracking;
using Microsoft.Extensions.Time.Testing;

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

    [Fact]
    public void A_token_names_the_key_that_signed_it()
    {
        var signer = new TrackingTokenSigner([new TrackingSigningKey("2026-03", Key)], TrackingLinkLifetimes.Default, TimeProvider.System);

        var token = signer.Sign(Click());

        Assert.Equal("2026-03", token.Split('.')[0]);
        Assert.Equal(3, token.Split('.').Length);
    }

    [Fact]
    public void After_a_rotation_the_new_key_signs_and_links_signed_with_the_previous_key_still_verify()
    {
        // Arrange
        var before = new TrackingTokenSigner([new TrackingSigningKey("old", Key)], TrackingLinkLifetimes.Default, TimeProvider.System);
        var sentBefore = before.Sign(Click());
        var after = new TrackingTokenSigner(
            [new TrackingSigningKey("new", "the-next-signing-key-0123456789-ABCDEFGHIJKLMN"), new TrackingSigningKey("old", Key)],
            TrackingLinkLifetimes.Default, TimeProvider.System);

        // Act
        var sentAfter = after.Sign(Click());

        // Assert
        Assert.Equal(Click(), after.Verify(sentBefore, TrackingKind.Click));
        Assert.StartsWith("new.", sentAfter, StringComparison.Ordinal);
        Assert.Null(before.Verify(sentAfter, TrackingKind.Click));
    }

    [Fact]
    public void A_link_signed_with_a_key_that_was_retired_no_longer_verifies()
    {
        var old = new TrackingTokenSigner([new TrackingSigningKey("old", Key)], TrackingLinkLifetimes.Default, TimeProvider.System);
        var retired = new TrackingTokenSigner([new TrackingSigningKey("new", "the-next-signing-key-0123456789-ABCDEFGHIJKLMN")], TrackingLinkLifetimes.Default, TimeProvider.System);

        Assert.Null(retired.Verify(old.Sign(Click()), TrackingKind.Click));
    }

    [Fact]
    public void A_token_relabelled_with_another_key_id_is_refused()
    {
        var signer = new TrackingTokenSigner(
            [new TrackingSigningKey("a", Key), new TrackingSigningKey("b", "the-next-signing-key-0123456789-ABCDEFGHIJKLMN")],
            TrackingLinkLifetimes.Default, TimeProvider.System);
        var token = signer.Sign(Click());

        Assert.Null(signer.Verify("b" + token[1..], TrackingKind.Click));
    }

    [Fact]
    public void A_link_sent_before_tokens_carried_a_key_id_still_verifies()
    {
        // Arrange: the earlier format, base64url(json).base64url(HMAC over the json), as e-mails already sent carry it.
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { k = "unsubscribe", l = "l0123456789abcdef0123456789abcdef", m = "m-1", t = 1_770_000_000L });
        var legacy = B64(json) + "." + B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), json));
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_770_000_000).AddDays(1));
        var signer = new TrackingTokenSigner([new TrackingSigningKey("k2", "the-next-signing-key-0123456789-ABCDEFGHIJKLMN"), new TrackingSigningKey("k1", Key)], TrackingLinkLifetimes.Default, time);

        // Act + Assert: verified by the key that signed it, and subject to the same lifetime as new links.
        Assert.Equal("m-1", signer.Verify(legacy, TrackingKind.Unsubscribe)?.MessageId);
        time.Advance(TimeSpan.FromDays(90));
        Assert.Null(signer.Verify(legacy, TrackingKind.Unsubscribe));
    }

    [Fact]
    public void An_unsubscribe_link_works_for_its_lifetime_and_not_after()
    {
        // Arrange
        var sentAt = DateTimeOffset.FromUnixTimeSeconds(1_770_000_000);
        var time = new FakeTimeProvider(sentAt);
        var signer = new TrackingTokenSigner([new TrackingSigningKey("k1", Key)], new TrackingLinkLifetimes { Unsubscribe = TimeSpan.FromDays(60) }, time);
        var token = signer.Sign(Click() with { Kind = TrackingKind.Unsubscribe, Url = null });

        // Act
        time.Advance(TimeSpan.FromDays(60) - TimeSpan.FromSeconds(1));
        var onLastDay = signer.Verify(token, TrackingKind.Unsubscribe);
        time.Advance(TimeSpan.FromSeconds(1));
        var afterwards = signer.Verify(token, TrackingKind.Unsubscribe);

        // Assert
        Assert.NotNull(onLastDay);
        Assert.Null(afterwards);
    }

    [Fact]
    public void A_sales_link_expires_after_the_sla_and_the_grace_period_counted_from_becoming_an_sql()
    {
        var sqlAt = DateTimeOffset.FromUnixTimeSeconds(1_770_000_000);
        var time = new FakeTimeProvider(sqlAt);
        var signer = new TrackingTokenSigner([new TrackingSigningKey("k1", Key)], new TrackingLinkLifetimes { SalesDecision = TimeSpan.FromHours(24 + 72) }, time);
        var token = signer.Sign(Click() with { Kind = TrackingKind.Reject, Url = null, SqlAtTicks = sqlAt.UtcTicks, SentAtUnixSeconds = sqlAt.AddHours(2).ToUnixTimeSeconds() });

        time.Advance(TimeSpan.FromHours(95));
        Assert.NotNull(signer.Verify(token, TrackingKind.Reject));
        time.Advance(TimeSpan.FromHours(1));
        Assert.Null(signer.Verify(token, TrackingKind.Reject));
    }

    [Fact]
    public void A_sales_link_without_its_sql_episode_is_refused()
    {
        var token = _signer.Sign(Click() with { Kind = TrackingKind.Accept, Url = null, SqlAtTicks = null });

        Assert.Null(_signer.Verify(token, TrackingKind.Accept));
    }

    [Fact]
    public void A_consent_confirmation_link_works_for_seven_days_by_default()
    {
        var sentAt = DateTimeOffset.FromUnixTimeSeconds(1_770_000_000);
        var time = new FakeTimeProvider(sentAt.AddDays(7).AddSeconds(-1));
        var signer = new TrackingTokenSigner([new TrackingSigningKey("k1", Key)], TrackingLinkLifetimes.Default, time);
        var token = signer.Sign(Click() with { Kind = TrackingKind.ConfirmConsent, Url = null });

        Assert.NotNull(signer.Verify(token, TrackingKind.ConfirmConsent));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(signer.Verify(token, TrackingKind.ConfirmConsent));
    }

    [Fact]
    public void Open_and_click_links_keep_verifying_in_old_e_mails()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_770_000_000).AddYears(3));
        var signer = new TrackingTokenSigner([new TrackingSigningKey("k1", Key)], TrackingLinkLifetimes.Default, time);

        Assert.NotNull(signer.Verify(signer.Sign(Click()), TrackingKind.Click));
        Assert.NotNull(signer.Verify(signer.Sign(Click() with { Kind = TrackingKind.Open, Url = null }), TrackingKind.Open));
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Pad(string s) => s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
}
