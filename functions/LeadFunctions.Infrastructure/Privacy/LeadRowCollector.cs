using System.Text.Json;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Storage;

namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>One stored row about a lead: which table it is in, what kind of row it is, and the row as stored.</summary>
internal sealed record StoredRow(string Table, string Kind, TableEntity Entity);

/// <summary>Everything stored about one lead, as export and erasure see it.</summary>
internal sealed record LeadData(string LeadId, string? Email, IReadOnlyList<string> VisitorKeys, IReadOnlyList<StoredRow> Rows)
{
    public bool Exists => Rows.Count > 0;
    public bool HasTombstone => Rows.Any(r => r.Kind == RowKinds.Tombstone);
    public LeadEntity? Lead { get; init; }
}

/// <summary>The names rows are grouped by, from their row-key prefix (and table role); unknown prefixes keep their own name.</summary>
internal static class RowKinds
{
    public const string Tombstone = "tombstone";
    public const string Lead = "lead";
    public const string AppliedEvents = "appliedEvents";
    public const string Ledger = "ledger";
    public const string History = "history";
    public const string Visitors = "visitors";
    public const string Outbox = "outbox";
    public const string Delivery = "deliveryReports";
    public const string Suppression = "suppression";
    public const string Sla = "sla";
    public const string Due = "dueItems";
    public const string Parked = "parkedWork";
    public const string Access = "accessLog";
    public const string Emails = "emails";
    public const string Webhooks = "webhookDeliveries";
    /// <summary>Projection work the processor has not finished (it carries the name and company a list shows).</summary>
    public const string ProjectionWork = "projectionWork";
    /// <summary>Rows of the lead index (lists): name, company, stage, owner and score of the lead.</summary>
    public const string LeadIndex = "leadIndex";
    /// <summary>What an erasure leaves in the lead index against late projection work: markers and their records (ids and times).</summary>
    public const string IndexErasureMarker = "indexErasureMarkers";
    /// <summary>When the lead last did what a nurture branch or goal waits for (a time per configured condition).</summary>
    public const string NurtureBehaviour = "nurtureBehaviour";
    /// <summary>The nurture programme the lead is in.</summary>
    public const string NurtureEnrolment = "nurtureEnrolment";
    /// <summary>When the lead's marketing e-mails of the last 7 days went (the frequency cap).</summary>
    public const string MarketingSends = "marketingSends";

    public static string ForLeadPartition(string rowKey) => rowKey switch
    {
        ErasureTombstoneEntity.Row => Tombstone,
        Leads.LeadRows.Lead => Lead,
        SuppressionEntity.Row => Suppression,
        NurtureEnrolmentEntity.Row => NurtureEnrolment,
        MarketingSendsEntity.Row => MarketingSends,
        _ when rowKey.StartsWith(NurtureBehaviourEntity.BranchPrefix, StringComparison.Ordinal) || rowKey.StartsWith(NurtureBehaviourEntity.GoalPrefix, StringComparison.Ordinal) => NurtureBehaviour,
        _ when rowKey.StartsWith(Leads.LeadRows.AppliedPrefix, StringComparison.Ordinal) => AppliedEvents,
        _ when rowKey.StartsWith(Leads.LeadRows.LedgerPrefix, StringComparison.Ordinal) => Ledger,
        _ when rowKey.StartsWith(Leads.LeadRows.HistoryPrefix, StringComparison.Ordinal) => History,
        _ when rowKey.StartsWith(OutboxEntity.Prefix, StringComparison.Ordinal) => Outbox,
        _ when rowKey.StartsWith(DeliveryCountsEntity.Prefix, StringComparison.Ordinal) => Delivery,
        _ when rowKey.StartsWith(SlaEntity.Prefix, StringComparison.Ordinal) => Sla,
        _ when rowKey.StartsWith(Workspace.AccessLogEntity.RowPrefix, StringComparison.Ordinal) => Access,
        _ when rowKey.StartsWith(LeadEmailEntity.Prefix, StringComparison.Ordinal) || rowKey.StartsWith(LeadEmailIndexEntity.Prefix, StringComparison.Ordinal) => Emails,
        _ when rowKey.StartsWith(Infrastructure.Webhooks.WebhookRecordEntity.Prefix, StringComparison.Ordinal) => Webhooks,
        _ when rowKey.StartsWith(Leads.LeadProjectionWorkRows.Prefix, StringComparison.Ordinal) => ProjectionWork,
        // A row kind added later still appears, under its own prefix: nothing is left out for want of a name.
        _ => "other:" + Prefix(rowKey),
    };

