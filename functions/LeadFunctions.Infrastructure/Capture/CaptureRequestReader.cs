using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>
/// Reads a capture request's fields from a URL-encoded, multipart or JSON body, strictly and within hard limits:
/// the body is read up to the limit whatever Content-Length says, and anything malformed is refused, not guessed at.
/// </summary>
public sealed class CaptureRequestReader(IOptions<CaptureOptions> options)
{
    public const string FormUrlEncoded = "application/x-www-form-urlencoded";
    public const string Multipart = "multipart/form-data";
    public const string Json = "application/json";

    private const int MaxFieldNameLength = 100;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public async Task<CaptureBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var limits = options.Value;

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || contentType.MediaType.Value is not { } mediaType)
            return UnsupportedContentType(request.ContentType);
        mediaType = mediaType.ToLowerInvariant();
        if (mediaType is not (FormUrlEncoded or Multipart or Json))
            return UnsupportedContentType(request.ContentType);
        if (contentType.Charset.HasValue && !contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !contentType.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            return UnsupportedContentType(request.ContentType);

        if (request.ContentLength > limits.MaxBodyBytes)
            return TooLarge(limits.MaxBodyBytes);
        var body = await ReadLimitedAsync(request.Body, limits.MaxBodyBytes, cancellationToken);
        if (body is null)
            return TooLarge(limits.MaxBodyBytes);

        var parsed = mediaType switch
        {
            FormUrlEncoded => ParseUrlEncoded(body),
            Multipart => await ParseMultipartAsync(body, contentType, limits.MaxBodyBytes, cancellationToken),
            _ => ParseJson(body),
        };
        if (parsed.Problem is not null)
            return parsed;
        return CheckLimits(parsed.Pairs, limits);
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is longer (a client can lie in Content-Length, or send none).</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        try
        {
            var total = 0;
            while (total <= limit)
            {
                var read = await body.ReadAsync(buffer.AsMemory(total, limit + 1 - total), cancellationToken);
                if (read == 0)
                    return buffer.AsSpan(0, total).ToArray();
                total += read;
            }
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static CaptureBody ParseUrlEncoded(byte[] body)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        var start = 0;
        while (start <= body.Length)
        {
            var end = Array.IndexOf(body, (byte)'&', start);
            if (end < 0)
                end = body.Length;
            if (end > start)
            {
                var pair = body.AsSpan(start, end - start);
                var eq = pair.IndexOf((byte)'=');
                var rawName = eq < 0 ? pair : pair[..eq];
                var rawValue = eq < 0 ? [] : pair[(eq + 1)..];
                if (!TryDecodeComponent(rawName, out var name) || !TryDecodeComponent(rawValue, out var value))
                    return Malformed("The form body is not valid URL encoding of UTF-8 text.");
                if (name.Length == 0)
                    return Malformed("The form body has a field without a name.");
                pairs.Add(new(name, value));
            }
            start = end + 1;
        }
        return new CaptureBody(pairs);
    }

    /// <summary>Strict application/x-www-form-urlencoded decoding: a stray '%' or bytes that are not UTF-8 are errors.</summary>
    private static bool TryDecodeComponent(ReadOnlySpan<byte> raw, out string decoded)
    {
        decoded = "";
        var bytes = new byte[raw.Length];
        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b == '+')
            {
                bytes[n++] = (byte)' ';
            }
            else if (b == '%')
            {
                if (i + 2 >= raw.Length || !IsHex(raw[i + 1]) || !IsHex(raw[i + 2]))
                    return false;
                bytes[n++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                i += 2;
            }
            else
            {
                bytes[n++] = b;
            }
        }
        try
        {
            decoded = StrictUtf8.GetString(bytes, 0, n);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;

    private static async Task<CaptureBody> ParseMultipartAsync(byte[] body, MediaTypeHeaderValue contentType, int limit, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 70)
            return Malformed("The multipart body has no valid boundary in its Content-Type.");

        var pairs = new List<KeyValuePair<string, string>>();
        var fileFields = new List<string>();
        try
        {
            using var stream = new MemoryStream(body, writable: false);
            var reader = new MultipartReader(boundary, stream) { HeadersCountLimit = 16, HeadersLengthLimit = 8 * 1024, BodyLengthLimit = limit };
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) ||
                    !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase) ||
                    HeaderUtilities.RemoveQuotes(disposition.Name).Value is not { Length: > 0 } name)
                {
                    return Malformed("A multipart section is not a named form-data field.");
                }
                if (disposition.FileName.HasValue || disposition.FileNameStar.HasValue)
                {
                    fileFields.Add(name);
                    continue;
                }
                using var content = new MemoryStream();
                await section.Body.CopyToAsync(content, cancellationToken);
                string value;
                try
                {
                    value = StrictUtf8.GetString(content.GetBuffer(), 0, (int)content.Length);
                }
                catch (DecoderFallbackException)
                {
                    return Malformed($"The multipart field '{name}' is not UTF-8 text.");
                }
                pairs.Add(new(name, value));
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return Malformed("The multipart body is malformed: " + ex.Message);
        }

        if (fileFields.Count > 0)
        {
            return new CaptureBody(CaptureProblem.FieldProblem(CaptureProblemCodes.MalformedBody, "Files are not accepted.",
                fileFields.Select(f => (f, "Files are not accepted; send text fields only."))));
        }
        return new CaptureBody(pairs);
    }

    private static CaptureBody ParseJson(byte[] body)
    {
        // JsonDocument accepts bytes that are not UTF-8 inside strings and only fails when a string is read, as an
        // InvalidOperationException; checking the whole body first turns that into a 400 instead of a 500.
        if (!Utf8.IsValid(body))
            return Malformed("The JSON body is not valid UTF-8 text.");

        var pairs = new List<KeyValuePair<string, string>>();
        var wrongTypes = new List<string>();
        var notText = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return Malformed("The JSON body must be an object of field names to values.");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // An escape such as \ud800 (a lone surrogate) is valid JSON but no Unicode text; reading it throws.
                if (!TryGetText(() => property.Name, out var name))
                    return Malformed("A JSON field name is not valid Unicode text (a lone surrogate escape such as \\ud800).");
                switch (property.Value.ValueKind)
                {
                    case JsonValueKind.String when TryGetText(() => property.Value.GetString()!, out var text):
                        pairs.Add(new(name, text));
                        break;
                    case JsonValueKind.String:
                        notText.Add(name);
                        break;
                    case JsonValueKind.Number:
                        pairs.Add(new(name, property.Value.GetRawText()));
                        break;
                    case JsonValueKind.True or JsonValueKind.False:
                        pairs.Add(new(name, property.Value.ValueKind == JsonValueKind.True ? "true" : "false"));
                        break;
                    case JsonValueKind.Null:
                        break;
                    default:
                        wrongTypes.Add(name);
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            return Malformed("The body is not valid JSON: " + ex.Message);
        }

        if (notText.Count > 0)
        {
            return new CaptureBody(CaptureProblem.FieldProblem(CaptureProblemCodes.MalformedBody, "Some fields are not valid Unicode text.",
                notText.Select(f => (Shorten(f), "Must be valid Unicode text; a lone surrogate escape such as \\ud800 is not."))));
        }
        if (wrongTypes.Count > 0)
        {
            return new CaptureBody(CaptureProblem.FieldProblem(CaptureProblemCodes.MalformedBody, "Fields must be plain values.",
                wrongTypes.Select(f => (f, "Must be a string, number or boolean, not an object or array."))));
        }
        return new CaptureBody(pairs);
    }

    private static bool TryGetText(Func<string> read, out string text)
    {
        try
        {
            text = read();
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }

    private static CaptureBody CheckLimits(IReadOnlyList<KeyValuePair<string, string>> pairs, CaptureOptions limits)
    {
        if (pairs.Count > limits.MaxFieldCount)
        {
            return new CaptureBody(new CaptureProblem(400, CaptureProblemCodes.TooManyFields, "The submission has too many fields.",
                $"At most {limits.MaxFieldCount} fields are accepted; this one has {pairs.Count}."));
        }

        var tooLong = pairs
            .Where(p => p.Key.Length > MaxFieldNameLength || p.Value.Length > limits.MaxFieldLength)
            .Select(p => (Shorten(p.Key), $"Must be at most {limits.MaxFieldLength} characters (names at most {MaxFieldNameLength})."))
            .Distinct()
            .ToList();
        if (tooLong.Count > 0)
            return new CaptureBody(CaptureProblem.FieldProblem(CaptureProblemCodes.FieldTooLong, "Some fields are too long.", tooLong));

        var duplicates = pairs.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => (g.Key, "Must be given once.")).ToList();
        if (duplicates.Count > 0)
            return new CaptureBody(CaptureProblem.FieldProblem(CaptureProblemCodes.DuplicateField, "Some fields are given more than once.", duplicates));

        return new CaptureBody(pairs);
    }

    private static string Shorten(string name) => name.Length <= MaxFieldNameLength ? name : name[..MaxFieldNameLength];

    private static CaptureBody UnsupportedContentType(string? given) =>
        new(new CaptureProblem(400, CaptureProblemCodes.UnsupportedContentType, "The content type is not supported.",
            $"Send {FormUrlEncoded}, {Multipart} or {Json} (UTF-8); got '{(string.IsNullOrEmpty(given) ? "none" : given)}'."));

    private static CaptureBody TooLarge(int limit) =>
        new(new CaptureProblem(400, CaptureProblemCodes.BodyTooLarge, "The submission is too large.", $"The body must be at most {limit} bytes."));

    private static CaptureBody Malformed(string detail) =>
        new(new CaptureProblem(400, CaptureProblemCodes.MalformedBody, "The submission could not be read.", detail));
}

/// <summary>The fields of a capture request, or why they could not be read.</summary>
public sealed class CaptureBody
{
    public CaptureBody(IReadOnlyList<KeyValuePair<string, string>> pairs) => Pairs = pairs;

    public CaptureBody(CaptureProblem problem)
    {
        Pairs = [];
        Problem = problem;
    }

    public IReadOnlyList<KeyValuePair<string, string>> Pairs { get; }
    public CaptureProblem? Problem { get; }

    public IReadOnlyDictionary<string, string> Fields() => Pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
