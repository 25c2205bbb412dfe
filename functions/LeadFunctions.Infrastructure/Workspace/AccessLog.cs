using System.Globalization;
using System.Security.Cryptography;
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
/// One access, in the access-log table. PartitionKey = the lead id, so export and erasure find it with the lead's other rows;
/// a list (no one lead) goes in a per-day partition <c>list-yyyyMMdd</c>. RowKey = <c>access|</c>, then the inverted time (newest
/// first), then a random suffix: two accesses in the same tick do not overwrite each other.
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
    public DateTimeOffset At { get; set; }
    public int? LeadsReturned { get; set; }
}

/// <summary>The access-log table client, typed so it cannot be confused with another table.</summary>
public sealed record AccessLogTable(TableClient Client);

internal sealed partial class AccessLog(AccessLogTable table, TimeProvider time, ILogger<AccessLog> logger) : IAccessLog
{
    /// <summary>Action and function names are code constants; the bound keeps a careless caller from writing a large property.</summary>
    internal const int MaxNameLength = 64;

    public Task RecordAsync(WorkspaceUser user, string action, string function, string? leadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = time.GetUtcNow();
        // Only a lead id may become a partition: anything else (a malformed id from a URL) is kept out of keys and recorded as lead-less.
        var validLead = leadId is not null && LeadIdentity.IsLeadId(leadId) ? leadId : null;
        return WriteAsync(new AccessLogEntity
        {
            PartitionKey = validLead ?? AccessLogEntity.NoLeadPartitionPrefix + Day(now),
            RowKey = RowKeyFor(now),
            UserId = user.Id,
            Action = Bound(action),
            Function = Bound(function),
            LeadId = validLead,
            At = now,
        }, cancellationToken);
    }

    public Task RecordListAsync(WorkspaceUser user, string function, int leadsReturned, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = time.GetUtcNow();
        return WriteAsync(new AccessLogEntity
        {
            PartitionKey = AccessLogEntity.ListPartitionPrefix + Day(now),
            RowKey = RowKeyFor(now),
            UserId = user.Id,
            Action = AccessActions.List,
            Function = Bound(function),
            At = now,
            LeadsReturned = Math.Max(0, leadsReturned),
        }, cancellationToken);
    }

    private async Task WriteAsync(AccessLogEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            await table.Client.AddEntityAsync(entity, cancellationToken);
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or TimeoutException or IOException or AggregateException)
        {
            // The read already happened; a gap in the log is made visible here (warning, with ids) instead of failing the user.
            LogWriteFailed(logger, ex, entity.Action, entity.Function, entity.UserId, entity.LeadId ?? "-");
        }
    }

    internal static string RowKeyFor(DateTimeOffset now) =>
        AccessLogEntity.RowPrefix + (DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks).ToString("D19", CultureInfo.InvariantCulture)
        + "|" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static string Day(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static string Bound(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        return value.Length > MaxNameLength ? value[..MaxNameLength] : value;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Access log not written ({Action} by {Function}) for user {UserId}, lead {LeadId}; the access itself went ahead")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string action, string function, string userId, string leadId);
}
