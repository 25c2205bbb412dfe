using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace LeadFunctions.Domain.Leads;

/// <summary>
/// Lead, visitor and sales-rep ids: a keyed HMAC of the normalised address (or visitor id), so an e-mail address never appears in
/// a storage key, a URL, a token or a log line, and nobody without the key can compute a person's id from their address and
/// link it to tracking URLs, logs or exports.
/// <para>
/// An id reads <c>{kind}{version}_{keyId}_{32 hex}</c>, e.g. <c>l1_k1_3f0c…</c>: the kind (<c>l</c> lead, <c>v</c> visitor,
/// <c>r</c> rep), the derivation version (1: HMAC-SHA256 over <c>kind-name ":" value</c>, first 128 bits), and the id of the key.
/// Version and key id make a re-key migratable: ids under an old key or derivation are recognisable, and a migration recomputes
/// each lead's id from the address stored on its row (see docs/scoring.md, "Lead ids"). Letters, digits and <c>_</c> only, so an
/// id is safe as a Table key and in a URL.
/// </para>
/// </summary>
public sealed class LeadIdentity
{
    /// <summary>The derivation new ids use.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The id of the key when none is configured.</summary>
    public const string DefaultKeyId = "k1";

    /// <summary>The key in local.settings.sample.json: public, so for local runs only.</summary>
    public const string SampleKey = "local-development-only-lead-id-key-change-me-9876543210";

    public const int MaxKeyIdLength = 16;
    private const int MinimumKeyBytes = 32;
    private const int HashHexLength = 32;

    private readonly byte[] _key;
    private readonly string _leadPrefix;
    private readonly string _visitorPrefix;
    private readonly string _repPrefix;

    public LeadIdentity(string keyId, string key)
    {
        if (!IsValidKeyId(keyId))
            throw new ArgumentException($"The lead id key id '{keyId}' must be 1-{MaxKeyIdLength} letters or digits.", nameof(keyId));
        ArgumentNullException.ThrowIfNull(key);
        _key = Encoding.UTF8.GetBytes(key);
        if (_key.Length < MinimumKeyBytes)
            throw new ArgumentException($"The lead id key must be at least {MinimumKeyBytes} bytes.", nameof(key));
        KeyId = keyId;
        _leadPrefix = Prefix('l', keyId);
        _visitorPrefix = Prefix('v', keyId);
        _repPrefix = Prefix('r', keyId);
    }

    /// <summary>The id of the key new ids are derived with.</summary>
    public string KeyId { get; }

    /// <summary>The lead id of a normalised e-mail address (see <see cref="EmailAddress.TryNormalize"/>).</summary>
    public string LeadIdFor(string normalizedEmail)
    {
        ArgumentNullException.ThrowIfNull(normalizedEmail);
        return _leadPrefix + Hash("lead:", normalizedEmail);
    }

    /// <summary>The key anonymous activity of one visitor is kept under until the visitor converts.</summary>
    public string VisitorKeyFor(string visitorId)
    {
        ArgumentNullException.ThrowIfNull(visitorId);
        return _visitorPrefix + Hash("visitor:", visitorId.Trim());
    }

    /// <summary>
    /// The opaque id a sales link names its rep by (a normalised address). A different derivation from the lead id, so a rep who
    /// is also a lead cannot be linked to that lead by their ids.
    /// </summary>
    public string RepIdFor(string normalizedEmail)
    {
        ArgumentNullException.ThrowIfNull(normalizedEmail);
        return _repPrefix + Hash("rep:", normalizedEmail);
    }

    /// <summary>Whether <paramref name="value"/> has the shape of a lead id of any key: a format check, it needs no key.</summary>
    public static bool IsLeadId([NotNullWhen(true)] string? value) => TryParse(value, out var kind, out _, out _) && kind == 'l';

    /// <summary>Whether <paramref name="value"/> has the shape of a rep id.</summary>
    public static bool IsRepId([NotNullWhen(true)] string? value) => TryParse(value, out var kind, out _, out _) && kind == 'r';

    /// <summary>Splits an id into its kind, derivation version and key id; false for anything else (e.g. pre-version unkeyed ids).</summary>
    public static bool TryParse(string? value, out char kind, out int version, [NotNullWhen(true)] out string? keyId)
    {
        (kind, version, keyId) = ('\0', 0, null);
        if (value is not { Length: >= 2 + 1 + 1 + 1 + HashHexLength } || value[0] is not ('l' or 'v' or 'r') || value[1] != '1')
            return false;
        var parts = value.Split('_');
        if (parts.Length != 3 || parts[0].Length != 2 || !IsValidKeyId(parts[1]) || parts[2].Length != HashHexLength
            || parts[2].AsSpan().ContainsAnyExcept("0123456789abcdef"))
            return false;
        (kind, version, keyId) = (value[0], CurrentVersion, parts[1]);
        return true;
    }

    /// <summary>Key ids are letters and digits, so they never contain the id separator.</summary>
    public static bool IsValidKeyId([NotNullWhen(true)] string? keyId) =>
        keyId is { Length: > 0 and <= MaxKeyIdLength } && keyId.All(char.IsAsciiLetterOrDigit);

    private static string Prefix(char kind, string keyId) => $"{kind}{CurrentVersion}_{keyId}_";

    private string Hash(string purpose, string value)
    {
        Span<byte> digest = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(purpose + value), digest);
        return Convert.ToHexStringLower(digest[..(HashHexLength / 2)]);
    }
}
