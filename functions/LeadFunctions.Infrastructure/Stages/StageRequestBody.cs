using System.Text.Json;

namespace LeadFunctions.Infrastructure.Stages;

/// <summary>Reads a small JSON object body, never more than a bound, and its string fields naming whichever is wrong.</summary>
internal static class StageRequestBody
{
    /// <summary>The body, or null when it is longer than <paramref name="maxBytes"/> (declared or actual).</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        if (contentLength > maxBytes)
            return null;
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        return length > maxBytes ? null : buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>The root object, or a 400 naming <c>body</c>.</summary>
    public static JsonDocument? Parse(byte[] body, out StageOutcome? problem)
    {
        problem = null;
        // Bytes that are not UTF-8 inside a JSON string parse, and throw only when the string is read: refused here, as a 400.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            problem = StageOutcome.Invalid("body", "The body must be UTF-8 JSON.");
            return null;
        }
        try
        {
            var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind == JsonValueKind.Object)
                return document;
            document.Dispose();
        }
        catch (JsonException)
        {
            // answered below
        }
        problem = StageOutcome.Invalid("body", "The body must be a JSON object.");
        return null;
    }

    /// <summary>
    /// A string field: null when absent or JSON null; a 400 naming it when it is another type, longer than <paramref name="maxLength"/>,
    /// or holds control characters other than line breaks and tabs.
    /// </summary>
    public static string? String(JsonElement root, string name, int maxLength, ref StageOutcome? problem)
    {
        if (problem is not null || !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.String)
        {
            problem = StageOutcome.Invalid(name, $"{name} must be a string.");
            return null;
        }
        string text;
        try
        {
            text = value.GetString()!.Trim();
        }
        catch (InvalidOperationException)
        {
            // An escape that is no Unicode text (a lone surrogate such as \ud800) is valid JSON but cannot be read as a string.
            problem = StageOutcome.Invalid(name, $"{name} must be Unicode text.");
            return null;
        }
        if (text.Length > maxLength)
        {
            problem = StageOutcome.Invalid(name, $"{name} must be at most {maxLength} characters.");
            return null;
        }
        if (text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
        {
            problem = StageOutcome.Invalid(name, $"{name} must not contain control characters.");
            return null;
        }
        return text.Length == 0 ? null : text;
    }
}
