using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.Acs;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Email;

/// <summary>The access-key signature against the recipe in ACS's "Sign an HTTP request" tutorial, computed here independently.</summary>
public sealed class AcsHmacSigningTests
{
    private const string Key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="; // bytes 1..32
    private const string Body = """{"senderAddress":"news@contoso.example"}""";
    private const string Date = "Mon, 02 Jun 2025 10:00:00 GMT";

    [Fact]
    public void The_signature_of_a_fixed_request_matches_the_documented_recipe()
    {
        // The recipe: content hash = base64(SHA-256(body)); string to sign = VERB \n path?query \n date;host;hash;
        // signature = base64(HMAC-SHA256(base64-decoded key, UTF-8 string to sign)).
        var expectedHash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Body)));
        var expectedStringToSign = "POST\n/emails:send?api-version=2025-09-01\n" + Date + ";contoso.communication.azure.com;" + expectedHash;
        using var hmac = new HMACSHA256(Convert.FromBase64String(Key));
        var expectedSignature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(expectedStringToSign)));

        var hash = AcsHmacSigner.ContentHash(Encoding.UTF8.GetBytes(Body));
        var date = AcsHmacSigner.FormatDate(new DateTimeOffset(2025, 6, 2, 12, 0, 0, TimeSpan.FromHours(2)));
        var stringToSign = AcsHmacSigner.StringToSign("post", "/emails:send?api-version=2025-09-01", date, "contoso.communication.azure.com", hash);
        var signature = AcsHmacSigner.Signature(stringToSign, Convert.FromBase64String(Key));

        Assert.Equal(Date, date);
        Assert.Equal(expectedHash, hash);
        Assert.Equal(expectedStringToSign, stringToSign);
        Assert.Equal(expectedSignature, signature);
        // The same values from a second implementation (Python's hmac/hashlib), so both sides cannot share one mistake.
        Assert.Equal("sh4LySvghKTXOYv0hCvARF3W55R7GYF5dnh7jGBaBbk=", hash);
        Assert.Equal("6+8UFXYTQH00df4AW7svpTpzsk1Fzz/2Re5/STiv90A=", signature);
        Assert.Equal(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=6+8UFXYTQH00df4AW7svpTpzsk1Fzz/2Re5/STiv90A=",
            AcsHmacSigner.AuthorizationHeader(signature));
    }

    [Fact]
    public async Task The_sender_signs_the_request_it_sends_with_the_date_from_its_clock()
    {
        await using var service = await FakeAcsEmailService.StartAsync();
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero));
        // The service judges Repeatability-First-Sent by its own clock, which agrees with ours here.
        service.Time = time;
        var sender = new AcsEmailSender(
            new AcsSenderOptions { ConnectionString = service.ConnectionString },
            time,
            new ListLogger<AcsEmailSender>(),
            clientOptions: service.ClientOptions());

        await sender.SendAsync(TestEmails.Nurture(), CancellationToken.None);

        var request = Assert.Single(service.Requests);
        Assert.Equal(202, request.Status);
        Assert.Equal(Date, request.Headers["x-ms-date"]);
        var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(request.Body)));
        var host = service.Endpoint.Authority;
        Assert.Equal("/emails:send?api-version=2025-09-01", request.Target);
        var stringToSign = string.Create(CultureInfo.InvariantCulture, $"POST\n{request.Target}\n{Date};{host};{hash}");
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(Key), Encoding.UTF8.GetBytes(stringToSign)));
        Assert.Equal($"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}", request.Headers["Authorization"]);
    }

    [Fact]
    public async Task A_signature_made_with_another_key_is_refused_by_the_service()
    {
        await using var service = await FakeAcsEmailService.StartAsync();
        var otherKey = Convert.ToBase64String(new byte[32]);
        var sender = new AcsEmailSender(
            new AcsSenderOptions { ConnectionString = $"endpoint={service.Endpoint};accesskey={otherKey}", MaxRetries = 0 },
            TimeProvider.System,
            new ListLogger<AcsEmailSender>(),
            clientOptions: service.ClientOptions());

        var error = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => sender.SendAsync(TestEmails.Nurture(), CancellationToken.None));

        Assert.Equal(401, error.Status);
        Assert.Equal("HMAC signature mismatch", Assert.Single(service.Requests).Problem);
    }

    [Fact]
    public void Request_ids_are_version_5_uuids_fixed_by_the_message_id()
    {
        var first = MessageIdentity.RequestId("lead-42/nurture:welcome/1");
        var again = MessageIdentity.RequestId("lead-42/nurture:welcome/1");
        var other = MessageIdentity.RequestId("lead-42/nurture:welcome/2");

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(5, first.Version);
        Assert.Contains(first.ToString("D")[19], "89ab"); // the RFC 9562 variant
    }
}
