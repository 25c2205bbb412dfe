using System.Text.Json;
using LeadFunctions.Infrastructure.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/webhooks/deliveries/retry</c> (master/admin key) with <c>{"ids": ["…"]}</c> or <c>{"all": true}</c>: puts
/// dead-lettered deliveries back, due now with their attempts cleared, after whatever made the receiver refuse them is fixed.
/// The same bytes and event id go again, so a receiver that did get one before dedupes it. "all" replays up to 1,000 per call
/// and answers <c>more: true</c> while some remain.
/// </summary>
public sealed class RetryWebhookDeliveries(IWebhookDeliveries deliveries)
{
    private const int MaxIds = 100;
    private const int MaxIdLength = 100;
    private const int MaxBodyBytes = 64 * 1024;

    [Function(nameof(RetryWebhookDeliveries))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/webhooks/deliveries/retry")] HttpRequest request,
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
            var hasAll = root.TryGetProperty("all", out var allValue);
            if (hasAll && allValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return ListFailedEmails.Problem("all", "all must be true or false.");
            var all = hasAll && allValue.ValueKind == JsonValueKind.True;
            var hasIds = root.TryGetProperty("ids", out var idsValue);

            if (all == hasIds)
                return ListFailedEmails.Problem(hasIds ? "all" : "ids", "Give either ids (a list of dead delivery ids) or all: true, not both.");
            if (all)
                return new OkObjectResult(await deliveries.RetryAsync(null, cancellationToken));

            if (idsValue.ValueKind != JsonValueKind.Array || idsValue.GetArrayLength() is 0 or > MaxIds)
                return ListFailedEmails.Problem("ids", $"ids must be a list of 1 to {MaxIds} delivery ids.");
            var ids = new List<string>();
            foreach (var id in idsValue.EnumerateArray())
            {
                if (id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 and <= MaxIdLength } value)
                    return ListFailedEmails.Problem("ids", $"Each id must be a non-empty string of at most {MaxIdLength} characters.");
                ids.Add(value);
            }
            return new OkObjectResult(await deliveries.RetryAsync(ids, cancellationToken));
        }
    }
}
