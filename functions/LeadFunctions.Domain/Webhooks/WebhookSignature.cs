using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LeadFunctions.Domain.Webhooks;

/// <summary>
/// The signature of a webhook body, as Stripe and GitHub do it: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</c>.
/// The timestamp is inside the MAC, so a captured request cannot be replayed outside the tolerance, and the body cannot be
/// changed. Several <c>v1</c> values may be given (one per secret while a secret is rotated); any one valid is enough.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "X-LeadFunctions-Signature";

    /// <summary>How far a signed timestamp may be from now, either way, before the request is refused as a replay.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>Longest header accepted: a few signatures, never an unbounded parse.</summary>
    private const int MaxHeaderLength = 1024;

    public static string Sign(ReadOnlySpan<byte> secret, DateTimeOffset timestamp, ReadOnlySpan<byte> body)
    {
        var seconds = timestamp.ToUnixTimeSeconds();
        return $"t={seconds.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(Mac(secret, seconds, body))}";
    }

    /// <summary>
    /// Checks <paramref name="header"/> against <paramref name="body"/> with any of <paramref name="secrets"/>; returns null when valid,
    /// otherwise why not (for the problem details; it never says which secret or what the MAC should have been).
    /// </summary>
    public static string? Verify(string? header, ReadOnlySpan<byte> body, IReadOnlyList<byte[]> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrWhiteSpace(header))
            return $"The {HeaderName} header is missing.";
        if (header.Length > MaxHeaderLength)
            return $"The {HeaderName} header is too long.";

        long? seconds = null;
        var macs = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                continue;
            var (name, value) = (part[..eq], part[(eq + 1)..]);
            if (name == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
                seconds = t;
            else if (name == "v1" && value.Length == 64 && TryHex(value) is { } mac)
                macs.Add(mac);
        }
        if (seconds is not { } signedAt)
            return $"The {HeaderName} header has no timestamp (t=).";
        if (macs.Count == 0)
            return $"The {HeaderName} header has no v1 signature.";
        var age = now.ToUnixTimeSeconds() - signedAt;
        if (Math.Abs(age) > tolerance.TotalSeconds)
            return $"The {HeaderName} timestamp is outside the {tolerance.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)}-minute tolerance.";

        foreach (var secret in secrets)
        {
            var expected = Mac(secret, signedAt, body);
            foreach (var mac in macs)
            {
                if (CryptographicOperations.FixedTimeEquals(expected, mac))
                    return null;
            }
        }
        return $"The {HeaderName} signature does not match the body.";
    }

    private static byte[] Mac(ReadOnlySpan<byte> secret, long seconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(seconds.ToString(CultureInfo.InvariantCulture) + ".");
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static byte[]? TryHex(string value)
    {
        try
        {
            return Convert.FromHexString(value);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
