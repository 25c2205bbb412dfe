using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadFunctions.Domain.Events;

/// <summary>The one JSON shape of queue messages and stored event records, so producers and the processor cannot disagree.</summary>
public static class LeadEventJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize(LeadEvent leadEvent) => JsonSerializer.Serialize(leadEvent, Options);

    /// <summary>Reads a message; throws <see cref="MalformedLeadEventException"/> naming what is wrong, so the caller can poison it rather than drop it.</summary>
    public static LeadEvent Deserialize(string json)
    {
        LeadEvent? leadEvent;
        try
        {
            leadEvent = JsonSerializer.Deserialize<LeadEvent>(json, Options);
        }
        catch (JsonException ex)
        {
            throw new MalformedLeadEventException($"The message is not a lead event: {ex.Message}", ex);
        }

        if (leadEvent is null)
            throw new MalformedLeadEventException("The message is empty (JSON null).");
        if (leadEvent.SchemaVersion is < 1 or > LeadEvent.CurrentSchemaVersion)
            throw new MalformedLeadEventException($"schemaVersion {leadEvent.SchemaVersion} is not supported (1..{LeadEvent.CurrentSchemaVersion}).");
        if (string.IsNullOrWhiteSpace(leadEvent.EventId))
            throw new MalformedLeadEventException("eventId is missing.");
        if (!LeadEventTypes.All.Contains(leadEvent.Type))
            throw new MalformedLeadEventException($"type '{leadEvent.Type}' is not a known event type.");
        if (leadEvent.Email is null && leadEvent.VisitorId is null && leadEvent.LeadId is null)
            throw new MalformedLeadEventException("the event names no email, visitorId or leadId.");
        return leadEvent;
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            RespectRequiredConstructorParameters = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

public sealed class MalformedLeadEventException : Exception
{
    public MalformedLeadEventException(string message) : base(message) { }
    public MalformedLeadEventException(string message, Exception inner) : base(message, inner) { }
}
