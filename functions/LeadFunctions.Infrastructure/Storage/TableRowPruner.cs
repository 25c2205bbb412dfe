using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Storage;

/// <summary>
/// Deletes every row a filter matches, for the maintenance runs that keep marker tables bounded (funnel and nurture results).
/// Reads keys only, in pages of at most <see cref="PageSize"/>, and deletes in entity-group transactions of at most
/// <see cref="MaxActionsPerTransaction"/> rows of one partition. It keeps no state of its own: the filter is what is left to
/// delete, so a run that stops part way (a timeout, a crash) is resumed by the next run with the same filter, and two runs
/// may overlap (a batch the other run emptied first is skipped and counts nothing).
/// </summary>
public static class TableRowPruner
{
    public const int PageSize = 1000;
    public const int MaxActionsPerTransaction = 100;

    private static readonly string[] KeyColumns = [nameof(ITableEntity.PartitionKey), nameof(ITableEntity.RowKey)];

    /// <summary>Deletes the rows <paramref name="filter"/> (made with <see cref="TableClient.CreateQueryFilter(System.FormattableString)"/>) matches; returns how many this call deleted.</summary>
    public static async Task<int> DeleteAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentException.ThrowIfNullOrEmpty(filter);
        var deleted = 0;
        var batch = new List<TableTransactionAction>(MaxActionsPerTransaction);
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: PageSize, select: KeyColumns, cancellationToken: cancellationToken))
        {
            // A transaction holds one partition: a row of another one sends what is gathered first.
            if (batch.Count == MaxActionsPerTransaction || (batch.Count > 0 && batch[0].Entity.PartitionKey != row.PartitionKey))
                deleted += await SubmitAsync(table, batch, cancellationToken);
            batch.Add(new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All));
        }
        if (batch.Count > 0)
            deleted += await SubmitAsync(table, batch, cancellationToken);
        return deleted;
    }

    private static async Task<int> SubmitAsync(TableClient table, List<TableTransactionAction> batch, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        try
        {
            await table.SubmitTransactionAsync(batch, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404)
        {
            // An overlapping run deleted some of them first; the rest go on its or the next run.
            count = 0;
        }
        batch.Clear();
        return count;
    }
}
