using LeadFunctions.Tests.Support;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Nurture.Results;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Privacy;
using LeadFunctions.SalesAlerts;
using LeadFunctions.Tests.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace LeadFunctions.Tests.Privacy;

/// <summary>
/// One person's whole journey through the real pipeline (anonymous visits, a demo form, the sales alert, a rejection back to MQL,
/// a nurture e-mail, its open and click, a delivery report, a poisoned message), and what every table, queue and outbox file then
/// holds about them.
/// </summary>
internal sealed class PrivacyJourney : IAsyncDisposable
{
    public const string Email = "dora.demo@example.com";
    public const string VisitorId = "visitor-dora-1";

    private PrivacyJourney(NurtureHarness harness) => Harness = harness;

    public NurtureHarness Harness { get; }
    public string LeadId { get; } = LeadIdOf(Email);
    public string VisitorKey { get; } = VisitorKeyOf(VisitorId);
    public LeadEvent Form { get; private set; } = null!;
    public LeadEventProcessor Processor => Harness.Services.GetRequiredService<LeadEventProcessor>();
    public Azure.Storage.Queues.QueueClient Poison { get; private set; } = null!;

    /// <summary>The one place tests derive ids from an address or visitor id (the derivation is being replaced by a keyed one).</summary>
    public static string LeadIdOf(string email) => TestLeadIds.LeadIdFor(email);

    public static string VisitorKeyOf(string visitorId) => TestLeadIds.Identity.VisitorKeyFor(visitorId);

    public static async Task<PrivacyJourney> RunAsync(Support.AzuriteFixture azurite)
    {
        var journey = new PrivacyJourney(new NurtureHarness(azurite, realLeads: true));
        await journey.WalkAsync();
        return journey;
    }

