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
        var text = value.GetString()!.Trim();
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
