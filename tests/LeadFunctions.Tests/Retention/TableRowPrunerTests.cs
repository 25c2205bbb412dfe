using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Testing;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Retention;

/// <summary>The one pruner behind the funnel and nurture-results maintenance, against a table of its own in Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TableRowPrunerTests(AzuriteFixture azurite)
{
    private static readonly string Markers = TableClient.CreateQueryFilter($"PartitionKey ge {"a"} and PartitionKey lt {"c"} and RowKey ge {"m|"} and RowKey lt {"m}"}");

    [Fact]
    public async Task Matching_rows_are_deleted_in_transactions_of_at_most_a_hundred_rows_of_one_partition_and_the_rest_kept()
    {
        // Arrange: 250 markers in one partition, 30 in another, and rows the filter does not match in both.
        var counter = new CountingPolicy();
        var table = await TableAsync(counter);
        await SeedAsync(table, "a", "m|", 250);
        await SeedAsync(table, "b", "m|", 30);
        await SeedAsync(table, "a", "c|", 5);
        await SeedAsync(table, "b", "c|", 5);
        counter.Reset();

        // Act
        var deleted = await TableRowPruner.DeleteAsync(table, Markers, CancellationToken.None);
        var batches = counter.Batches;
        var again = await TableRowPruner.DeleteAsync(table, Markers, CancellationToken.None);

        // Assert: 100 + 100 + 50 in "a", 30 in "b"; nothing left to do the second time.
        Assert.Equal((280, 0), (deleted, again));
        Assert.Equal(4, batches);
        var left = table.Query<TableEntity>(select: ["PartitionKey", "RowKey"]).ToList();
        Assert.Equal(10, left.Count);
        Assert.All(left, r => Assert.StartsWith("c|", r.RowKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_batch_an_overlapping_run_emptied_first_counts_nothing_and_the_next_run_deletes_what_it_left()
    {
        // Arrange: 150 markers; just before the first transaction is sent, another run deletes one of its rows.
        var table = await TableAsync(new CountingPolicy());
        await SeedAsync(table, "a", "m|", 150);
        var overlapping = new DeleteBeforeFirstBatch(table, "a", Key("m|", 0));
        var racing = new TableClient(azurite.ConnectionString, table.Name, Options(overlapping));

        // Act
        var first = await TableRowPruner.DeleteAsync(racing, Markers, CancellationToken.None);
        var second = await TableRowPruner.DeleteAsync(table, Markers, CancellationToken.None);

        // Assert: the failed batch of 100 counted 0, the other 50 went; the next run finds the 99 that are left.
        Assert.True(overlapping.Fired);
        Assert.Equal((50, 99), (first, second));
        Assert.Empty(table.Query<TableEntity>(select: ["RowKey"]));
    }

    private async Task<TableClient> TableAsync(CountingPolicy counter)
    {
        var table = new TableClient(azurite.ConnectionString, AzuriteFixture.UniqueName("prune"), Options(counter));
        await table.CreateIfNotExistsAsync();
        return table;
    }

    private static TableClientOptions Options(HttpPipelinePolicy policy)
    {
        var options = new TableClientOptions();
        options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        return options;
    }

    private static string Key(string prefix, int i) => $"{prefix}{i:D5}";

    private static async Task SeedAsync(TableClient table, string partition, string prefix, int count)
    {
        foreach (var chunk in Enumerable.Range(0, count).Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, Key(prefix, i)))));
    }

    /// <summary>Plays the other run: deletes one row through its own client the first time a transaction is about to go.</summary>
    private sealed class DeleteBeforeFirstBatch(TableClient table, string partition, string rowKey) : HttpPipelineSynchronousPolicy
    {
        private int _fired;

        public bool Fired => _fired == 1;

        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && Interlocked.Exchange(ref _fired, 1) == 0)
                table.DeleteEntity(partition, rowKey);
        }
    }
}
