using LeadFunctions.Infrastructure.Email.DeliveryReports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Email;

/// <summary>
/// <c>POST /api/email/delivery-reports?secret=…</c>: Event Grid delivers ACS e-mail delivery reports here (and its validation
/// handshake; <c>OPTIONS</c> is the CloudEvents one). Anonymous to the host because Event Grid cannot send a function key without
/// exposing a key that opens other endpoints; the shared secret in the URL is checked by the service instead.
/// </summary>
public sealed class ReceiveDeliveryReports(IDeliveryReportWebhook webhook)
{
    [Function(nameof(ReceiveDeliveryReports))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = DeliveryReportEndpoint.Route)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcome = await webhook.HandleAsync(request, cancellationToken);
        return DeliveryReportResults.ToActionResult(outcome, request);
    }
}