    private async Task WalkAsync()
    {
        var h = Harness;
        Poison = h.Services.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>().GetQueueClient(h.Queue.Name + "-poison");
        await Poison.CreateIfNotExistsAsync();

        // Anonymous visits, kept under the visitor until the form names them.
        await Processor.ProcessAsync(Event(LeadEventTypes.PageView, null, VisitorId, new() { [LeadEventProperties.Url] = "https://contoso.example/pricing" }), CancellationToken.None);
        h.Time.Advance(TimeSpan.FromMinutes(5));
        await Processor.ProcessAsync(Event(LeadEventTypes.PageView, null, VisitorId, new() { [LeadEventProperties.Url] = "https://contoso.example/features" }), CancellationToken.None);

        // The demo form: SQL at once, the visitor stitched to the lead.
        h.Time.Advance(TimeSpan.FromMinutes(5));
        Form = new LeadEvent
        {
            EventId = "form-dora-1",
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = h.Time.GetUtcNow(),
            Email = Email,
            VisitorId = VisitorId,
            FormId = "demo",
            Intent = FormIntent.DemoRequest,
            Profile = new Dictionary<string, string> { ["firstName"] = "Dora", ["lastName"] = "Demo", ["company"] = "Demo Works", ["country"] = "FR" },
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, h.Time.GetUtcNow(), "demo form")],
        };
        await Processor.ProcessAsync(Form, CancellationToken.None);

        // The alert, and the rep's rejection back to MQL through the signed link.
        await h.RunAsync();
        var alert = (await h.MessagesAsync()).Single(m => (m.Subject ?? "").StartsWith("New SQL", StringComparison.Ordinal));
        h.Time.Advance(TimeSpan.FromHours(1));
        var reject = ActivatorUtilities.CreateInstance<SalesDecision>(h.Services);
        await reject.Reject(Post("/api/sales/reject", SalesAlertTests.TokenOf(alert.TextBody, "sales/reject"), new() { ["reason"] = "Not yet", ["toStage"] = "mql" }), CancellationToken.None);
        await DrainAsync();

        // Nurture: the first e-mail, opened and clicked.
        await h.RunAsync();
        var nurture = (await h.MessagesAsync()).Single(m => m.Subject == "First for Dora");
        h.Time.Advance(TimeSpan.FromMinutes(30));
        Assert.True(await h.Tracker.RecordOpenAsync(SalesAlertTests.TokenOf(nurture.HtmlBody, "track/open"), "GET", "Mozilla/5.0", CancellationToken.None));
        Assert.NotNull(await h.Tracker.RecordClickAsync(SalesAlertTests.TokenOf(nurture.HtmlBody, "track/click"), "GET", "Mozilla/5.0", CancellationToken.None));
        await DrainAsync();

        // A delivery report for the nurture e-mail.
        var tables = h.Services.GetRequiredService<NurtureTables>();
        var outbox = tables.State.Query<OutboxEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {LeadId} and RowKey ge {OutboxEntity.NurturePrefix}")).First();
        var recorder = new DeliveryReportRecorder(tables, h.Services.GetRequiredService<NurtureStore>(), h.Services.GetRequiredService<LeadIdentity>(), h.Time, NullLogger<DeliveryReportRecorder>.Instance,
            h.Services.GetRequiredService<INurtureResults>());
        Assert.Equal(DeliveryReportResult.Counted, await recorder.RecordAsync(
            new DeliveryReport("report-1", MessageIdentity.RequestId(outbox.MessageId).ToString("D"), Email, "Delivered", "250 OK", h.Time.GetUtcNow()), CancellationToken.None));

        // A message that failed and sits in the poison queue, naming the person.
        await Poison.SendMessageAsync(LeadEventJson.Serialize(Event(LeadEventTypes.ContentDownload, Email, null, [])));
        h.Time.Advance(TimeSpan.FromMinutes(1));
    }

    public LeadEvent Event(string type, string? email, string? visitorId, Dictionary<string, string> properties) => new()
    {
        EventId = "it-" + Guid.NewGuid().ToString("N"),
        Type = type,
        OccurredAt = Harness.Time.GetUtcNow(),
        Email = email,
        VisitorId = visitorId,
        Properties = properties,
    };

    /// <summary>What the queue trigger does: each message processed, then deleted.</summary>
    public async Task DrainAsync()
    {
        for (var guard = 0; guard < 100; guard++)
        {
            var received = (await Harness.Queue.ReceiveMessagesAsync(32)).Value;
            if (received.Length == 0)
                return;
            foreach (var message in received)
            {
                await Processor.ProcessMessageAsync(message.Body.ToString(), CancellationToken.None);
                await Harness.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    /// <summary>
    /// Every entity in every table the app uses whose keys or any property value mention the lead or its visitor, by an independent
    /// scan (not the exporter's own listing).
    /// </summary>
    public List<(string Table, string PartitionKey, string RowKey)> Mentions()
    {
        var service = Harness.Services.GetRequiredService<TableServiceClient>();
        var names = new HashSet<string>(StringComparer.Ordinal)
        {
            Harness.Services.GetRequiredService<IOptions<StorageOptions>>().Value.LeadsTable,
            Harness.Services.GetRequiredService<IOptions<NurtureOptions>>().Value.DueTable,
            Harness.Services.GetRequiredService<IOptions<NurtureOptions>>().Value.StateTable,
        };
        foreach (var required in Harness.Services.GetServices<RequiredTable>())
            names.Add(required.Name(Harness.Services));
        var found = new List<(string, string, string)>();
        foreach (var name in names)
        {
            foreach (var row in service.GetTableClient(name).Query<TableEntity>())
            {
                var texts = row.Select(p => p.Value?.ToString() ?? "").Append(row.PartitionKey).Append(row.RowKey);
                if (texts.Any(t => t.Contains(LeadId, StringComparison.Ordinal) || t.Contains(VisitorKey, StringComparison.Ordinal)
                    || t.Contains(Email, StringComparison.OrdinalIgnoreCase) || t.Contains(VisitorId, StringComparison.Ordinal)))
                    found.Add((name, row.PartitionKey, row.RowKey));
            }
        }
        return found;
    }

    /// <summary>Queue messages (live and poison) and outbox files that mention the person.</summary>
    public async Task<List<string>> MessagesAndFilesMentioningAsync()
    {
        var found = new List<string>();
        foreach (var queue in new[] { Harness.Queue, Poison })
        {
            foreach (var message in (await queue.PeekMessagesAsync(32)).Value)
            {
                var text = message.Body.ToString();
                if (text.Contains(LeadId, StringComparison.Ordinal) || text.Contains(Email, StringComparison.OrdinalIgnoreCase) || text.Contains(VisitorId, StringComparison.Ordinal))
                    found.Add($"{queue.Name}:{message.MessageId}");
            }
        }
        foreach (var file in Harness.EmlFiles())
        {
            var text = await File.ReadAllTextAsync(file);
            if (Path.GetFileName(file).Contains(LeadId, StringComparison.Ordinal) || text.Contains(LeadId, StringComparison.Ordinal)
                || text.Contains(Email, StringComparison.OrdinalIgnoreCase) || text.Contains("Dora", StringComparison.Ordinal))
                found.Add(Path.GetFileName(file));
        }
        return found;
    }

    public async Task<IActionResult> ExportAsync() =>
        await ActivatorUtilities.CreateInstance<ExportLead>(Harness.Services).Run(Request("GET", $"/api/leads/{LeadId}/export"), LeadId, CancellationToken.None);

    public async Task<IActionResult> EraseAsync() =>
        await ActivatorUtilities.CreateInstance<EraseLead>(Harness.Services).Run(Request("DELETE", $"/api/leads/{LeadId}"), LeadId, CancellationToken.None);

    public static JsonObject Json(IActionResult result) =>
        JsonNode.Parse(Assert.IsType<ContentResult>(result).Content!)!.AsObject();

    private static HttpRequest Request(string method, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        return context.Request;
    }

    public static HttpRequest Post(string path, string token, Dictionary<string, StringValues> form)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.QueryString = QueryString.Create("t", token);
        context.Request.ContentType = "application/x-www-form-urlencoded";
        context.Request.Form = new FormCollection(form);
        return context.Request;
    }

    public ValueTask DisposeAsync() => Harness.DisposeAsync();
}
