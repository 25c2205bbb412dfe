using System.Security.Cryptography;
using System.Text;

namespace LeadFunctions.Domain.Capture;

/// <summary>
/// Event ids for captured submissions. A client that sends an <c>Idempotency-Key</c> gets the same id for the same
/// key, so a double-clicked or retried post becomes one event, which the processor applies once.
/// </summary>
public static class CaptureEventIds
{
    public const int MaxIdempotencyKeyLength = 255;

    public static string New() => Guid.NewGuid().ToString("N");

    /// <summary>A UUID (version 8, name-based on SHA-256) from the scope (form id or <c>events</c>) and the client's key.</summary>
    public static string FromIdempotencyKey(string scope, string key)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"leadfunctions-capture\n{scope}\n{key}"), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString("N");
    }

    /// <summary>A key is printable ASCII (as the IETF Idempotency-Key draft uses it) of at most 255 characters.</summary>
    public static bool IsValidIdempotencyKey(string key) =>
        key.Length is > 0 and <= MaxIdempotencyKeyLength && key.All(c => c is >= '!' and <= '~');
}
