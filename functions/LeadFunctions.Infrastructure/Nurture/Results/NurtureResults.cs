using Azure;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture.Results;

/// <summary>
/// Keeps the per-step results of nurture e-mails as their facts are recorded. Each call brings the counters of one message up to
/// what its own records say (the e-mail record in the lead's partition with its human opens, clicks and unsubscribe, and the
/// message's delivery-report counts): idempotent, so a redelivered report, a repeated hit, a retried projection or two timer
/// runs count nothing twice, and a count that failed is caught up by the message's next call. See docs/nurture-results.md.
/// </summary>
public interface INurtureResults
{
    /// <summary>Counts what is known of the message. Throws when storage fails, for callers whose own work is retried.</summary>
    Task CountAsync(string leadId, string messageId, CancellationToken cancellationToken);

    /// <summary>As <see cref="CountAsync"/>, for callers that must answer anyway (a pixel, a redirect): a failure is logged, false.</summary>
    Task<bool> TryCountAsync(string leadId, string messageId, CancellationToken cancellationToken);

    /// <summary>
    /// Records on the message's e-mail record that its unsubscribe link was used (throws when that cannot be stored), then counts
    /// (a failure there is logged: the record keeps the fact for the message's next count).
    /// </summary>
    Task UnsubscribedAsync(string leadId, string messageId, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>
/// A message's counters kept changing under every attempt; the caller's retry counts it later. A timeout in kind (it waited and
/// gave up), so the callers that retry transient trouble (the nurture timer, the delivery-report webhook's 503) retry it too.
/// </summary>
public sealed class NurtureResultsContentionException(string message) : TimeoutException(message);

/// <summary>
/// For the timer: counts a nurture e-mail from the record it has just written with the send, instead of reading the record and its
/// index back (two point reads per e-mail). The same exactly-once count as <see cref="INurtureResults.CountAsync"/>.
/// </summary>
internal interface INurtureSentCounter
{
    Task CountSentAsync(string leadId, LeadEmailEntity written, CancellationToken cancellationToken);
}

internal sealed partial class NurtureResults(
    NurtureResultsTable table,
    NurtureTables nurture,
    IOptions<NurtureResultsOptions> options,
    TimeProvider time,
    ILogger<NurtureResults> logger) : INurtureResults, INurtureSentCounter
{
    public const int MaxAttempts = 10;
    private const int MaxRecordAttempts = 3;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private TableClient Counters => table.Client;

    public async Task CountAsync(string leadId, string messageId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leadId);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        if (await FindEmailAsync(leadId, messageId, cancellationToken) is { } email)
            await CountAsync(leadId, email, goal: false, cancellationToken);
    }

    public Task CountSentAsync(string leadId, LeadEmailEntity written, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leadId);
        ArgumentNullException.ThrowIfNull(written);
        return CountAsync(leadId, written, goal: false, cancellationToken);
    }

    public async Task<bool> TryCountAsync(string leadId, string messageId, CancellationToken cancellationToken)
    {
        try
        {
            await CountAsync(leadId, messageId, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is RequestFailedException or NurtureResultsContentionException)
        {
            LogNotCounted(logger, leadId, ex.GetType().Name);
            return false;
        }
    }

    public async Task UnsubscribedAsync(string leadId, string messageId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leadId);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        for (var attempt = 1; ; attempt++)
        {
            var email = await FindEmailAsync(leadId, messageId, cancellationToken);
            if (email is null)
                return;
            if (email.UnsubscribedAt is not null)
                break;
            var change = new TableEntity(email.PartitionKey, email.RowKey) { [nameof(LeadEmailEntity.UnsubscribedAt)] = at };
            try
            {
                // With the record's ETag: a hit counted meanwhile is re-read rather than overwritten (a merge writes only this column).
                await nurture.State.UpdateEntityAsync(change, email.ETag, TableUpdateMode.Merge, cancellationToken);
                break;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxRecordAttempts)
            {
            }
        }
        await TryCountAsync(leadId, messageId, cancellationToken);
    }

