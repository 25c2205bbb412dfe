using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>Where a newest-first page stopped: which range of row keys (layout) it was reading, and the last row key it returned there.</summary>
internal sealed record LeadPageCursor(int Segment, string? After);

/// <summary>
/// The continuation tokens of the lead detail: opaque to clients (base64url of the cursor and a digest), bound to one lead and
/// one list. A token is only a position in a partition the caller may already read, so it needs no secret: what protects is that
/// a token is refused unless it is intact, names this lead and this list, and points inside the range it says. A refused token
/// is a 400, never a read somewhere else.
/// </summary>
internal static class LeadDetailContinuation
{
    /// <summary>Tokens are short; anything longer is not one of ours, and is refused before it is decoded.</summary>
    public const int MaxLength = 1024;

    private const int DigestBytes = 16;

    public static string Encode(string leadId, string list, LeadPageCursor cursor)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Token(list, leadId, cursor.Segment, cursor.After), TokenJson.Default.Token);
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(Digest(payload));
    }

    /// <summary>The cursor, or null when the token was not handed out for this lead's <paramref name="list"/> over these ranges.</summary>
    public static LeadPageCursor? Decode(string token, string leadId, string list, IReadOnlyList<(string From, string To)> segments)
    {
        if (token.Length is 0 or > MaxLength)
            return null;
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
            return null;
        byte[] payload, digest;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            digest = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(digest, Digest(payload)))
            return null;
        Token? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(payload, TokenJson.Default.Token);
        }
        catch (JsonException)
        {
            return null;
        }
        if (parsed is null || parsed.List != list || parsed.Lead != leadId || parsed.Segment < 0 || parsed.Segment >= segments.Count)
            return null;
        var (from, to) = segments[parsed.Segment];
        if (parsed.After is { } after && (string.CompareOrdinal(after, from) < 0 || string.CompareOrdinal(after, to) >= 0))
            return null;
        return new LeadPageCursor(parsed.Segment, parsed.After);
    }

    private static byte[] Digest(byte[] payload) =>
        SHA256.HashData([.. "lead-detail-continuation|"u8, .. payload])[..DigestBytes];

    internal sealed record Token(
        [property: JsonPropertyName("k")] string List,
        [property: JsonPropertyName("l")] string Lead,
        [property: JsonPropertyName("s")] int Segment,
        [property: JsonPropertyName("a")] string? After);
}

[JsonSerializable(typeof(LeadDetailContinuation.Token))]
internal sealed partial class TokenJson : JsonSerializerContext;
