using System.Security.Cryptography;
using System.Text;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// Everything a sender derives from <see cref="Domain.Messaging.EmailMessage.Id"/>. Derived, never random, so that
/// sending the same outbox record again produces the same file, the same Message-Id and the same ACS request id.
/// </summary>
public static class MessageIdentity
{
    // A fixed namespace for the name-based UUIDs below; changing it would make every retry look like a new request.
    private static readonly Guid Namespace = new("6f1d3a8e-5c2b-4f7e-9a41-2d8c0b7e13f5");

    private const int MaxSafeLength = 120;

    /// <summary>
    /// The id reduced to <c>[A-Za-z0-9._-]</c>; when anything had to change, a short hash of the original is appended
    /// so two ids that reduce to the same text (<c>a/b</c> and <c>a:b</c>) still get different names.
    /// </summary>
    public static string FileSafe(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var builder = new StringBuilder(Math.Min(id.Length, MaxSafeLength));
        var changed = id.Length > MaxSafeLength;
        foreach (var c in id.AsSpan(0, Math.Min(id.Length, MaxSafeLength)))
        {
            var safe = char.IsAsciiLetterOrDigit(c) || c is '-' or '_' || (c == '.' && builder.Length > 0);
            builder.Append(safe ? c : '_');
            changed |= !safe;
        }

        if (changed)
            builder.Append('-').Append(ShortHash(id));
        return builder.ToString();
    }

    /// <summary>An RFC 5322 msg-id (without angle brackets): <c>&lt;file-safe id&gt;@&lt;domain&gt;</c>.</summary>
    public static string MessageId(string id, string domain) => $"{FileSafe(id)}@{domain}";

    /// <summary>A version 5 (name-based, SHA-1) UUID of the id, per RFC 9562 section 5.5.</summary>
    public static Guid RequestId(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var name = Encoding.UTF8.GetBytes(id);
        var input = new byte[16 + name.Length];
        Namespace.TryWriteBytes(input, bigEndian: true, out _);
        name.CopyTo(input, 16);

        // SHA-1 is what the UUID v5 algorithm specifies; it names a request here and protects nothing.
#pragma warning disable CA5350
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    private static string ShortHash(string id) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)).AsSpan(0, 6));
}
