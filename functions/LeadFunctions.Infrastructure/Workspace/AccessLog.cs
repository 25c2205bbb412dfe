using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Workspace;

/// <summary>What a person did with a lead, as the access log records it.</summary>
public static class AccessActions
{
    /// <summary>Read one lead (detail, search hit, export).</summary>
    public const string Read = "read";

    /// <summary>Listed leads; recorded once per page with the count returned, not per lead.</summary>
    public const string List = "list";

    /// <summary>Asked for a change of the lead (a stage move, an assignment).</summary>
    public const string Change = "change";

    /// <summary>Searched for a lead (by address); the address itself is never recorded.</summary>
    public const string Search = "search";
}

/// <summary>
/// Who read or changed which lead, and when: the user's Entra object id, the action, the function, the lead id and the time.
/// Never a name or an address, so the log itself holds no personal data of the user beyond a directory id, and none of the lead.
/// </summary>
public interface IAccessLog
{
    /// <summary>
    /// Records one access to <paramref name="leadId"/> (or, with no lead, a lead-less access such as a search that found nothing).
    /// Never throws for a storage failure: the read it records has happened, and refusing it now would protect nothing.
    /// </summary>
    Task RecordAsync(WorkspaceUser user, string action, string function, string? leadId, CancellationToken cancellationToken);

    /// <summary>Records a list page: who listed, with which function, and how many leads it returned.</summary>
    Task RecordListAsync(WorkspaceUser user, string function, int leadsReturned, CancellationToken cancellationToken);
}

/// <summary>
/// The accesses of one user, with one action and function, to one lead on one UTC day, folded into one row: the first and last
/// time and how many. PartitionKey = the lead id, so export and erasure find it with the lead's other rows; a list page (no one
/// lead) goes in a per-day partition <c>list-yyyyMMdd</c>, an access with no valid lead in <c>nolead-yyyyMMdd</c>.
/// RowKey = <c>access|</c>, the inverted start of the day (newest day first), then a hash of (user, action, function).
/// <para>
/// Why folded: a row per access let one signed-in user (or a script with their session) add rows to a lead without limit. Folded,
/// the rows a lead can gain in a day are bounded by the people who may sign in times the few (action, function) pairs the code
/// has, however many requests arrive; the audit still answers who, what and when (to the day, with first and last time and the
/// count, which is what shows a scraping script). The write stays a point read and one conditional write, never a count query.
/// The total per lead is then capped by the retention sweep (<see cref="AccessLogRetention"/>), which keeps the newest
/// <see cref="WorkspaceOptions.AccessLogRowsPerLead"/> rows and deletes rows past <see cref="WorkspaceOptions.AccessLogDays"/>.
/// </para>
/// Rows written before folding (<c>access|{inverted ticks}|{random}</c>, no <see cref="LastAt"/>) read the same way, with a count of one.
/// </summary>
internal sealed class AccessLogEntity : ITableEntity
{
    public const string RowPrefix = "access|";
    public const string ListPartitionPrefix = "list-";
    public const string NoLeadPartitionPrefix = "nolead-";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string UserId { get; set; } = "";
    public string Action { get; set; } = "";
    public string Function { get; set; } = "";
    public string? LeadId { get; set; }

    /// <summary>The first access of the day folded into this row.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>The latest access folded into this row; what retention ages the row by.</summary>
    public DateTimeOffset? LastAt { get; set; }

    /// <summary>How many accesses this row stands for (saturates at <see cref="int.MaxValue"/>).</summary>
    public int? Count { get; set; }

    /// <summary>For list rows: the leads returned by all the pages folded into the row (saturating).</summary>
    public int? LeadsReturned { get; set; }
}

/// <summary>The access-log table client, typed so it cannot be confused with another table.</summary>
public sealed record AccessLogTable(TableClient Client);

internal sealed partial class AccessLog(AccessLogTable table, TimeProvider time, ILogger<AccessLog> logger) : IAccessLog
{
    /// <summary>Action and function names are code constants; the bound keeps a careless caller from writing a large property.</summary>
    internal const int MaxNameLength = 64;