    /// <summary>
    /// Counts one nurture e-mail (and, with <paramref name="goal"/>, the goal it reached) exactly once: the step's counter row and the
    /// message's marker change in one entity-group transaction, each with the ETag it was read with; a conflict is re-read and
    /// decided again, at most <see cref="MaxAttempts"/> times.
    /// </summary>
    internal async Task CountAsync(string leadId, LeadEmailEntity email, bool goal, CancellationToken cancellationToken)
    {
        if (email.Kind != DueKinds.Nurture || email.Programme is not { Length: > 0 } programme || email.Step is not { Length: > 0 } step)
            return;
        if (email.SentAt < time.GetUtcNow() - TimeSpan.FromDays(options.Value.MarkerDays))
        {
            // Its marker may be gone already; counting it again could count it twice.
            LogTooOld(logger, leadId, programme, step);
            return;
        }
        // The delivery counts (the only read of what the lead's records say beyond the e-mail record) go with the first counter reads:
        // they do not depend on each other, so the count waits for one round trip, not two.
        var knownRead = KnownAsync(leadId, email, goal, cancellationToken);
        var partition = NurtureResultRows.Partition(NurtureResultRows.ShardOf(email.MessageId, options.Value.Shards));
        var markerKey = NurtureResultRows.Marker(email.SentAt, email.MessageId);
        var counterKey = NurtureResultRows.Counter(programme, step);
        for (var attempt = 1; ; attempt++)
        {
            var markerRead = Counters.GetEntityIfExistsAsync<TableEntity>(partition, markerKey, cancellationToken: cancellationToken);
            var counterRead = Counters.GetEntityIfExistsAsync<TableEntity>(partition, counterKey, cancellationToken: cancellationToken);
            var known = await knownRead;
            var marker = await markerRead;
            var counter = await counterRead;
            var counted = marker.HasValue ? FactsOf(marker.Value!) : MessageFacts.None;
            var target = counted.Union(known);
            var deltas = target.DeltasFrom(counted);
            if (deltas.Count == 0)
                return;

            var markerRow = MarkerRow(partition, markerKey, target, email.SentAt);
            var counterRow = new TableEntity(partition, counterKey) { [CounterColumns.Programme] = programme, [CounterColumns.Step] = step };
            foreach (var (column, delta) in deltas)
                counterRow[column] = (counter.HasValue ? counter.Value!.GetInt64(column) ?? 0 : 0) + delta;
            List<TableTransactionAction> actions =
            [
                marker.HasValue
                    ? new(TableTransactionActionType.UpdateReplace, markerRow, marker.Value!.ETag)
                    : new(TableTransactionActionType.Add, markerRow),
                counter.HasValue
                    ? new(TableTransactionActionType.UpdateMerge, counterRow, counter.Value!.ETag)
                    : new(TableTransactionActionType.Add, counterRow),
            ];
            try
            {
                await Counters.SubmitTransactionAsync(actions, cancellationToken);
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
            {
                if (attempt >= MaxAttempts)
                {
                    LogGaveUp(logger, leadId, programme, step, attempt);
                    throw new NurtureResultsContentionException(
                        $"The results of nurture step {programme}/{step} kept changing under {attempt} attempts; the count is left to the caller's retry.");
                }
                await Task.Delay(Backoff(attempt), cancellationToken);
            }
        }
    }

    /// <summary>The message's e-mail record, found through its id row (a tracking link carries the message id only).</summary>
    internal async Task<LeadEmailEntity?> FindEmailAsync(string leadId, string messageId, CancellationToken cancellationToken)
    {
        var index = await nurture.State.GetEntityIfExistsAsync<LeadEmailIndexEntity>(leadId, LeadEmailIndexEntity.RowFor(messageId), cancellationToken: cancellationToken);
        if (!index.HasValue)
            return null;
        var email = await nurture.State.GetEntityIfExistsAsync<LeadEmailEntity>(leadId, index.Value!.EmailRow, cancellationToken: cancellationToken);
        return email.HasValue ? email.Value : null;
    }

    /// <summary>What the lead's own records say of the message: sent (it has a record), its delivery reports, human hits, unsubscribe.</summary>
    private async Task<MessageFacts> KnownAsync(string leadId, LeadEmailEntity email, bool goal, CancellationToken cancellationToken)
    {
        var reports = await nurture.State.GetEntityIfExistsAsync<DeliveryCountsEntity>(
            leadId, DeliveryCountsEntity.RowFor(MessageIdentity.RequestId(email.MessageId)), cancellationToken: cancellationToken);
        var delivered = reports.HasValue && reports.Value!.Delivered > 0;
        // What stops the next e-mail to the address (DeliveryStatuses.Suppresses): the message did not reach a reader.
        var bounced = reports.HasValue && reports.Value!.Bounced + reports.Value.Suppressed + reports.Value.Failed + reports.Value.FilteredSpam > 0;
        return new MessageFacts(true, delivered, bounced, Math.Max(0, email.HumanOpens), Math.Max(0, email.HumanClicks), email.UnsubscribedAt is not null, goal);
    }

    private static MessageFacts FactsOf(TableEntity marker) => new(
        marker.GetBoolean(CounterColumns.Sent) == true,
        marker.GetBoolean(CounterColumns.Delivered) == true,
        marker.GetBoolean(CounterColumns.Bounced) == true,
        marker.GetInt32(CounterColumns.HumanOpens) ?? 0,
        marker.GetInt32(CounterColumns.HumanClicks) ?? 0,
        marker.GetBoolean(CounterColumns.Unsubscribed) == true,
        marker.GetBoolean(CounterColumns.Goals) == true);

    private static TableEntity MarkerRow(string partition, string key, MessageFacts facts, DateTimeOffset sentAt) => new(partition, key)
    {
        [CounterColumns.Sent] = facts.Sent,
        [CounterColumns.Delivered] = facts.Delivered,
        [CounterColumns.Bounced] = facts.Bounced,
        [CounterColumns.HumanOpens] = facts.HumanOpens,
        [CounterColumns.HumanClicks] = facts.HumanClicks,
        [CounterColumns.Unsubscribed] = facts.Unsubscribed,
        [CounterColumns.Goals] = facts.Goal,
        ["SentAt"] = sentAt,
    };

    private static TimeSpan Backoff(int attempt)
    {
        var capped = Math.Min(FirstBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1), MaxBackoff.TotalMilliseconds);
        // Jitter, so two counts that collided do not collide again at the same moment.
        return TimeSpan.FromMilliseconds(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Nurture results: a message to lead {LeadId} could not be counted now ({Error}); its next count catches up")]
    private static partial void LogNotCounted(ILogger logger, string leadId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Nurture results: a message of {Programme}/{Step} to lead {LeadId} is past NurtureResults:MarkerDays; not counted")]
    private static partial void LogTooOld(ILogger logger, string leadId, string programme, string step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Nurture results: counters of {Programme}/{Step} (lead {LeadId}) kept changing for {Attempts} attempts")]
    private static partial void LogGaveUp(ILogger logger, string leadId, string programme, string step, int attempts);
}
