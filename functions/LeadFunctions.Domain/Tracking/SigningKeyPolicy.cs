namespace LeadFunctions.Domain.Tracking;

/// <summary>
/// What a signing key must be before the app will sign links with it outside Development. Whoever holds the key can forge a
/// click to anywhere, unsubscribe anyone and reject any lead, so a key anyone could know or guess is refused at start.
/// <para>
/// The checks catch mistakes, they cannot prove randomness: a key is refused when it is an App Service Key Vault reference that
/// was handed to the app unresolved, the public sample key, shorter than 256 bits of base64 (43 characters) or of hex
/// (64 hex digits), or visibly not random (few distinct characters, repeated blocks, runs such as <c>01234567</c>, words such
/// as <c>secret</c>, or, unless it is hex, no mix of upper- and lower-case letters, which random base64 always has).
/// Generate one with <c>openssl rand -base64 32</c>.
/// </para>
/// </summary>
public static class SigningKeyPolicy
{
    /// <summary>What App Service leaves in a setting whose Key Vault reference it could not resolve.</summary>
    public const string KeyVaultReferencePrefix = "@Microsoft.KeyVault(";

    /// <summary>The key in local.settings.sample.json: public, so for local runs only.</summary>
    public const string SampleKey = "local-development-only-signing-key-change-me-0123456789";

    public const int MinimumBase64Characters = 43;
    public const int MinimumHexDigits = 64;

    private const int MinimumDistinctCharacters = 12;
    private const int LongestAllowedRun = 7;

    private static readonly string[] PlaceholderWords =
        ["secret", "password", "passwd", "sample", "example", "change", "replace", "signing", "development", "default"];

    /// <summary>Why the key must not be used, or null when it is fine. <paramref name="setting"/> names it in the message.</summary>
    public static string? Problem(string? key, string setting, bool development) => Problem(key, setting, development, "sign links");

    /// <summary>
    /// The same checks for any HMAC key (the lead id key too); <paramref name="use"/> says what it is for in the message.
    /// Every sample key in local.settings.sample.json is refused outside Development, whichever setting holds it.
    /// </summary>
    public static string? Problem(string? key, string setting, bool development, string use)
    {
        if (string.IsNullOrWhiteSpace(key))
            return $"{setting} is required (generate one with: openssl rand -base64 32; keep it in Key Vault).";
        if (key.StartsWith(KeyVaultReferencePrefix, StringComparison.OrdinalIgnoreCase))
            return $"{setting} is an unresolved Key Vault reference: App Service could not read the secret and passed the reference text on. " +
                   "Check that the app's identity may read the secret (Key Vault Secrets User) and that the secret URI exists.";
        if (key.Length < 32)
            return $"{setting} must be at least 32 characters; outside Development at least {MinimumBase64Characters} random base64 characters (openssl rand -base64 32).";
        if (development)
            return null;
        if (string.Equals(key, SampleKey, StringComparison.Ordinal) || string.Equals(key, Leads.LeadIdentity.SampleKey, StringComparison.Ordinal))
            return $"{setting} is the public sample key from local.settings.sample.json; it works only in Development. Generate a key with: openssl rand -base64 32.";
        return Weakness(key) is { } weakness
            ? $"{setting} is too weak to {use} ({weakness}); it needs at least 256 random bits. Generate a key with: openssl rand -base64 32."
            : null;
    }

    /// <summary>Why the key looks guessable, or null.</summary>
    public static string? Weakness(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        // GUIDs and hex dumps: only the hex digits carry randomness, four bits each.
        var hexDigits = key.Count(char.IsAsciiHexDigit);
        var isHex = key.All(c => char.IsAsciiHexDigit(c) || c == '-');
        if (isHex && hexDigits < MinimumHexDigits)
            return $"a hex key needs at least {MinimumHexDigits} hex digits, this has {hexDigits}";
        if (!isHex && key.Length < MinimumBase64Characters)
            return $"it needs at least {MinimumBase64Characters} characters, this has {key.Length}";

        var distinct = key.Distinct().Count();
        if (distinct < MinimumDistinctCharacters)
            return $"only {distinct} different characters";
        if (LongestRun(key) > LongestAllowedRun)
            return "it contains a run of repeated or consecutive characters";
        if (RepeatedTrigramShare(key) > 0.25)
            return "it repeats the same blocks of characters";
        var lower = key.ToLowerInvariant();
        if (PlaceholderWords.FirstOrDefault(w => lower.Contains(w, StringComparison.Ordinal)) is { } word)
            return $"it contains the word '{word}'";
        if (!isHex && !(key.Any(char.IsAsciiLetterUpper) && key.Any(char.IsAsciiLetterLower)))
            return "it does not mix upper- and lower-case letters as random base64 does";
        return null;
    }

    /// <summary>The longest stretch of equal characters, or of characters each one above (or below) the last.</summary>
    private static int LongestRun(string key)
    {
        int longest = 1, same = 1, up = 1, down = 1;
        for (var i = 1; i < key.Length; i++)
        {
            var step = key[i] - key[i - 1];
            same = step == 0 ? same + 1 : 1;
            up = step == 1 ? up + 1 : 1;
            down = step == -1 ? down + 1 : 1;
            longest = Math.Max(longest, Math.Max(same, Math.Max(up, down)));
        }
        return longest;
    }

    /// <summary>The share of three-character blocks that already occurred earlier in the key (random keys: almost none).</summary>
    private static double RepeatedTrigramShare(string key)
    {
        if (key.Length < 4)
            return 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var repeated = 0;
        for (var i = 0; i + 3 <= key.Length; i++)
        {
            if (!seen.Add(key.Substring(i, 3)))
                repeated++;
        }
        return repeated / (double)(key.Length - 2);
    }
}
