using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LeadFunctions.Tests.Email.DeliveryReports;

/// <summary>
/// Webhook bodies shaped exactly like the documented events: ACS's <c>Microsoft.Communication.EmailDeliveryReportReceived</c>
/// (Event Grid schema, as in "Azure Communication Services - Email events") and Event Grid's <c>SubscriptionValidationEvent</c>.
/// </summary>
internal static class DeliveryReportPayloads
{
    public const string Sender = "DoNotReply@0f1e2d3c.azurecomm.net";
    public const string Topic = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-test/providers/microsoft.communication/communicationservices/acs-test";

    public static JsonObject Report(string eventId, Guid messageId, string recipient, string status, string statusMessage = "No error.") => new()
    {
        ["id"] = eventId,
        ["topic"] = Topic,
        ["subject"] = $"sender/{Sender}/message/{messageId:D}",
        ["data"] = new JsonObject
        {
            ["sender"] = Sender,
            ["recipient"] = recipient,
            ["messageId"] = messageId.ToString("D"),
            ["status"] = status,
            ["deliveryStatusDetails"] = new JsonObject { ["statusMessage"] = statusMessage },
            ["deliveryAttemptTimeStamp"] = "2026-03-02T09:01:20.2855749+00:00",
        },
        ["eventType"] = "Microsoft.Communication.EmailDeliveryReportReceived",
        ["dataVersion"] = "1.0",
        ["metadataVersion"] = "1",
        ["eventTime"] = "2026-03-02T09:01:20.822Z",
    };

    public static JsonObject Validation(string code) => new()
    {
        ["id"] = Guid.NewGuid().ToString("D"),
        ["topic"] = Topic,
        ["subject"] = "",
        ["data"] = new JsonObject
        {
            ["validationCode"] = code,
            ["validationUrl"] = $"https://rp-westeurope.eventgrid.azure.net:553/eventsubscriptions/reports/validate?id={code}&t=2026-03-02T09:00:00.0000000Z&apiVersion=2025-02-15&token=abc",
        },
        ["eventType"] = "Microsoft.EventGrid.SubscriptionValidationEvent",
        ["eventTime"] = "2026-03-02T09:00:00.0000000Z",
        ["metadataVersion"] = "1",
        ["dataVersion"] = "2",
    };

    /// <summary>Event Grid delivers an array of events (Event Grid schema).</summary>
    public static StringContent Body(params JsonObject[] events) =>
        new(new JsonArray(events.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Raw(string text) => new(text, Encoding.UTF8, "application/json");

    public static async Task<JsonDocument> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync());
}
