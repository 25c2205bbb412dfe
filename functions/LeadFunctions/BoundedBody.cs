using System.Text;

namespace LeadFunctions;

/// <summary>Reads a request body up to a bound, whatever its Content-Length claims, so a large or endless body costs no more.</summary>
internal static class BoundedBody
{
    /// <summary>The body as text, or null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<string?> ReadAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[maxBytes + 1];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await body.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
                break;
            read += n;
        }
        return read > maxBytes ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }
}
