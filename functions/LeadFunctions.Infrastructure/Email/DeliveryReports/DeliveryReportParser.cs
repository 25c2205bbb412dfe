using System.Globalization;
using System.Text.Json;

namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

/// <summary>One <c>Microsoft.Communication.EmailDeliveryReportReceived</c> event, as far as the pipeline needs it.</summary>
/// <param name="EventId">The Event Grid event id: the same on every redelivery of the event, so it is what counts once.</param>
/// <param name="MessageId">ACS's message id, which is the <c>Operation-Id</c> the ACS sender chose.</param>
public sealed record DeliveryReport(string EventId, string MessageId, string Recipient, string Status, string? StatusMessage, DateTimeOffset? AttemptedAt);

/// <summary>What a webhook body holds, or why it cannot be read.</summary>
public abstract record DeliveryReportBatch
{
    /// <summary>Event Grid's subscription validation (Event Grid schema): answer with the code.</summary>
    public sealed record Validation(string Code) : DeliveryReportBatch;

    /// <summary>Delivery reports, and how many events of other types were skipped.</summary>
    public sealed record Reports(IReadOnlyList<DeliveryReport> Items, int OtherEvents) : DeliveryReportBatch;

    /// <summary>The body is not events of the documented shapes; <paramref name="Field"/> is a JSON path such as <c>[0].data.status</c>.</summary>
    public sealed record Invalid(string Field, string Message) : DeliveryReportBatch;
}

/// <summary>
/// Reads Event Grid webhook bodies: an array of Event Grid schema events (<c>id</c>, <c>eventType</c>, <c>data</c>), or CloudEvents 1.0
/// (<c>specversion</c>, <c>id</c>, <c>type</c>, <c>data</c>), one object or a batch array. Data property names are matched without
/// regard to case, because the documented examples spell <c>deliveryAttemptTimeStamp</c> and the SDK models <c>deliveryAttemptTimestamp</c>.
/// </summary>
public static class DeliveryReportParser
{
    public const string DeliveryReportEventType = "Microsoft.Communication.EmailDeliveryReportReceived";
    public const string ValidationEventType = "Microsoft.EventGrid.SubscriptionValidationEvent";

    /// <summary>Event Grid sends at most 5,000 events a batch.</summary>
    public const int MaxEvents = 5000;

    private const int MaxIdLength = 256;
    private const int MaxAddressLength = 320;
    private const int MaxStatusLength = 64;
    private const int MaxValidationCodeLength = 512;

    /// <summary>Status messages are remote servers' diagnostics; only this much is kept.</summary>
    public const int MaxStatusMessageLength = 1024;

    public static DeliveryReportBatch Parse(ReadOnlyMemory<byte> body)
    {
        // The reader accepts bytes that are not UTF-8 inside strings and only fails when one is read, as an InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
            return new DeliveryReportBatch.Invalid("body", "The body is not UTF-8 text.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return new DeliveryReportBatch.Invalid("body", "The body is not valid JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            try
            {
                return root.ValueKind switch
                {
                    JsonValueKind.Array => ParseEvents(root),
                    JsonValueKind.Object => ParseEvents([root], single: true),
                    _ => new DeliveryReportBatch.Invalid("body", "Expected an array of Event Grid events or a CloudEvent object."),
                };
            }
            catch (InvalidOperationException)
            {
                // A string with an escape that is no Unicode text (a lone surrogate such as \ud800) throws when read.
                return new DeliveryReportBatch.Invalid("body", "A string in the body is not valid Unicode text.");
            }
        }
    }

    private static DeliveryReportBatch ParseEvents(JsonElement array) =>
        array.GetArrayLength() > MaxEvents
            ? new DeliveryReportBatch.Invalid("body", $"At most {MaxEvents} events are accepted in one delivery.")
            : ParseEvents(array.EnumerateArray().ToList(), single: false);

