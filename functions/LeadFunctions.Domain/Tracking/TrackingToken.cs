using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadFunctions.Domain.Tracking;

/// <summary>What a signed link is for. Each kind is accepted only by its own endpoint.</summary>
public enum TrackingKind
{
    Open,
    Click,
    Unsubscribe,
    Accept,
    Reject,
    /// <summary>The link in a double opt-in e-mail: confirms a pending marketing-e-mail consent.</summary>
    ConfirmConsent,
    /// <summary>The "your data" link in every marketing e-mail's footer: opens the page to ask for a copy or erasure.</summary>
    DataRequest,
    /// <summary>The link in the e-mail that confirms a data request (copy or erasure) made on that page.</summary>
    DataRequestConfirm,
}

/// <summary>
/// The content of a signed link: who it is for, which e-mail it came from and, for a click, where it goes.
/// Nothing in it is personal: a token is signed, not encrypted, and anyone holding the e-mail can read it, so it carries ids only:
/// the lead id and the rep id are keyed HMACs (<see cref="Leads.LeadIdentity"/>) nobody can compute from an address without our key,
/// and never an address or a name.
/// </summary>
public sealed record TrackingClaims
{
    [JsonPropertyName("k")] public required TrackingKind Kind { get; init; }
    [JsonPropertyName("l")] public required string LeadId { get; init; }
    /// <summary>The outbox id of the e-mail the link was in (programme and step, or alert).</summary>
    [JsonPropertyName("m")] public required string MessageId { get; init; }
    [JsonPropertyName("p"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Programme { get; init; }
    [JsonPropertyName("s"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Step { get; init; }
    /// <summary>When the e-mail was composed, in Unix seconds: hits seconds later are security scanners, not people.</summary>
    [JsonPropertyName("t")] public required long SentAtUnixSeconds { get; init; }
    /// <summary>The original URL of a click; signed, so the redirect can only go where our own e-mail pointed.</summary>
    [JsonPropertyName("u"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Url { get; init; }
    /// <summary>The name the template gave a clicked link (<c>data-link="guide"</c>), so a nurture branch can wait for that link.</summary>
    [JsonPropertyName("n"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? LinkName { get; init; }
    /// <summary>
    /// For sales links: the opaque id of the rep the alert went to (<see cref="Leads.LeadIdentity.RepIdFor"/>), never the address;
    /// resolved back to the rep on our side and recorded as the actor of the decision.
    /// </summary>
    [JsonPropertyName("a"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Actor { get; init; }
    /// <summary>For sales links: when the lead became an SQL, which identifies the alert.</summary>
    [JsonPropertyName("q"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? SqlAtTicks { get; init; }

    [JsonIgnore] public DateTimeOffset SentAt => DateTimeOffset.FromUnixTimeSeconds(SentAtUnixSeconds);
}

/// <summary>One HMAC key with the id written into every token it signs, so the right key is found after a rotation.</summary>
public sealed record TrackingSigningKey(string Id, string Secret)
{
    /// <summary>Key ids are short and safe in a URL and never contain the token separator.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= 32 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>
/// How long each kind of link does what it was sent for, measured from what the token itself says (its send time, or for sales
/// links the SQL episode), so a shorter setting applies at once to every link already sent.
/// </summary>
public sealed record TrackingLinkLifetimes
{
    public static TrackingLinkLifetimes Default { get; } = new();

    /// <summary>From sending. At least 60 days: people unsubscribe from old e-mails, and the law expects that to work.</summary>
    public TimeSpan Unsubscribe { get; init; } = TimeSpan.FromDays(90);

    /// <summary>From sending: a double opt-in link confirms a consent asked for recently, not one from long ago.</summary>
    public TimeSpan ConfirmConsent { get; init; } = TimeSpan.FromDays(7);

    /// <summary>From sending: as long as an unsubscribe link, since people look for their data in old e-mails too.</summary>
    public TimeSpan DataRequest { get; init; } = TimeSpan.FromDays(90);

    /// <summary>From sending: the confirmation of a data request is acted on soon or asked for again.</summary>
    public TimeSpan DataRequestConfirm { get; init; } = TimeSpan.FromDays(1);

    /// <summary>From becoming an SQL: the SLA plus a grace period. After that the decision belongs to whoever picks the lead up.</summary>
    public TimeSpan SalesDecision { get; init; } = TimeSpan.FromHours(24 + 72);

    /// <summary>
    /// When the token stops verifying; null for opens and clicks, whose pixel and redirect keep working in old e-mails
    /// (the redirect can only go where our e-mail pointed; scoring has its own, shorter window).
    /// </summary>
    public DateTimeOffset? ExpiresAt(TrackingClaims claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        return claims.Kind switch
        {
            TrackingKind.Open or TrackingKind.Click => null,
            TrackingKind.Unsubscribe => Add(claims.SentAtUnixSeconds, Unsubscribe),
            TrackingKind.ConfirmConsent => Add(claims.SentAtUnixSeconds, ConfirmConsent),
            TrackingKind.DataRequest => Add(claims.SentAtUnixSeconds, DataRequest),
            TrackingKind.DataRequestConfirm => Add(claims.SentAtUnixSeconds, DataRequestConfirm),
            TrackingKind.Accept or TrackingKind.Reject when claims.SqlAtTicks is { } ticks => AddTicks(ticks, SalesDecision),
            _ => DateTimeOffset.MinValue,
        };
    }

    private static DateTimeOffset Add(long unixSeconds, TimeSpan lifetime) =>
        unixSeconds is >= 0 and < 253_402_300_000 ? AddTicks(DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcTicks, lifetime) : DateTimeOffset.MinValue;

    private static DateTimeOffset AddTicks(long ticks, TimeSpan lifetime) =>
        ticks > 0 && ticks <= DateTimeOffset.MaxValue.UtcTicks - lifetime.Ticks
            ? new DateTimeOffset(ticks, TimeSpan.Zero) + lifetime
            : DateTimeOffset.MinValue;
}

/// <summary>
/// HMAC-SHA256 signed tokens: <c>keyId.base64url(json).base64url(mac)</c>, the MAC taken over <c>keyId.base64url(json)</c>.
/// The first key signs; every key verifies, so links already sent keep working while the key is rotated. Verification
/// recomputes the MAC and compares in constant time, so a token cannot be forged or edited (no open redirect, no unsubscribing
/// someone else) and timing reveals nothing; a token past its lifetime (<see cref="TrackingLinkLifetimes"/>) is refused too.
/// </summary>
public sealed class TrackingTokenSigner
{
    /// <summary>The id of the key when only one key is given.</summary>
    public const string DefaultKeyId = "k1";

    private const int MinimumKeyBytes = 32;
    private const int MaxTokenLength = 4096;
    private readonly (string Id, byte[] Key)[] _keys;
    private readonly TrackingLinkLifetimes _lifetimes;
    private readonly TimeProvider _time;

    public TrackingTokenSigner(string signingKey)
        : this([new TrackingSigningKey(DefaultKeyId, signingKey)], TrackingLinkLifetimes.Default, TimeProvider.System)
    {
    }

    /// <param name="keys">The signing key first, then the previous keys that still verify.</param>
    public TrackingTokenSigner(IReadOnlyList<TrackingSigningKey> keys, TrackingLinkLifetimes lifetimes, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(lifetimes);
        ArgumentNullException.ThrowIfNull(time);
        if (keys.Count == 0)
            throw new ArgumentException("At least one signing key is needed.", nameof(keys));
        _keys = new (string, byte[])[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var (id, secret) = (keys[i].Id, keys[i].Secret);
            if (!TrackingSigningKey.IsValidId(id))
                throw new ArgumentException($"Signing key id '{id}' must be 1-32 letters, digits, '-' or '_'.", nameof(keys));
            ArgumentNullException.ThrowIfNull(secret);
            var bytes = Encoding.UTF8.GetBytes(secret);
            if (bytes.Length < MinimumKeyBytes)
                throw new ArgumentException($"The tracking signing key must be at least {MinimumKeyBytes} bytes.", nameof(keys));
            if (_keys[..i].Any(k => k.Id == id))
                throw new ArgumentException($"Signing key id '{id}' is used twice.", nameof(keys));
            _keys[i] = (id, bytes);
        }
        _lifetimes = lifetimes;
        _time = time;
    }

    /// <summary>The id of the key new tokens are signed with.</summary>
    public string CurrentKeyId => _keys[0].Id;

    public string Sign(TrackingClaims claims)
    {
        var (id, key) = _keys[0];
        var signed = id + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims, JsonOptions));
        return signed + "." + Base64Url(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signed)));
    }

    /// <summary>
    /// The claims of a genuine, unexpired token of the expected kind; null for anything forged, edited, truncated, expired,
    /// signed with a key no longer configured, or of another kind.
    /// </summary>
    public TrackingClaims? Verify(string? token, TrackingKind expectedKind)
    {
        var claims = Verify(token);
        return claims?.Kind == expectedKind ? claims : null;
    }

    /// <summary>The claims of a genuine, unexpired token of any kind; null otherwise.</summary>
    public TrackingClaims? Verify(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
            return null;
        var parts = token.Split('.');
        var payload = parts.Length switch
        {
            3 => VerifyKeyed(parts[0], parts[1], parts[2]),
            2 => VerifyUnkeyed(parts[0], parts[1]),
            _ => null,
        };
        if (payload is null)
            return null;

        TrackingClaims? claims;
        try
        {
            claims = JsonSerializer.Deserialize<TrackingClaims>(payload, JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
        if (claims is not { LeadId.Length: > 0, MessageId.Length: > 0 })
            return null;
        return _lifetimes.ExpiresAt(claims) is { } expires && _time.GetUtcNow() >= expires ? null : claims;
    }

    private byte[]? VerifyKeyed(string keyId, string payloadText, string macText)
    {
        var index = Array.FindIndex(_keys, k => string.Equals(k.Id, keyId, StringComparison.Ordinal));
        if (index < 0 || payloadText.Length == 0)
            return null;
        if (!TryFromBase64Url(payloadText, out var payload) || !TryFromBase64Url(macText, out var mac))
            return null;
        var expected = HMACSHA256.HashData(_keys[index].Key, Encoding.ASCII.GetBytes(keyId + "." + payloadText));
        return CryptographicOperations.FixedTimeEquals(expected, mac) ? payload : null;
    }

    /// <summary>
    /// Tokens from before key ids (<c>base64url(json).base64url(mac)</c>, the MAC over the JSON) are still in e-mails already
    /// sent; each configured key is tried, and they get the same lifetimes as new tokens.
    /// </summary>
    private byte[]? VerifyUnkeyed(string payloadText, string macText)
    {
        if (payloadText.Length == 0 || !TryFromBase64Url(payloadText, out var payload) || !TryFromBase64Url(macText, out var mac))
            return null;
        var match = false;
        foreach (var (_, key) in _keys)
            match |= CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, payload), mac);
        return match ? payload : null;
    }

    private static bool TryFromBase64Url(string text, out byte[] bytes)
    {
        try
        {
            bytes = FromBase64Url(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = (s.Length % 4) switch
        {
            2 => s + "==",
            3 => s + "=",
            0 => s,
            _ => throw new FormatException("Not base64url."),
        };
        return Convert.FromBase64String(s);
    }

    private static readonly JsonSerializerOptions JsonOptions = CreateJsonOptions();

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
