using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Admin;

/// <summary>
/// The body of an ops "retry" endpoint: <c>{"ids": ["…"]}</c> (at most <see cref="MaxIds"/>) or <c>{"all": true}</c>, never both.
/// One reader for every retry endpoint, so they refuse the same bodies with the same problems.
/// </summary>
internal sealed record RetryRequest(IReadOnlyList<string>? Ids)
{
    public const int MaxIds = 100;
    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>Null ids mean "all".</summary>
    public bool All => Ids is null;

    /// <param name="what">What an id names, for the problems ("parked item", "dead delivery").</param>
    public static async Task<(RetryRequest? Request, IActionResult? Problem)> ReadAsync(
        HttpRequest request, string what, int maxIdLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxBodyBytes)
            return (null, ListFailedEmails.Problem("body", $"The body must be at most {MaxBodyBytes} bytes."));

        JsonDocument json;
        try
        {
            json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return (null, ListFailedEmails.Problem("body", """The body must be JSON: {"ids": ["…"]} or {"all": true}."""));
        }

        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (null, ListFailedEmails.Problem("body", """The body must be a JSON object: {"ids": ["…"]} or {"all": true}."""));
            var hasAll = root.TryGetProperty("all", out var allValue);
            if (hasAll && allValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return (null, ListFailedEmails.Problem("all", "all must be true or false."));
            var all = hasAll && allValue.ValueKind == JsonValueKind.True;
            var hasIds = root.TryGetProperty("ids", out var idsValue);

            if (all == hasIds)
                return (null, ListFailedEmails.Problem(hasIds ? "all" : "ids", $"Give either ids (a list of {what} ids) or all: true, not both."));
            if (all)
                return (new RetryRequest(Ids: null), null);

            if (idsValue.ValueKind != JsonValueKind.Array || idsValue.GetArrayLength() is 0 or > MaxIds)
                return (null, ListFailedEmails.Problem("ids", $"ids must be a list of 1 to {MaxIds} {what} ids."));
            var ids = new List<string>();
            foreach (var id in idsValue.EnumerateArray())
            {
                if (id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } value || value.Length > maxIdLength)
                    return (null, ListFailedEmails.Problem("ids", $"Each id must be a non-empty string of at most {maxIdLength} characters."));
                ids.Add(value);
            }
            return (new RetryRequest(ids), null);
        }
    }
}
