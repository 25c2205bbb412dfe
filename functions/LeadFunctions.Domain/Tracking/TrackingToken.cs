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
}

/// <summary>
/// The content of a signed link: who it is for, which e-mail it came from and, for a click, where it goes.
/// Nothing in it is personal: the lead id is a hash, never the address.
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
    /// <summary>For sales links: who the alert went to, recorded as the actor of the decision.</summary>
    [JsonPropertyName("a"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Actor { get; init; }
    /// <summary>For sales links: when the lead became an SQL, which identifies the alert.</summary>
    [JsonPropertyName("q"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? SqlAtTicks { get; init; }

    [JsonIgnore] public DateTimeOffset SentAt => DateTimeOffset.FromUnixTimeSeconds(SentAtUnixSeconds);
}

/// <summary>
/// HMAC-SHA256 signed tokens: <c>base64url(json).base64url(mac)</c>. Verification recomputes the MAC and compares in constant time,
/// so a token cannot be forged or edited (no open redirect, no unsubscribing someone else) and timing reveals nothing.
/// </summary>
public sealed class TrackingTokenSigner
{
    private const int MinimumKeyBytes = 32;
    private const int MaxTokenLength = 4096;
    private readonly byte[] _key;

    public TrackingTokenSigner(string signingKey)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        _key = Encoding.UTF8.GetBytes(signingKey);
        if (_key.Length < MinimumKeyBytes)
            throw new ArgumentException($"The tracking signing key must be at least {MinimumKeyBytes} bytes.", nameof(signingKey));
    }

    public string Sign(TrackingClaims claims)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(claims, JsonOptions);
        return Base64Url(payload) + "." + Base64Url(HMACSHA256.HashData(_key, payload));
    }

    /// <summary>The claims of a genuine token of the expected kind; null for anything forged, edited, truncated or of another kind.</summary>
    public TrackingClaims? Verify(string? token, TrackingKind expectedKind)
    {
        var claims = Verify(token);
        return claims?.Kind == expectedKind ? claims : null;
    }

    public TrackingClaims? Verify(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
            return null;
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == token.Length - 1)
            return null;

        byte[] payload, mac;
        try
        {
            payload = FromBase64Url(token[..dot]);
            mac = FromBase64Url(token[(dot + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }

        var expected = HMACSHA256.HashData(_key, payload);
        if (!CryptographicOperations.FixedTimeEquals(expected, mac))
            return null;

        try
        {
            var claims = JsonSerializer.Deserialize<TrackingClaims>(payload, JsonOptions);
            return claims is { LeadId.Length: > 0, MessageId.Length: > 0 } ? claims : null;
        }
        catch (JsonException)
        {
            return null;
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