    /// <summary>Two people folding into the same row at once: each conflict is a fresh read, a few are plenty, and then the gap is logged.</summary>
    private const int MaxAttempts = 4;

    public Task RecordAsync(WorkspaceUser user, string action, string function, string? leadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = time.GetUtcNow();
        // Only a lead id may become a partition: anything else (a malformed id from a URL) is kept out of keys and recorded as lead-less.
        var validLead = leadId is not null && LeadIdentity.IsLeadId(leadId) ? leadId : null;
        action = Bound(action);
        function = Bound(function);
        return FoldAsync(validLead ?? AccessLogEntity.NoLeadPartitionPrefix + Day(now), RowKeyFor(now, user.Id, action, function),
            user.Id, action, function, validLead, now, leadsReturned: null, cancellationToken);
    }

    public Task RecordListAsync(WorkspaceUser user, string function, int leadsReturned, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = time.GetUtcNow();
        function = Bound(function);
        return FoldAsync(AccessLogEntity.ListPartitionPrefix + Day(now), RowKeyFor(now, user.Id, AccessActions.List, function),
            user.Id, AccessActions.List, function, leadId: null, now, Math.Max(0, leadsReturned), cancellationToken);
    }

    private async Task FoldAsync(string partitionKey, string rowKey, string userId, string action, string function, string? leadId, DateTimeOffset now,
        int? leadsReturned, CancellationToken cancellationToken)
    {
        try
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var existing = await table.Client.GetEntityIfExistsAsync<AccessLogEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
                if (!existing.HasValue)
                {
                    try
                    {
                        await table.Client.AddEntityAsync(new AccessLogEntity
                        {
                            PartitionKey = partitionKey,
                            RowKey = rowKey,
                            UserId = userId,
                            Action = action,
                            Function = function,
                            LeadId = leadId,
                            At = now,
                            LastAt = now,
                            Count = 1,
                            LeadsReturned = leadsReturned,
                        }, cancellationToken);
                        return;
                    }
                    catch (RequestFailedException ex) when (ex.Status == 409)
                    {
                        continue; // another access added the day's row first: fold into it
                    }
                }
                var row = existing.Value!;
                row.Count = Saturating(row.Count ?? 1, 1);
                row.LastAt = row.LastAt is { } last && last > now ? last : now;
                if (leadsReturned is { } returned)
                    row.LeadsReturned = Saturating(row.LeadsReturned ?? 0, returned);
                try
                {
                    await table.Client.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                    return;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                {
                    // Another access folded into the row (or the sweep deleted it) between the read and the write: read again.
                }
            }
            LogContended(logger, action, function, userId, leadId ?? "-", MaxAttempts);
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or TimeoutException or IOException or AggregateException)
        {
            // The read already happened; a gap in the log is made visible here (warning, with ids) instead of failing the user.
            LogWriteFailed(logger, ex, action, function, userId, leadId ?? "-");
        }
    }

    private static int Saturating(int value, int add) => value > int.MaxValue - add ? int.MaxValue : value + add;

    /// <summary>
    /// The day's row for this user, action and function. The hash keeps the key short and free of characters a key may not hold
    /// whatever the id looks like; the row itself carries the user id, action and function in the clear.
    /// </summary>
    internal static string RowKeyFor(DateTimeOffset now, string userId, string action, string function)
    {
        var day = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var who = SHA256.HashData(Encoding.UTF8.GetBytes(userId + "\n" + action + "\n" + function));
        return AccessLogEntity.RowPrefix + InvertedTicks(day) + "|" + Convert.ToHexStringLower(who.AsSpan(0, 8));
    }

    internal static string InvertedTicks(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    internal static string Day(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static string Bound(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        return value.Length > MaxNameLength ? value[..MaxNameLength] : value;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Access log not written ({Action} by {Function}) for user {UserId}, lead {LeadId}; the access itself went ahead")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string action, string function, string userId, string leadId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Access log not written ({Action} by {Function}) for user {UserId}, lead {LeadId}: the row changed under {Attempts} attempts; the access itself went ahead")]
    private static partial void LogContended(ILogger logger, string action, string function, string userId, string leadId, int attempts);
}
