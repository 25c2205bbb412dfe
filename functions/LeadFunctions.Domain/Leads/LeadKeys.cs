using System.Security.Cryptography;
using System.Text;

namespace LeadFunctions.Domain.Leads;

/// <summary>
/// Lead and visitor ids are hashes, so an e-mail address never appears in a storage key, a URL or a log line.
/// </summary>
public static class LeadKeys
{
    /// <summary>The lead id of a normalised e-mail address (see <see cref="EmailAddress.TryNormalize"/>).</summary>
    public static string LeadIdFor(string normalizedEmail) => "l" + Hash(normalizedEmail);

    /// <summary>The key anonymous activity of one visitor is kept under until the visitor converts.</summary>
    public static string VisitorKeyFor(string visitorId) => "v" + Hash(visitorId.Trim());

    public static bool IsLeadId(string? value) =>
        value is { Length: 33 } && value[0] == 'l' && value.AsSpan(1).ContainsAnyExcept("0123456789abcdef") is false;

    private static string Hash(string value)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), digest);
        return Convert.ToHexStringLower(digest[..16]);
    }
}
