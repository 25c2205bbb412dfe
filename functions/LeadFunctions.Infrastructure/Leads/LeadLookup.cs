using System.Text.Json;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Infrastructure.Leads;

public enum LeadLookupStatus
{
    Found,
    NotFound,
    /// <summary>The body is not a JSON object with a valid <c>email</c>; <see cref="LeadLookupResult.Problem"/> says why.</summary>
    Invalid,
    TooLarge,
}

public sealed record LeadLookupResult(LeadLookupStatus Status, LeadDetailPage? Details = null, string? Problem = null);

/// <summary>
/// Finds a lead by e-mail address given in a request body, never in a URL, where request logs and telemetry would keep it.
/// The address is normalised and turned into the keyed lead id exactly as the processor keys leads, so case and spacing do not
/// matter; the address itself is not logged or kept.
/// </summary>
public sealed class LeadLookup(ILeadDetailReader directory, LeadIdentity identity)
{
    /// <summary>A lookup body is one address; anything much larger is not one.</summary>
    public const int MaxBodyBytes = 4096;

    public const string EmailField = "email";

    public async Task<LeadLookupResult> FindAsync(Stream body, long? contentLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (contentLength > MaxBodyBytes)
            return new(LeadLookupStatus.TooLarge, Problem: $"The body must be at most {MaxBodyBytes} bytes.");
        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        if (length > MaxBodyBytes)
            return new(LeadLookupStatus.TooLarge, Problem: $"The body must be at most {MaxBodyBytes} bytes.");

        string? email;
        try
        {
            using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
            email = document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(EmailField, out var value) && value.ValueKind == JsonValueKind.String
                    ? value.GetString()
                    : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: bytes that are not UTF-8, or a lone surrogate escape, inside the string read.
            email = null;
        }
        if (!EmailAddress.TryNormalize(email, out var normalized))
            return new(LeadLookupStatus.Invalid, Problem: "email is required: a JSON body {\"email\": \"...\"} with a valid e-mail address.");

        // The first page of the detail, as GET /api/leads/{id} gives it; its continuations go on from there.
        var found = await directory.FindPageAsync(identity.LeadIdFor(normalized), new LeadDetailQuery(LeadDetailQuery.DefaultLimit, LeadDetailQuery.DefaultLimit), cancellationToken);
        return found.Page is { } page ? new(LeadLookupStatus.Found, page) : new(LeadLookupStatus.NotFound);
    }
}
