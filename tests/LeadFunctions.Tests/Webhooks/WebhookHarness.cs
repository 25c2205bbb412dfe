using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using LeadFunctions.Admin;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Infrastructure.Webhooks;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Webhooks;

/// <summary>A subscription of a test: its id, the receiver path it posts to, its events.</summary>
internal sealed record TestSubscription(string Id, string Path, string[] Events, bool IncludeProfile = false);

/// <summary>
/// The pipeline as the app wires it (storage, the real rescoring processor, nurture, privacy, webhooks) over fresh tables in
/// Azurite, a <see cref="FakeTimeProvider"/>, and a subscriptions file pointing at a real local <see cref="WebhookReceiver"/>.
/// It runs as Development, where a plain-http receiver on 127.0.0.1 is accepted.
/// </summary>
internal sealed class WebhookHarness : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lf-webhooks-" + Guid.NewGuid().ToString("N"));

    private WebhookHarness(IHost host, string root, WebhookReceiver receiver, FakeTimeProvider time, IReadOnlyDictionary<string, string> secrets)
    {
        _host = host;
        _root = root;
        Receiver = receiver;
        Time = time;
        Secrets = secrets;
    }

    public WebhookReceiver Receiver { get; }
    public FakeTimeProvider Time { get; }
    public IReadOnlyDictionary<string, string> Secrets { get; }
    public IServiceProvider Services => _host.Services;
    public LeadEventProcessor Processor => Services.GetRequiredService<LeadEventProcessor>();
    public IWebhookDeliverer Deliverer => Services.GetRequiredService<IWebhookDeliverer>();
    public TableClient Deliveries => Services.GetRequiredService<WebhookTable>().Client;

    public static async Task<WebhookHarness> StartAsync(AzuriteFixture azurite, IReadOnlyList<TestSubscription> subscriptions, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var receiver = await WebhookReceiver.StartAsync();
        var root = Path.Combine(Path.GetTempPath(), "lf-webhooks-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var secrets = subscriptions.ToDictionary(s => s.Id, _ => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), StringComparer.Ordinal);
        var file = Path.Combine(root, "webhooks.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
        {
            version = "test-1",
            subscriptions = subscriptions.Select(s => new { id = s.Id, url = receiver.Url(s.Path).ToString(), events = s.Events, secretSetting = $"Webhooks__Secrets__{s.Id}", includeProfile = s.IncludeProfile }),
        }));

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        var values = new Dictionary<string, string?>
        {
            [StorageOptions.ConnectionName] = azurite.ConnectionString,
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
            ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
            ["SalesAlerts:EscalationAddress"] = NurtureHarness.EscalationAddress,
            ["Tracking:SigningKey"] = NurtureHarness.SigningKey,
            ["Tracking:BaseUrl"] = "https://leads.contoso.example",
            [TestLeadIds.Setting] = TestLeadIds.Key,
            ["Email:Sender"] = "Folder",
            ["Email:Folder:Path"] = Path.Combine(root, "outbox"),
            ["Email:FromAddress"] = "noreply@contoso.example",
            ["Webhooks:SubscriptionsFile"] = file,
            ["Webhooks:DeliveriesTable"] = AzuriteFixture.UniqueName("hooks"),
            ["Webhooks:TimeoutSeconds"] = "2",
        };
        foreach (var (id, secret) in secrets)
            values[$"Webhooks:Secrets:{id}"] = secret;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            values[key] = value;

        var host = Build(values, time, Environments.Development);
        await host.StartAsync();
        var queue = host.Services.GetRequiredService<LeadEventsQueue>().Client;
        await queue.CreateIfNotExistsAsync();
        return new WebhookHarness(host, root, receiver, time, secrets);
    }

    /// <summary>The host the app would build from these settings (used by the start-up tests on their own too).</summary>
    public static IHost Build(IReadOnlyDictionary<string, string?> settings, TimeProvider time, string environment)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory, EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(time);
        builder.Services.AddLeadStorage();
        builder.Services.AddLeadScoring();
        builder.Services.AddEmailDelivery();
        builder.Services.AddNurture();
        builder.Services.AddPrivacy();
        builder.Services.AddWebhooks();
        return builder.Build();
    }

    /// <summary>A demo request with consent: the lead goes straight to SQL. Returns the lead id.</summary>
    public async Task<string> DemoRequestAsync(string email)
    {
        await Processor.ProcessAsync(new LeadEvent
        {
            EventId = "form-" + Guid.NewGuid().ToString("N")[..8],
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = Time.GetUtcNow(),
            Email = email,
            FormId = "demo",
            Intent = FormIntent.DemoRequest,
            Profile = new Dictionary<string, string> { ["firstName"] = "Dora", ["lastName"] = "Demo", ["company"] = "Demo Ltd" },
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, Time.GetUtcNow(), "demo form")],
        }, CancellationToken.None);
        return TestLeadIds.LeadIdFor(email);
    }

    public Task<WebhookRunResult> RunAsync() => Deliverer.RunOnceAsync(CancellationToken.None);

    /// <summary>Moves the clock past the longest back-off, so every delivery waiting for a retry is due.</summary>
    public void AdvancePastBackOff() => Time.Advance(TimeSpan.FromSeconds(Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebhookOptions>>().Value.MaxRetryDelaySeconds + 1));

    public async Task<JsonDocument> ListAsync(string status)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.QueryString = QueryString.Create("status", status);
        var result = await ActivatorUtilities.CreateInstance<ListWebhookDeliveries>(Services).Run(context.Request, CancellationToken.None);
        return JsonDocument.Parse(JsonSerializer.Serialize(Assert.IsType<OkObjectResult>(result).Value, JsonSerializerOptions.Web));
    }

    public async Task<IActionResult> RetryAsync(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        return await ActivatorUtilities.CreateInstance<RetryWebhookDeliveries>(Services).Run(context.Request, CancellationToken.None);
    }

    /// <summary>Every row of the deliveries table that names the lead (its records, and the due and dead rows).</summary>
    public async Task<List<TableEntity>> RowsOfAsync(string leadId)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Deliveries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadId} or LeadId eq {leadId}")))
            rows.Add(row);
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await Receiver.DisposeAsync();
        ScratchFolder.Delete(_root);
    }
}
