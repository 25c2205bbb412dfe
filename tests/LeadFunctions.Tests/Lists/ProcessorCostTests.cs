using LeadFunctions.Domain.Events;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;
using Xunit.Abstractions;

namespace LeadFunctions.Tests.Lists;

/// <summary>Storage requests per processed event, counted by an Azure.Core pipeline policy on the table client.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProcessorCostTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int EventsMeasured = 20;

    [Fact]
    public async Task An_event_for_an_existing_lead_costs_one_read_and_one_transaction_without_projections()
    {
        var factory = new ProcessorFactory(azurite);
        var (processor, counter, time) = (factory.New(), factory.Counter, factory.Time);
        await processor.ProcessAsync(Events.Form("cost@example.com", time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        counter.Reset();

        for (var i = 0; i < EventsMeasured; i++)
            await processor.ProcessAsync(Events.PageView(time.GetUtcNow(), $"https://example.com/blog/{i}", "cost@example.com"), CancellationToken.None);

        output.WriteLine($"no projection: {(double)counter.Total / EventsMeasured:0.00} requests per event ({counter.Reads} reads, {counter.Batches} transactions, {counter.Others} other)");
        Assert.Equal(2 * EventsMeasured, counter.Total);
    }

    [Fact]
    public async Task With_a_projection_an_event_that_changes_only_the_score_adds_no_request()
    {
        var factory = new ProcessorFactory(azurite, new RecordingProjection());
        var (processor, counter, time) = (factory.New(), factory.Counter, factory.Time);
        await processor.ProcessAsync(Events.Form("cost@example.com", time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        counter.Reset();

        for (var i = 0; i < EventsMeasured; i++)
            await processor.ProcessAsync(Events.PageView(time.GetUtcNow(), $"https://example.com/blog/{i}", "cost@example.com"), CancellationToken.None);

        output.WriteLine($"projection hook (projection itself free): {(double)counter.Total / EventsMeasured:0.00} requests per event ({counter.Reads} reads, {counter.Batches} transactions, {counter.Others} other)");
        // The work goes in the lead's latest-snapshot row, in the same transaction, and is not deleted after it ran.
        Assert.Equal((long)EventsMeasured, counter.Reads);
        Assert.Equal(2 * EventsMeasured, counter.Total);
    }

    [Fact]
    public async Task With_a_projection_a_scoring_event_for_a_lead_this_instance_wrote_last_costs_its_transaction_alone()
    {
        var factory = new ProcessorFactory(azurite, new RecordingProjection());
        var (processor, counter, time) = (factory.New(ProcessorFactory.Cache()), factory.Counter, factory.Time);
        await processor.ProcessAsync(Events.Form("cost@example.com", time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        counter.Reset();

        for (var i = 0; i < EventsMeasured; i++)
            await processor.ProcessAsync(Events.PageView(time.GetUtcNow(), $"https://example.com/blog/{i}", "cost@example.com"), CancellationToken.None);

        output.WriteLine($"projection hook, lead remembered: {(double)counter.Total / EventsMeasured:0.00} requests per event ({counter.Reads} reads, {counter.Batches} transactions, {counter.Others} other)");
        Assert.Equal((0L, (long)EventsMeasured, 0L), (counter.Reads, counter.Batches, counter.Others));
    }
}
