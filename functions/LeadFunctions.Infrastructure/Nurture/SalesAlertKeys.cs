using System.Globalization;
using LeadFunctions.Domain.SalesAlerts;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// Outbox and message ids of the sales e-mails of one SQL episode, and the opaque markers their accept/reject links carry instead
/// of an address: a marker names the e-mail, and the e-mail's outbox record says whom it went to, so a decision is recorded
/// against the person who actually clicked (the manager for an escalation, the new rep after a re-route).
/// </summary>
internal static class SalesAlertKeys
{
    public const string AlertMarker = "alert";

    public static string AlertOutbox(DateTimeOffset sqlAt) => $"{OutboxEntity.Prefix}{DueKinds.Alert}-sql-{Ticks(sqlAt.UtcTicks)}";

    public static string AlertMessage(string leadId, DateTimeOffset sqlAt) => $"{leadId}-{DueKinds.Alert}-sql-{Ticks(sqlAt.UtcTicks)}";

    /// <summary>One record per ladder step: a step is sent once per SQL episode.</summary>
    public static string StepOutbox(DateTimeOffset sqlAt, string stepId) => StepOutbox(sqlAt.UtcTicks, stepId);

    public static string StepMessage(string leadId, DateTimeOffset sqlAt, string stepId) => $"{leadId}-{DueKinds.Alert}-sla-{Ticks(sqlAt.UtcTicks)}-{stepId}";

    /// <summary>The single escalation's record before the ladder; reminders written by that version still finish there.</summary>
    public static string LegacyEscalationOutbox(DateTimeOffset sqlAt) => $"{OutboxEntity.Prefix}{DueKinds.Alert}-sla-{Ticks(sqlAt.UtcTicks)}";

    public static string StepMarker(SlaStep step) => step.Marker;

    /// <summary>The outbox record whose recipient a link marker stands for; null for an address (links sent before markers) or junk.</summary>
    public static string? OutboxForMarker(string marker, long sqlTicks)
    {
        if (marker == AlertMarker)
            return $"{OutboxEntity.Prefix}{DueKinds.Alert}-sql-{Ticks(sqlTicks)}";
        if (marker.StartsWith("sla-", StringComparison.Ordinal) && marker.Length > 4 && marker.Length <= 64)
            return StepOutbox(sqlTicks, marker[4..]);
        return null;
    }

    private static string StepOutbox(long sqlTicks, string stepId) => $"{OutboxEntity.Prefix}{DueKinds.Alert}-sla-{Ticks(sqlTicks)}-{stepId}";

    private static string Ticks(long ticks) => ticks.ToString("D19", CultureInfo.InvariantCulture);
}
