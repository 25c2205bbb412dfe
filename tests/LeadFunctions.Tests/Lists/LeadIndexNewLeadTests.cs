using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Lists;

/// <summary>A new lead's first index entry: inserted without reading an anchor that cannot be there yet, and still version-checked.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadIndexNewLeadTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_new_lead_is_indexed_without_reading_its_anchor_first()
    {
        // Arrange
        var lists = new ListsHarness(azurite);
        const string email = "fresh@example.com";

        // Act
        var counted = await lists.Processors.Counter.CountAsync(() =>
            lists.Processor.ProcessAsync(Events.Form(email, lists.Now, FormIntent.ContentDownload), CancellationToken.None));

        // Assert: one read (the lead and its erasure tombstone, one range); the lead's and the index's transactions; the work row's delete.
        Assert.Equal((1, 2, 1), counted);
        Assert.Equal(2, lists.IndexRowsOf(email).Count);
        Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items);
    }

    [Fact]
    public async Task A_new_leads_work_that_comes_again_after_later_work_is_refused_by_the_anchor_and_changes_nothing()
    {
        // Arrange: the lead was indexed as new (event 1), then its score moved (event 2).
        var lists = new ListsHarness(azurite);
        var t1 = lists.Now;
        const string leadId = "lead-new-twice";
        var first = new LeadProjectionWork(leadId, "e1", t1, null, LeadIndexTests.Snapshot(LifecycleStage.Lead, t1, 15, t1, eventCount: 1), []);
        var later = LeadIndexTests.Snapshot(LifecycleStage.Lead, t1, 40, t1.AddHours(1), eventCount: 2);
        await lists.Projection.ProjectAsync(first, CancellationToken.None);
        await lists.Projection.ProjectAsync(new LeadProjectionWork(leadId, "e2", t1.AddHours(1), first.After, later, []), CancellationToken.None);
        var before = Rows(lists, leadId);

        // Act: the first work again (a redelivery of the lead's first event).
        await lists.Projection.ProjectAsync(first, CancellationToken.None);

        // Assert: the insert met the anchor, which is newer: the rows are event 2's, untouched.
        Assert.Equal(before, Rows(lists, leadId));
        Assert.InRange(Assert.Single((await lists.ListAsync(new LeadListRequest(Stage: "Lead"))).Items).Score, 39, 41); // event 2's 40, not event 1's 15
    }

    private static List<string> Rows(ListsHarness lists, string leadId) =>
        [.. lists.Index.Client.Query<TableEntity>(TableClient.CreateQueryFilter($"LeadId eq {leadId}")).Select(r => $"{r.PartitionKey}/{r.RowKey}@{r.ETag}").Order(StringComparer.Ordinal)];
}
