using System.Text;
using LeadFunctions.Domain.Webhooks;

namespace LeadFunctions.Domain.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("a-test-secret-of-enough-length-0123456789");
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"type\":\"deal-won\"}");

    [Fact]
    public void A_body_signed_with_the_secret_verifies()
    {
        var header = WebhookSignature.Sign(Secret, Now, Body);

        Assert.Null(WebhookSignature.Verify(header, Body, [Secret], Now.AddSeconds(30), WebhookSignature.DefaultTolerance));
    }

    [Fact]
    public void A_changed_body_does_not_verify()
    {
        var header = WebhookSignature.Sign(Secret, Now, Body);

        var problem = WebhookSignature.Verify(header, Encoding.UTF8.GetBytes("{\"type\":\"deal-lost\"}"), [Secret], Now, WebhookSignature.DefaultTolerance);

        Assert.Contains("does not match", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_replayed_after_the_tolerance_is_refused()
    {
        var header = WebhookSignature.Sign(Secret, Now, Body);

        var problem = WebhookSignature.Verify(header, Body, [Secret], Now.AddMinutes(6), WebhookSignature.DefaultTolerance);

        Assert.Contains("tolerance", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_timestamp_moved_to_now_breaks_the_signature()
    {
        var header = WebhookSignature.Sign(Secret, Now.AddHours(-1), Body);
        var moved = "t=" + Now.ToUnixTimeSeconds() + header[header.IndexOf(',', StringComparison.Ordinal)..];

        Assert.NotNull(WebhookSignature.Verify(moved, Body, [Secret], Now, WebhookSignature.DefaultTolerance));
    }

    [Fact]
    public void The_previous_secret_still_verifies_during_a_rotation()
    {
        var previous = Encoding.UTF8.GetBytes("the-previous-secret-0123456789-abcdefghij");
        var header = WebhookSignature.Sign(previous, Now, Body);

        Assert.Null(WebhookSignature.Verify(header, Body, [Secret, previous], Now, WebhookSignature.DefaultTolerance));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("v1=abc")]
    [InlineData("t=1764590400")]
    [InlineData("t=x,v1=00")]
    public void A_missing_or_malformed_header_is_refused_with_a_reason(string? header)
    {
        Assert.NotNull(WebhookSignature.Verify(header, Body, [Secret], Now, WebhookSignature.DefaultTolerance));
    }
}
