using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LeadFunctions.Infrastructure.Email.Acs;

/// <summary>
/// Access-key authentication as ACS documents it ("Sign an HTTP request"): <c>x-ms-content-sha256</c> is the base64
/// SHA-256 of the body; the string to sign is <c>VERB\npathAndQuery\nx-ms-date;host;x-ms-content-sha256</c> (the
/// values); the signature is base64 HMAC-SHA256 of it keyed with the base64-decoded access key.
/// </summary>
public static class AcsHmacSigner
{
    public const string SignedHeaders = "x-ms-date;host;x-ms-content-sha256";

    public static string ContentHash(ReadOnlySpan<byte> body) => Convert.ToBase64String(SHA256.HashData(body));

    /// <summary>RFC 1123 in UTC, the form <c>x-ms-date</c> takes (<c>Tue, 26 Mar 2019 16:06:51 GMT</c>).</summary>
    public static string FormatDate(DateTimeOffset date) => date.UtcDateTime.ToString("r", CultureInfo.InvariantCulture);

    /// <summary><paramref name="host"/> is the request's authority: host name, and the port when it is not the scheme's default.</summary>
    public static string StringToSign(string method, string pathAndQuery, string date, string host, string contentHash) =>
        $"{method.ToUpperInvariant()}\n{pathAndQuery}\n{date};{host};{contentHash}";

    public static string Signature(string stringToSign, ReadOnlySpan<byte> accessKey) =>
        Convert.ToBase64String(HMACSHA256.HashData(accessKey, Encoding.UTF8.GetBytes(stringToSign)));

    public static string AuthorizationHeader(string signature) => $"HMAC-SHA256 SignedHeaders={SignedHeaders}&Signature={signature}";
}
