using System.Globalization;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// One e-mail sent to the lead as the detail shows it. <see cref="HumanOpens"/> and <see cref="HumanClicks"/> count the pixel and link
/// hits that were not judged probable bots (every hit, not only the first, which is all that scores), at most
/// <see cref="LeadEmailEntity.MaxCount"/> each.
/// </summary>
public sealed record SentEmail(
    string MessageId,
    string Kind,
    string? Programme,
    string? Step,
    string Subject,
    DateTimeOffset SentAt,
    string Status,
    int HumanOpens,
    int HumanClicks);

/// <summary>The e-mails sent to a lead, newest first, a bounded read of the lead's own partition.</summary>
public interface ILeadEmails
{
    Task<IReadOnlyList<SentEmail>> LatestAsync(string leadId, int max, CancellationToken cancellationToken);
}

/// <summary>What the outbox knows of a message to the lead when it is marked sent, for its record in the lead's e-mail list.</summary>
internal sealed record SentEmailInfo(string? Programme, string? Step, string Subject);

/// <summary>
/// An e-mail sent to the lead, in the lead's partition of the nurture state table, next to its outbox record: written in the same
/// entity-group transaction that marks the outbox record sent, keyed <c>mail|{inverted ticks of the send}|{message}</c> so the
/// newest are the first rows of one range read, and erased with the lead's partition like every other row there.
/// </summary>
internal sealed class LeadEmailEntity : ITableEntity
{
    public const string Prefix = "mail|";
    public const string End = "mail}";

    /// <summary>Open and click counts stop here: a replayed pixel cannot make a row grow, and past it no more writes happen.</summary>
    public const int MaxCount = 100_000;

    /// <summary>Subjects are cut to this many characters (they are shown in a list, and a property must stay far below 64 KiB).</summary>
    public const int MaxSubjectLength = 300;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string MessageId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? Programme { get; set; }
    public string? Step { get; set; }
    public string Subject { get; set; } = "";
    public DateTimeOffset SentAt { get; set; }
    public string Status { get; set; } = OutboxStatus.Sent;
    public string OutboxRow { get; set; } = "";
    public int HumanOpens { get; set; }
    public int HumanClicks { get; set; }
    public int BotHits { get; set; }

    /// <summary>When the unsubscribe link of this very message was first used (what the step's results count as its unsubscribe).</summary>
    public DateTimeOffset? UnsubscribedAt { get; set; }

    public static string RowFor(DateTimeOffset sentAt, string messageId) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{DateTimeOffset.MaxValue.UtcTicks - Math.Clamp(sentAt.UtcTicks, 0, DateTimeOffset.MaxValue.UtcTicks):D19}|{LeadRows.EventKey(messageId)}");

    public static string Bound(string subject) => subject.Length <= MaxSubjectLength ? subject : subject[..(MaxSubjectLength - 1)] + "…";
}

/// <summary>
/// Finds a message's <see cref="LeadEmailEntity"/> from its id, which is all a tracking link carries: <c>mailid|{message}</c>, written
/// in the same transaction as the record it points to.
/// </summary>
internal sealed class LeadEmailIndexEntity : ITableEntity
{
    public const string Prefix = "mailid|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EmailRow { get; set; } = "";

    public static string RowFor(string messageId) => Prefix + LeadRows.EventKey(messageId);
}

internal sealed class TableLeadEmails(NurtureTables tables) : ILeadEmails
{
    private const int MaxConcurrencyAttempts = 3;

    public async Task<IReadOnlyList<SentEmail>> LatestAsync(string leadId, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {LeadEmailEntity.Prefix} and RowKey lt {LeadEmailEntity.End}");
        var emails = new List<SentEmail>(max);
        await foreach (var row in tables.State.QueryAsync<LeadEmailEntity>(filter, maxPerPage: max, cancellationToken: cancellationToken))
        {
            emails.Add(new SentEmail(row.MessageId, row.Kind, row.Programme, row.Step, row.Subject, row.SentAt, row.Status, row.HumanOpens, row.HumanClicks));
            if (emails.Count == max)
                break;
        }
        return emails;
    }

    /// <summary>
    /// Counts one open or click of a message to the lead. False when the message has no record (sent before records were kept, to a
    /// rep, or the lead was erased): nothing is created, so a hit can never bring an erased lead's rows back.
    /// </summary>
    public async Task<bool> CountHitAsync(string leadId, string messageId, bool click, bool probableBot, CancellationToken cancellationToken)
    {
        var index = await tables.State.GetEntityIfExistsAsync<LeadEmailIndexEntity>(leadId, LeadEmailIndexEntity.RowFor(messageId), cancellationToken: cancellationToken);
        if (!index.HasValue)
            return false;
        for (var attempt = 1; ; attempt++)
        {
            var found = await tables.State.GetEntityIfExistsAsync<LeadEmailEntity>(leadId, index.Value!.EmailRow, cancellationToken: cancellationToken);
            if (!found.HasValue)
                return false;
            var row = found.Value!;
            if (probableBot)
            {
                if (row.BotHits >= LeadEmailEntity.MaxCount)
                    return true;
                row.BotHits++;
            }
            else if (click)
            {
                if (row.HumanClicks >= LeadEmailEntity.MaxCount)
                    return true;
                row.HumanClicks++;
            }
            else
            {
                if (row.HumanOpens >= LeadEmailEntity.MaxCount)
                    return true;
                row.HumanOpens++;
            }
            try
            {
                await tables.State.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxConcurrencyAttempts)
            {
                // Another hit of the same message counted first: read again and count on top.
            }
        }
    }
}
