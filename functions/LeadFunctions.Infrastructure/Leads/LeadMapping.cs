using System.Text.Json;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>Between table rows and domain records; the domain never sees an entity.</summary>
internal static class LeadMapping
{
    private static JsonSerializerOptions Json => LeadEventJson.Options;

    public static LeadScoreState ToState(LeadEntity entity)
    {
        var state = new LeadScoreState
        {
            LeadId = entity.PartitionKey,
            Email = entity.Email,
            Stage = Enum.TryParse<LifecycleStage>(entity.Stage, ignoreCase: true, out var stage) ? stage : null,
            StageChangedAt = entity.StageChangedAt,
            Profile = new Dictionary<string, string>(
                JsonSerializer.Deserialize<Dictionary<string, string>>(entity.ProfileJson, Json) ?? [], StringComparer.Ordinal),
            Consents = JsonSerializer.Deserialize<List<ConsentRecord>>(entity.ConsentsJson, Json) ?? [],
            EngagementValue = entity.EngagementValue,
            EngagementAnchor = entity.EngagementAnchor,
            FitScore = entity.FitScore,
            FitGrade = entity.FitGrade,
            FitFactors = JsonSerializer.Deserialize<List<FitFactor>>(entity.FitFactorsJson, Json) ?? [],
            ModelVersion = entity.ModelVersion,
            Unsubscribed = entity.Unsubscribed,
            CreatedAt = entity.CreatedAt,
            UpdatedAt = entity.UpdatedAt,
            Caps = new Dictionary<string, CapCounter>(
                JsonSerializer.Deserialize<Dictionary<string, CapCounter>>(entity.CapsJson, Json) ?? [], StringComparer.Ordinal),
            RequalifyFloorValue = entity.RequalifyFloorValue,
            RequalifyFloorAt = entity.RequalifyFloorAt,
            LinkedVisitors = JsonSerializer.Deserialize<List<string>>(entity.LinkedVisitorsJson, Json) ?? [],
            EventCount = entity.EventCount,
            Owner = entity.Owner,
            Scores = string.IsNullOrEmpty(entity.ScoresJson)
                ? new Dictionary<string, NamedScoreState>(StringComparer.Ordinal)
                : new Dictionary<string, NamedScoreState>(
                    JsonSerializer.Deserialize<Dictionary<string, NamedScoreState>>(entity.ScoresJson, Json) ?? [], StringComparer.Ordinal),
            OriginForm = entity.OriginForm,
            OriginIntent = entity.OriginIntent,
        };
        return state;
    }

    public static LeadEntity ToEntity(LeadScoreState state, TimeSpan halfLife, Azure.ETag etag) => new()
    {
        PartitionKey = state.LeadId,
        RowKey = LeadRows.Lead,
        ETag = etag,
        Email = state.Email,
        Stage = (state.Stage ?? LifecycleStage.Lead).ToString(),
        StageChangedAt = state.StageChangedAt,
        ProfileJson = JsonSerializer.Serialize(state.Profile, Json),
        ConsentsJson = JsonSerializer.Serialize(state.Consents, Json),
        EngagementValue = state.EngagementValue,
        EngagementAnchor = state.EngagementAnchor,
        HalfLifeSeconds = halfLife.TotalSeconds,
        FitScore = state.FitScore,
        FitGrade = state.FitGrade,
        FitFactorsJson = JsonSerializer.Serialize(state.FitFactors, Json),
        ModelVersion = state.ModelVersion,
        Unsubscribed = state.Unsubscribed,
        CreatedAt = state.CreatedAt,
        UpdatedAt = state.UpdatedAt,
        CapsJson = JsonSerializer.Serialize(state.Caps, Json),
        RequalifyFloorValue = state.RequalifyFloorValue,
        RequalifyFloorAt = state.RequalifyFloorAt,
        LinkedVisitorsJson = JsonSerializer.Serialize(state.LinkedVisitors, Json),
        EventCount = state.EventCount,
        Owner = state.Owner,
        ScoresJson = state.Scores.Count == 0 ? null : JsonSerializer.Serialize(state.Scores, Json),
        OriginForm = state.OriginForm,
        OriginIntent = state.OriginIntent,
    };

    public static LedgerEntity ToEntity(string leadId, LedgerAward award, int index, string modelVersion) => new()
    {
        PartitionKey = leadId,
        RowKey = LeadRows.Ledger(award.At, award.EventId, index),
        EventId = award.EventId,
        EventType = award.EventType,
        RuleId = award.RuleId,
        Score = award.Score ?? LedgerRules.EngagementScore,
        Points = award.Points,
        At = award.At,
        ModelVersion = modelVersion,
        Capped = award.Capped,
        Note = LeadRowBounds.BoundNote(award.Note),
    };

    public static HistoryEntity ToEntity(string leadId, StageChange change, string eventId, int index) => new()
    {
        PartitionKey = leadId,
        RowKey = LeadRows.History(change.At, eventId, index),
        At = change.At,
        From = change.From?.ToString(),
        To = change.To.ToString(),
        Reason = LeadRowBounds.BoundNote(change.Reason)!,
        CausedBy = LeadRowBounds.BoundNote(change.CausedBy)!,
        ModelVersion = change.ModelVersion,
        EventId = change.EventId,
    };

    public static StageChange ToChange(HistoryEntity entity) => new(
        entity.At,
        Enum.TryParse<LifecycleStage>(entity.From, out var from) ? from : null,
        Enum.Parse<LifecycleStage>(entity.To),
        entity.Reason,
        entity.CausedBy,
        entity.ModelVersion,
        entity.EventId);

    public static ScoreLedgerEntry ToEntry(LedgerEntity entity, DateTimeOffset now, TimeSpan halfLife) => new(
        entity.EventId,
        entity.EventType,
        entity.RuleId,
        entity.Score,
        entity.Points,
        entity.At,
        entity.ModelVersion,
        entity.Points * Decay.Factor(now - entity.At, halfLife),
        entity.Note);
}