    private static string Prefix(string rowKey)
    {
        var end = rowKey.AsSpan(1).IndexOfAny("-|!:");
        return end < 0 ? rowKey : rowKey[..(end + 1)];
    }
}

/// <summary>
/// Finds every row about a lead: the lead's partition in every registered table, the partitions of the visitors stitched to it
/// (in every registered table too), and the rows of the lead-referencing tables whose <c>LeadId</c> is the lead. A table added with
/// <see cref="RequiredTable"/> is covered without a change here.
/// </summary>
internal sealed class LeadRowCollector(
    TableServiceClient service,
    LeadsTable leads,
    IEnumerable<RequiredTable> required,
    IEnumerable<LeadReferencingTable> referencing,
    IServiceProvider services)
{
    private readonly Lazy<string[]> _tables = new(() => [.. required.Select(t => t.Name(services)).Distinct(StringComparer.Ordinal)]);
    private readonly Lazy<(string Name, string Kind)[]> _referencing = new(() => [.. referencing.Select(t => (t.Name(services), t.Kind ?? RowKinds.Due)).DistinctBy(t => t.Item1, StringComparer.Ordinal)]);

    public IReadOnlyList<string> Tables => _tables.Value;

    public TableClient Table(string name) => service.GetTableClient(name);

    public async Task<LeadData> CollectAsync(string leadId, CancellationToken cancellationToken)
    {
        var lead = (await leads.Client.GetEntityIfExistsAsync<LeadEntity>(leadId, Leads.LeadRows.Lead, cancellationToken: cancellationToken)) is { HasValue: true } found
            ? found.Value
            : null;
        var visitors = lead is null ? [] : JsonSerializer.Deserialize<List<string>>(lead.LinkedVisitorsJson) ?? [];
        var rows = new List<StoredRow>();
        var seen = new HashSet<(string, string, string)>();

        foreach (var name in _tables.Value)
        {
            var table = Table(name);
            await AddAsync(rows, seen, name, table, TableClient.CreateQueryFilter($"PartitionKey eq {leadId}"), RowKinds.ForLeadPartition, cancellationToken);
            foreach (var visitor in visitors.Where(v => v.Length > 0 && v != leadId))
                await AddAsync(rows, seen, name, table, TableClient.CreateQueryFilter($"PartitionKey eq {visitor}"), _ => RowKinds.Visitors, cancellationToken);
        }
        foreach (var (name, referencingKind) in _referencing.Value)
        {
            await AddAsync(rows, seen, name, Table(name), TableClient.CreateQueryFilter($"LeadId eq {leadId}"),
                _ => referencingKind, cancellationToken, parkedAware: true);
        }
        return new LeadData(leadId, lead?.Email, visitors, rows) { Lead = lead };
    }

    private static async Task AddAsync(List<StoredRow> rows, HashSet<(string, string, string)> seen, string name, TableClient table, string filter,
        Func<string, string> kind, CancellationToken cancellationToken, bool parkedAware = false)
    {
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
            {
                if (!seen.Add((name, row.PartitionKey, row.RowKey)))
                    continue;
                var rowKind = parkedAware && row.PartitionKey == ParkedEntity.Partition ? RowKinds.Parked : kind(row.RowKey);
                if (rowKind == RowKinds.LeadIndex && Lists.LeadIndexErasureGuard.IsErasureRow(row))
                    rowKind = RowKinds.IndexErasureMarker;
                rows.Add(new StoredRow(name, rowKind, row));
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // The table does not exist (yet): nothing of the lead is in it.
        }
    }
}
