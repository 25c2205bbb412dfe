using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Nurture.Results;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static LeadFunctions.Tests.Email.DeliveryReports.DeliveryReportPayloads;

namespace LeadFunctions.Tests.Email.DeliveryReports;

/// <summary>What the webhook logs about a report names ids, never the recipient or the remote server's diagnostic.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DeliveryReportLoggingTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Logs_of_counted_ignored_and_refused_reports_carry_ids_and_never_the_address()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var email = AzuriteFixture.UniqueName("quiet") + "@example.com";
        var lead = NurtureLeads.New(email, harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        await harness.RunAsync();
        var state = harness.Services.GetRequiredService<NurtureTables>();
        var filter = Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {lead.LeadId} and RowKey ge {OutboxEntity.Prefix} and RowKey lt {"outbox."}");
        var sentId = (await state.State.QueryAsync<OutboxEntity>(filter).FirstAsync()).MessageId;
        var recorderLog = new ListLogger<DeliveryReportRecorder>();
        var webhookLog = new ListLogger<DeliveryReportWebhook>();
        var recorder = new DeliveryReportRecorder(state, harness.Services.GetRequiredService<NurtureStore>(), TestLeadIds.Identity, harness.Time, recorderLog, harness.Services.GetRequiredService<INurtureResults>());
        var webhook = new DeliveryReportWebhook(Options.Create(new DeliveryReportOptions { WebhookSecret = new string('s', 40) }), recorder, webhookLog);
        var stranger = AzuriteFixture.UniqueName("stranger") + "@example.com";

        // Act
        await webhook.HandleAsync(Request("?secret=" + new string('s', 40),
            Report("evt-1", MessageIdentity.RequestId(sentId), email, "Bounced", $"550 5.1.1 <{email}>: no such user"),
            Report("evt-2", Guid.NewGuid(), stranger, "Failed", $"<{stranger}> unknown")), CancellationToken.None);
        await webhook.HandleAsync(Request("?secret=wrong", Report("evt-3", Guid.NewGuid(), email, "Bounced")), CancellationToken.None);

        // Assert
        var lines = recorderLog.Entries.Select(e => e.Message).Concat(webhookLog.Entries.Select(e => e.Message)).ToList();
        Assert.Contains(lines, l => l.Contains(lead.LeadId, StringComparison.Ordinal) && l.Contains("evt-1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("evt-2", StringComparison.Ordinal));
        Assert.Contains(webhookLog.Entries, e => e.Message.Contains("refused", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains('@', StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("no such user", StringComparison.Ordinal));
    }

    private static DefaultHttpContext Context(string query, System.Text.Json.Nodes.JsonObject[] events)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.QueryString = new QueryString(query);
        var json = new System.Text.Json.Nodes.JsonArray(events.Select(e => (System.Text.Json.Nodes.JsonNode)e.DeepClone()).ToArray()).ToJsonString();
        context.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        return context;
    }

    private static HttpRequest Request(string query, params System.Text.Json.Nodes.JsonObject[] events) => Context(query, events).Request;
}
