using System.Text.Json;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/email/failed/retry</c> (master/admin key) with <c>{"ids": ["…"]}</c> or <c>{"all": true}</c>: puts parked
/// outbox items back on the due index, due now and with their failure count cleared, after whatever made them fail is fixed.
/// "all" moves up to 1,000 per call and answers <c>more: true</c> while some remain.
/// </summary>
public sealed class RetryFailedEmails(IParkedEmails parked)
{
    private const int MaxIds = 100;
    private const int MaxIdLength = 512;
    private const int MaxBodyBytes = 64 * 1024;

    [Function(nameof(RetryFailedEmails))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/email/failed/retry")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxBodyBytes)
            return ListFailedEmails.Problem("body", $"The body must be at most {MaxBodyBytes} bytes.");

        JsonDocument json;
        try
        {
            json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return ListFailedEmails.Problem("body", """The body must be JSON: {"ids": ["…"]} or {"all": true}.""");
        }

        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return ListFailedEmails.Problem("body", """The body must be a JSON object: {"ids": ["…"]} or {"all": true}.""");
            var all = root.TryGetProperty("all", out var allValue) && allValue.ValueKind == JsonValueKind.True;
            if (root.TryGetProperty("all", out allValue) && allValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return ListFailedEmails.Problem("all", "all must be true or false.");
            var hasIds = root.TryGetProperty("ids", out var idsValue);

            if (all == hasIds)
                return ListFailedEmails.Problem(hasIds ? "all" : "ids", "Give either ids (a list of parked item ids) or all: true, not both.");
            if (all)
                return new OkObjectResult(await parked.RequeueAsync(null, cancellationToken));

            if (idsValue.ValueKind != JsonValueKind.Array || idsValue.GetArrayLength() is 0 or > MaxIds)
                return ListFailedEmails.Problem("ids", $"ids must be a list of 1 to {MaxIds} parked item ids.");
            var ids = new List<string>();
            foreach (var id in idsValue.EnumerateArray())
            {
                if (id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 and <= MaxIdLength } value)
                    return ListFailedEmails.Problem("ids", $"Each id must be a non-empty string of at most {MaxIdLength} characters.");
                ids.Add(value);
            }
            return new OkObjectResult(await parked.RequeueAsync(ids, cancellationToken));
        }
    }
}