    private static DeliveryReportBatch ParseEvents(IReadOnlyList<JsonElement> events, bool single)
    {
        var reports = new List<DeliveryReport>();
        var other = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var path = single ? "" : $"[{i.ToString(CultureInfo.InvariantCulture)}]";
            var element = events[i];
            if (element.ValueKind != JsonValueKind.Object)
                return new DeliveryReportBatch.Invalid(Path(path, ""), "Each event must be a JSON object.");

            var cloudEvent = Find(element, "specversion", caseSensitive: true) is not null;
            var typeName = cloudEvent ? "type" : "eventType";
            if (!TryString(element, "id", MaxIdLength, required: true, path, out var id, out var problem)
                || !TryString(element, typeName, MaxIdLength, required: true, path, out var type, out problem))
                return problem!;

            var data = Find(element, "data", caseSensitive: true);
            if (type == ValidationEventType)
            {
                if (data is not { ValueKind: JsonValueKind.Object } validationData)
                    return new DeliveryReportBatch.Invalid(Path(path, "data"), "The validation event has no data object.");
                if (!TryString(validationData, "validationCode", MaxValidationCodeLength, required: true, Path(path, "data"), out var code, out problem))
                    return problem!;
                return new DeliveryReportBatch.Validation(code!);
            }

            if (type != DeliveryReportEventType)
            {
                other++;
                continue;
            }

            var dataPath = Path(path, "data");
            if (data is not { ValueKind: JsonValueKind.Object } report)
                return new DeliveryReportBatch.Invalid(dataPath, "A delivery report must carry a data object.");
            if (!TryString(report, "messageId", MaxIdLength, required: true, dataPath, out var messageId, out problem)
                || !TryString(report, "recipient", MaxAddressLength, required: true, dataPath, out var recipient, out problem)
                || !TryString(report, "status", MaxStatusLength, required: true, dataPath, out var status, out problem))
                return problem!;

            string? statusMessage = null;
            if (Find(report, "deliveryStatusDetails") is { ValueKind: JsonValueKind.Object } details
                && Find(details, "statusMessage") is { ValueKind: JsonValueKind.String } message)
            {
                var text = message.GetString() ?? "";
                statusMessage = text.Length > MaxStatusMessageLength ? text[..MaxStatusMessageLength] : text;
            }

            DateTimeOffset? attemptedAt = null;
            if (Find(report, "deliveryAttemptTimestamp") is { ValueKind: JsonValueKind.String } attempt
                && DateTimeOffset.TryParse(attempt.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                attemptedAt = parsed;

            reports.Add(new DeliveryReport(id!, messageId!, recipient!, status!, statusMessage, attemptedAt));
        }
        return new DeliveryReportBatch.Reports(reports, other);
    }

    private static bool TryString(JsonElement parent, string name, int maxLength, bool required, string path, out string? value, out DeliveryReportBatch? problem)
    {
        value = null;
        problem = null;
        var field = Path(path, name);
        var element = Find(parent, name);
        if (element is null || element.Value.ValueKind == JsonValueKind.Null)
        {
            if (required)
                problem = new DeliveryReportBatch.Invalid(field, $"'{name}' is required.");
            return !required;
        }
        if (element.Value.ValueKind != JsonValueKind.String)
        {
            problem = new DeliveryReportBatch.Invalid(field, $"'{name}' must be a string.");
            return false;
        }
        var text = element.Value.GetString()!;
        if (required && text.Trim().Length == 0)
        {
            problem = new DeliveryReportBatch.Invalid(field, $"'{name}' must not be empty.");
            return false;
        }
        if (text.Length > maxLength)
        {
            problem = new DeliveryReportBatch.Invalid(field, $"'{name}' is longer than {maxLength.ToString(CultureInfo.InvariantCulture)} characters.");
            return false;
        }
        value = text;
        return true;
    }

    private static JsonElement? Find(JsonElement parent, string name, bool caseSensitive = false)
    {
        foreach (var property in parent.EnumerateObject())
        {
            if (string.Equals(property.Name, name, caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase))
                return property.Value;
        }
        return null;
    }

    private static string Path(string prefix, string name) =>
        name.Length == 0 ? (prefix.Length == 0 ? "body" : prefix) : prefix.Length == 0 ? name : $"{prefix}.{name}";
}
