using System.Text.Json.Nodes;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Privacy;

[Collection(AzuriteCollection.Name)]
public sealed class ExportAndErasureTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_export_holds_every_row_any_table_keeps_about_the_lead_grouped_by_kind()
    {
        // Arrange: the whole journey, and an independent scan of every table for anything mentioning the person.
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        var mentions = journey.Mentions();

        // Act
        var export = PrivacyJourney.Json(await journey.ExportAsync());

        // Assert: nothing the scan found is missing from the export, and each kind of the journey has its group.
        var exported = export["rows"]!.AsObject()
            .SelectMany(group => group.Value!.AsArray().Select(r => (r!["table"]!.GetValue<string>(), r["partitionKey"]!.GetValue<string>(), r["rowKey"]!.GetValue<string>())))
            .ToHashSet();
        Assert.All(mentions, m => Assert.Contains(m, exported));
        foreach (var kind in new[] { "lead", "appliedEvents", "ledger", "history", "visitors", "outbox", "dueItems", "deliveryReports", "sla", "emails", "leadIndex", "projectionWork" })
            Assert.True(export["rows"]![kind] is JsonArray { Count: > 0 }, $"no {kind} rows in the export");
        Assert.Equal("Dora", export["profile"]!["firstName"]!.GetValue<string>());
        Assert.Equal(PrivacyJourney.Email, export["email"]!.GetValue<string>());
        Assert.Contains(journey.VisitorKey, export["linkedVisitors"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.NotEmpty(export["emailsSent"]!.AsArray());
        Assert.Equal(journey.Harness.EmlFiles().Length, export["emailFiles"]!.AsArray().Count);
    }

    [Fact]
    public async Task Erasure_leaves_only_the_tombstone_the_suppression_and_id_only_index_markers_and_a_replayed_message_creates_nothing()
    {
        // Arrange
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        Assert.NotEmpty(await journey.MessagesAndFilesMentioningAsync());

        // Act
        var erased = Assert.IsType<OkObjectResult>(await journey.EraseAsync());

        // Assert: in every table, queue and outbox file, nothing of the person but the two keyed rows and the index's erasure
        // markers (lead id and time, against projection work in flight), each with its record for removal.
        var result = Assert.IsType<ErasureResult>(erased.Value);
        Assert.True(result.RowsDeleted > 20, $"only {result.RowsDeleted} rows deleted");
        Assert.Equal(1, result.PoisonMessagesDeleted);
        var expected = ExpectedRemains(journey);
        Assert.Equal(expected, journey.Mentions().Order().ToList());
        Assert.Empty(await journey.MessagesAndFilesMentioningAsync());
        Assert.Empty(journey.Harness.EmlFiles());

        // Act 2: the old form submission, a decision and an open are replayed through the queue.
        await journey.Harness.Queue.SendMessageAsync(LeadEventJson.Serialize(journey.Form));
        await journey.Harness.Queue.SendMessageAsync(LeadEventJson.Serialize(new LeadEvent
        {
            EventId = "late-open",
            Type = LeadEventTypes.EmailOpen,
            OccurredAt = journey.Harness.Time.GetUtcNow(),
            LeadId = journey.LeadId,
        }));
        await journey.DrainAsync();
        var outcome = await journey.Processor.ProcessAsync(journey.Form, CancellationToken.None);

        // Assert 2: no lead, no visitor link, nothing scheduled; the timer sends nothing.
        Assert.Equal(LeadEventOutcome.ErasedLead, outcome.Outcome);
        Assert.Equal(expected, journey.Mentions().Order().ToList());
        await journey.Harness.RunAsync();
        Assert.Empty(journey.Harness.EmlFiles());
    }

    [Fact]
    public async Task Erasing_again_is_harmless_and_an_unknown_lead_is_not_found()
    {
        // Arrange
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        await journey.EraseAsync();

        // Act
        var again = Assert.IsType<OkObjectResult>(await journey.EraseAsync());
        var export = PrivacyJourney.Json(await journey.ExportAsync());
        var unknown = await ActivatorUtilities.CreateInstance<LeadFunctions.Privacy.EraseLead>(journey.Harness.Services)
            .Run(new Microsoft.AspNetCore.Http.DefaultHttpContext().Request, PrivacyJourney.LeadIdOf("nobody@example.com"), CancellationToken.None);
        var malformed = await ActivatorUtilities.CreateInstance<LeadFunctions.Privacy.EraseLead>(journey.Harness.Services)
            .Run(new Microsoft.AspNetCore.Http.DefaultHttpContext().Request, "not-a-lead", CancellationToken.None);

        // Assert: the second run deletes nothing more, and the export of an erased lead is its tombstone and suppression only.
        Assert.Equal(0, Assert.IsType<ErasureResult>(again.Value).RowsDeleted);
        Assert.Equal(["indexErasureMarkers", "suppression", "tombstone"], export["rows"]!.AsObject().Select(g => g.Key).Order().ToArray());
        Assert.All(export["rows"]!["indexErasureMarkers"]!.AsArray(), r => Assert.DoesNotContain("Dora", r!.ToJsonString(), StringComparison.Ordinal));
        Assert.Null(export["email"]);
        Assert.IsType<NotFoundResult>(unknown);
        Assert.Equal(400, Assert.IsType<BadRequestObjectResult>(malformed).StatusCode);
        Assert.Equal(expected: ExpectedRemains(journey), actual: journey.Mentions().Order().ToList());
    }

    [Fact]
    public async Task A_fresh_form_submission_after_erasure_creates_a_new_lead_but_an_old_one_does_not()
    {
        // Arrange
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        var erasure = (ErasureResult)Assert.IsType<OkObjectResult>(await journey.EraseAsync()).Value!;
        journey.Harness.Time.Advance(TimeSpan.FromDays(1));
        var replayed = journey.Form with { EventId = "form-dora-0", OccurredAt = journey.Harness.Time.GetUtcNow().AddDays(-2) };
        var fresh = journey.Form with { EventId = "form-dora-2", OccurredAt = journey.Harness.Time.GetUtcNow(), VisitorId = null };

        // Act
        var old = await journey.Processor.ProcessAsync(replayed, CancellationToken.None);
        var created = await journey.Processor.ProcessAsync(fresh, CancellationToken.None);

        // Assert
        Assert.Equal(LeadEventOutcome.ErasedLead, old.Outcome);
        Assert.Equal(LeadEventOutcome.Applied, created.Outcome);
        var lead = await journey.Harness.Services.GetRequiredService<ILeadDirectory>().FindAsync(journey.LeadId, CancellationToken.None);
        Assert.NotNull(lead);
        Assert.True(lead.Lead.CreatedAt > erasure.ErasedAt);
        Assert.Single(lead.History);
    }

    private static List<(string Table, string PartitionKey, string RowKey)> ExpectedRemains(PrivacyJourney journey)
    {
        var storage = journey.Harness.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LeadFunctions.Infrastructure.Storage.StorageOptions>>().Value;
        var nurture = journey.Harness.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LeadFunctions.Infrastructure.Nurture.NurtureOptions>>().Value;
        var index = journey.Harness.Services.GetRequiredService<LeadFunctions.Infrastructure.Lists.LeadIndexTable>().Client;
        // A marker in every stage partition and every stage of the owner's partitions, each listed by one record under the erasure time.
        var records = index.Query<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {"!erasures"}"))
            .Select(r => (index.Name, r.PartitionKey, r.RowKey)).ToList();
        var marked = records.Select(r => r.RowKey[(r.RowKey.IndexOf($"|{journey.LeadId}|", StringComparison.Ordinal) + journey.LeadId.Length + 2)..]).ToList();
        var stages = Enum.GetValues<LifecycleStage>().Select(LeadFunctions.Infrastructure.Lists.LeadListService.Name).ToList();
        Assert.Equal(stages.Select(s => "stage|" + s).Order(), marked.Where(p => p.StartsWith("stage|", StringComparison.Ordinal)).Order());
        Assert.All(marked.Where(p => !p.StartsWith("stage|", StringComparison.Ordinal)).GroupBy(p => p[..p.LastIndexOf('|')]),
            owner => Assert.Equal(stages.Order(), owner.Select(p => p[(p.LastIndexOf('|') + 1)..]).Order()));
        var markers = marked.Select(p => (index.Name, p, "l|" + journey.LeadId)).ToList();
        return [.. new[] { (storage.LeadsTable, journey.LeadId, "!erased"), (nurture.StateTable, journey.LeadId, "suppression") }.Concat(markers).Concat(records).Order()];
    }
}
