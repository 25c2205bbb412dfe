using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Nurture.Results;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

public enum DeliveryReportResult
{
    /// <summary>Counted against one of our messages (and, for a bounce or the like, the address suppressed).</summary>
    Counted,
    /// <summary>This report event was counted before: Event Grid delivers at least once.</summary>
    Duplicate,
    /// <summary>No message of ours to that recipient has this ACS message id; nothing was changed.</summary>
    NotOurs,
    /// <summary>The message already has the most report events one message may count; nothing more is stored.</summary>
    OverCap,
}

/// <summary>
/// Applies one delivery report. It trusts a report only for a message we sent to that very address: the recipient names the lead
/// (through <see cref="LeadIdFor"/>), and one of that lead's outbox records must be the message whose ACS operation id is the
/// report's <c>messageId</c>. Then a bounce-like status suppresses the lead (which stops its nurture: the timer checks suppression
/// before every send) and the status is counted once per report event id.
/// </summary>
internal sealed partial class DeliveryReportRecorder(NurtureTables tables, NurtureStore nurture, LeadIdentity identity, TimeProvider time, ILogger<DeliveryReportRecorder> logger, INurtureResults results)
{
    /// <summary>ACS sends a report or two per recipient (Expanded, then Delivered); anything past this is not a real delivery.</summary>
    public const int MaxReportsPerMessage = 16;

    private const int MaxConcurrencyAttempts = 8;

    /// <summary>
    /// The one mapping from a reported recipient to our lead id. Lead ids are derived from the normalised address
    /// with the keyed <see cref="LeadIdentity.LeadIdFor"/>, exactly as the processor keys leads.
    /// </summary>
    public string? LeadIdFor(string recipient) =>
        EmailAddress.TryNormalize(recipient, out var normalized) ? identity.LeadIdFor(normalized) : null;

    public async Task<DeliveryReportResult> RecordAsync(DeliveryReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!Guid.TryParse(report.MessageId, out var acsMessageId) || LeadIdFor(report.Recipient) is not { } leadId)
        {
            LogNotOurs(logger, report.EventId, "the message id is not one our sender issues, or the recipient is not an address");
            return DeliveryReportResult.NotOurs;
        }

        var outbox = await FindOutboxAsync(leadId, acsMessageId, cancellationToken);
        if (outbox is null)
        {
            LogNotOurs(logger, report.EventId, $"no outbox message {acsMessageId:D} to that recipient");
            return DeliveryReportResult.NotOurs;
        }

        var now = time.GetUtcNow();
        if (DeliveryStatuses.Suppresses(report.Status))
        {
            // Before counting, so a failure in between is retried by Event Grid and still suppresses (suppression is idempotent).
            await nurture.SuppressAsync(leadId, now, $"delivery-report:{DeliveryStatuses.Canonical(report.Status)}", cancellationToken);
        }

        var result = await CountAsync(leadId, acsMessageId, outbox, report, now, cancellationToken);
        await results.CountAsync(leadId, outbox.MessageId, cancellationToken); // also for a duplicate: its first count may have failed; throws -> 503, Event Grid retries
        LogRecorded(logger, report.EventId, leadId, outbox.MessageId, DeliveryStatuses.Canonical(report.Status), result, DeliveryStatuses.Suppresses(report.Status));
        return result;
    }

    /// <summary>The lead's outbox record whose ACS operation id is <paramref name="acsMessageId"/> (a scan of that lead's few outbox rows).</summary>
    private async Task<OutboxEntity?> FindOutboxAsync(string leadId, Guid acsMessageId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {OutboxEntity.Prefix} and RowKey lt {"outbox."}");
        await foreach (var row in tables.State.QueryAsync<OutboxEntity>(filter, select: [nameof(OutboxEntity.RowKey), nameof(OutboxEntity.MessageId)], cancellationToken: cancellationToken))
        {
            if (row.MessageId.Length > 0 && MessageIdentity.RequestId(row.MessageId) == acsMessageId)
                return row;
        }
        return null;
    }

    private async Task<DeliveryReportResult> CountAsync(string leadId, Guid acsMessageId, OutboxEntity outbox, DeliveryReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rowKey = DeliveryCountsEntity.RowFor(acsMessageId);
        var eventKey = EventKey(report.EventId);
        for (var attempt = 1; ; attempt++)
        {
            var existing = await tables.State.GetEntityIfExistsAsync<DeliveryCountsEntity>(leadId, rowKey, cancellationToken: cancellationToken);
            var row = existing.HasValue ? existing.Value! : new DeliveryCountsEntity { PartitionKey = leadId, RowKey = rowKey, MessageId = outbox.MessageId, OutboxRow = outbox.RowKey };
            if (row.HasCounted(eventKey))
                return DeliveryReportResult.Duplicate;
            if (row.CountedEvents >= MaxReportsPerMessage)
                return DeliveryReportResult.OverCap;

            row.Count(eventKey, report, now);
            try
            {
                if (existing.HasValue)
                    await tables.State.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                else
                    await tables.State.AddEntityAsync(row, cancellationToken);
                return DeliveryReportResult.Counted;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxConcurrencyAttempts)
            {
                // A concurrent delivery (perhaps of this very event) wrote first: read again and decide again.
            }
        }
    }

    /// <summary>A short, fixed-length key of the event id, so the list of counted events has a known size whatever ids look like.</summary>
    internal static string EventKey(string eventId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)).AsSpan(0, 8));

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery report {EventId} for lead {LeadId} message {MessageId}: {Status} -> {Result} (suppresses: {Suppresses})")]
    private static partial void LogRecorded(ILogger logger, string eventId, string leadId, string messageId, string status, DeliveryReportResult result, bool suppresses);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery report {EventId} ignored: {Reason}")]
    private static partial void LogNotOurs(ILogger logger, string eventId, string reason);
}
