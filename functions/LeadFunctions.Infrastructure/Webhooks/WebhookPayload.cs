using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Webhooks;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Webhooks;

/// <summary>
/// The JSON body of a delivery, built once when the transition is scheduled and sent as the same bytes on every attempt.
/// By default it carries ids, stages, the reason, scores and the owner; the profile (who the person is) only for a subscription
/// that asks for it with <c>includeProfile</c>.
/// </summary>
internal static class WebhookPayload
{
    public const string ApiVersion = "1";

    /// <summary>Bodies are kept in one table property; a profile that would not fit is left out, and the body says so.</summary>
    public const int MaxBodyChars = LeadRowBounds.MaxStringLength;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The same for every subscription of the event, so a receiver of several can dedupe on it as well.</summary>
    public static string EventId(string eventType, string leadId, StageChange change) =>
        "evt_" + Hash($"{eventType}|{leadId}|{change.At.UtcTicks}|{change.From}|{change.To}");

    public static string DeliveryId(string subscriptionId, string eventId) => "whd_" + Hash($"{subscriptionId}|{eventId}");

    public static string StageName(LifecycleStage stage) => stage switch
    {
        LifecycleStage.Mql => "MQL",
        LifecycleStage.Sql => "SQL",
        _ => stage.ToString(),
    };

    public static string Build(string eventType, string eventId, LeadSummary lead, StageChange change, DateTimeOffset? slaDueAt, bool includeProfile)
    {
        var body = Serialize(eventType, eventId, lead, change, slaDueAt, includeProfile ? lead.Profile : null, profileOmitted: null);
        if (body.Length > MaxBodyChars && includeProfile)
            body = Serialize(eventType, eventId, lead, change, slaDueAt, null, profileOmitted: "too large for one delivery; read it with GET /api/leads/{id}");
        return body;
    }

    private static string Serialize(string eventType, string eventId, LeadSummary lead, StageChange change, DateTimeOffset? slaDueAt,
        IReadOnlyDictionary<string, string>? profile, string? profileOmitted) =>
        JsonSerializer.Serialize(new Body(eventId, eventType, ApiVersion, change.At, new Data(
            lead.LeadId,
            change.From is { } from ? StageName(from) : null,
            StageName(change.To),
            change.At,
            // Bounded as the history row bounds them, so a body without the profile always fits its property.
            LeadRowBounds.BoundNote(change.Reason)!,
            LeadRowBounds.BoundNote(lead.Owner),
            new Score(Math.Round(lead.EngagementScore, 2), lead.FitScore, lead.FitGrade, change.ModelVersion),
            slaDueAt,
            profile,
            profileOmitted)), Json);

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];

    private sealed record Body(string Id, string Type, string ApiVersion, DateTimeOffset OccurredAt, Data Data);

    private sealed record Data(
        string LeadId,
        string? FromStage,
        string ToStage,
        DateTimeOffset ChangedAt,
        string Reason,
        string? Owner,
        Score Score,
        DateTimeOffset? SlaDueAt,
        IReadOnlyDictionary<string, string>? Profile,
        string? ProfileOmitted);

    private sealed record Score(double Engagement, int Fit, string FitGrade, string ModelVersion);
}
