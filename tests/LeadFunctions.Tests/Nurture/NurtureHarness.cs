using System.Collections.Concurrent;
using Azure.Storage.Queues;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Stages;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// The nurture feature as the app wires it (AddLeadStorage + AddEmailDelivery + AddNurture) over fresh tables and a fresh queue
/// in Azurite, the real folder sender writing .eml files, and a <see cref="FakeTimeProvider"/>.
/// </summary>
internal sealed class NurtureHarness : IAsyncDisposable
{
    public const string ThreeStepProgramme = """
        {
          "version": "it-1",
          "enrolOnMql": "trio",
          "programmes": [
            { "id": "trio", "version": "1", "steps": [
              { "id": "first", "delay": "0", "after": "enrolment", "subject": "First for {{ lead.firstName }}", "template": "nurture-welcome" },
              { "id": "second", "delay": "2d", "after": "previous", "subject": "Second for {{ lead.firstName }}", "template": "nurture-case-study" },
              { "id": "third", "delay": "3d", "after": "previous", "subject": "Third for {{ lead.firstName }}", "template": "nurture-talk" }
            ] }
          ]
        }
        """;

    /// <summary>A fresh random key, as a real deployment has: the harness runs as Production, where weak keys are refused.</summary>
    public static readonly string SigningKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    public const string EscalationAddress = "boss@sales.example.com";
    public const string ReplyToAddress = "hello@contoso.example";

    private readonly IHost _host;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lf-nurture-" + Guid.NewGuid().ToString("N"));

    public NurtureHarness(AzuriteFixture azurite, int maxPerWeek = 3, string programme = ThreeStepProgramme, Func<IEmailSender, IEmailSender>? wrapSender = null, bool realLeads = false,
        IReadOnlyDictionary<string, string?>? settings = null, string environment = "Production", Action<IServiceCollection>? services = null)
    {
        Directory.CreateDirectory(_root);
        var programmesFile = Path.Combine(_root, "nurture.json");
        File.WriteAllText(programmesFile, programme);
        OutboxFolder = Path.Combine(_root, "outbox");

        var queueName = AzuriteFixture.UniqueName("nevents");
        Queue = azurite.Queue(queueName);
        Queue.CreateIfNotExists();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory, EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageOptions.ConnectionName] = azurite.ConnectionString,
            ["Nurture:DueTable"] = AzuriteFixture.UniqueName("due"),
            ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
            ["Nurture:ProgrammesFile"] = programmesFile,
            ["Nurture:MaxMarketingEmailsPerWeek"] = maxPerWeek.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Nurture:FromAddress"] = "news@contoso.example",
            ["Nurture:ClaimLeaseSeconds"] = "300",
            ["SalesAlerts:EscalationAddress"] = EscalationAddress,
            ["SalesAlerts:FromAddress"] = "alerts@contoso.example",
            ["Tracking:SigningKey"] = SigningKey,
            [TestLeadIds.Setting] = TestLeadIds.Key,
            ["Tracking:BaseUrl"] = "https://leads.contoso.example",
            ["Email:Sender"] = "Folder",
            ["Email:Folder:Path"] = OutboxFolder,
            ["Email:FromAddress"] = "noreply@contoso.example",
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            ["Lists:IndexTable"] = AzuriteFixture.UniqueName("index"),
            ["NurtureResults:CountersTable"] = AzuriteFixture.UniqueName("results"),
            ["Nurture:ReplyToAddress"] = ReplyToAddress,
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<TimeProvider>(Time);
        builder.Services.AddSingleton(new LeadEventsQueue(Queue));
        if (!realLeads)
        {
            builder.Services.AddSingleton<ILeadDirectory>(Leads);
            builder.Services.AddSingleton<ILeadEventArchive>(Leads);
        }
        builder.Services.AddLeadStorage();
        if (realLeads)
        {
            builder.Services.AddLeadScoring();
            builder.Services.AddLeadLists(); // the lead index: its rows name the person, so export and erasure must cover them
        }
        builder.Services.AddEmailDelivery();
        if (wrapSender is not null)
        {
            builder.Services.AddSingleton(sp => wrapSender(new FolderEmailSender(OutboxFolder, Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<FolderEmailSender>.Instance)));
        }
        builder.Services.AddNurture();
        builder.Services.AddPrivacy();
        builder.Services.AddStageChanges();
        services?.Invoke(builder.Services);
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
    public StubLeadDirectory Leads { get; } = new();
    public QueueClient Queue { get; }
    public string OutboxFolder { get; }
    public IServiceProvider Services => _host.Services;

    public INurtureRunner Runner => Services.GetRequiredService<INurtureRunner>();
    public IStageChangeObserver Observer => Services.GetServices<IStageChangeObserver>().OfType<NurtureStageObserver>().Single();
    public IEngagementTracker Tracker => Services.GetRequiredService<IEngagementTracker>();

    /// <summary>Stores the lead as the directory will return it and tells the observer about the change, as the processor does.</summary>
    public async Task MoveAsync(LeadSummary lead, LifecycleStage to)
    {
        var at = Time.GetUtcNow();
        var change = new StageChange(at, lead.Stage, to, "test", "test", "it-1", null);
        var moved = lead with { Stage = to, StageChangedAt = at };
        await Observer.OnStageChangingAsync(moved, change, CancellationToken.None);
        Leads.Put(moved);
    }

    public Task<NurtureRunResult> RunAsync() => Runner.RunOnceAsync(CancellationToken.None);

    public string[] EmlFiles() => Directory.Exists(OutboxFolder) ? Directory.GetFiles(OutboxFolder, "*.eml") : [];

    public async Task<List<MimeMessage>> MessagesAsync()
    {
        var messages = new List<MimeMessage>();
        foreach (var file in EmlFiles().Order(StringComparer.Ordinal))
            messages.Add(await MimeMessage.LoadAsync(file));
        return messages;
    }

    public async Task<List<LeadEvent>> QueuedEventsAsync()
    {
        var events = new List<LeadEvent>();
        foreach (var message in (await Queue.PeekMessagesAsync(32)).Value)
            events.Add(LeadEventJson.Deserialize(message.Body.ToString()));
        return events;
    }

    /// <summary>The queued events of one type: an alert also queues the routing assignment of its rep.</summary>
    public async Task<List<LeadEvent>> QueuedEventsAsync(string type) => [.. (await QueuedEventsAsync()).Where(e => e.Type == type)];

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        ScratchFolder.Delete(_root);
    }
}

/// <summary>
/// Holds leads in memory for tests that do not run the scoring processor; reads go through the same <see cref="ILeadDirectory"/>
/// contract the table-backed directory implements.
/// </summary>
internal sealed class StubLeadDirectory : ILeadDirectory, ILeadEventArchive
{
    private readonly ConcurrentDictionary<string, LeadDetails> _leads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), LeadEvent> _events = new();

    /// <summary>Keeps an event as applied to the lead, as the applied-event row does.</summary>
    public void PutEvent(string leadId, LeadEvent leadEvent) => _events[(leadId, leadEvent.EventId)] = leadEvent;

    public Task<LeadEvent?> FindAppliedAsync(string leadId, string eventId, CancellationToken cancellationToken) =>
        Task.FromResult(_events.GetValueOrDefault((leadId, eventId)));

    public void Put(LeadSummary lead, IReadOnlyList<ScoreLedgerEntry>? ledger = null) =>
        _leads[lead.LeadId] = new LeadDetails(lead, ledger ?? _leads.GetValueOrDefault(lead.LeadId)?.Ledger ?? [], []);

    public LeadSummary Get(string leadId) => _leads[leadId].Lead;

    public Task<LeadDetails?> FindAsync(string leadId, CancellationToken cancellationToken) =>
        Task.FromResult(_leads.GetValueOrDefault(leadId));
}

/// <summary>Builds leads: a Lead with marketing consent and a profile, unless told otherwise.</summary>
internal static class NurtureLeads
{
    public static LeadSummary New(string email, DateTimeOffset at, params (string Field, string Value)[] profile)
    {
        var fields = new Dictionary<string, string> { ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Analytical Engines" };
        foreach (var (field, value) in profile)
            fields[field] = value;
        return new LeadSummary
        {
            LeadId = TestLeadIds.LeadIdFor(email),
            Email = email,
            Stage = LifecycleStage.Lead,
            StageChangedAt = at.AddDays(-1),
            Profile = fields,
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, at.AddDays(-1), "form")],
            EngagementScore = 55,
            FitScore = 30,
            FitGrade = "B",
            ModelVersion = "it-1",
            CreatedAt = at.AddDays(-1),
            UpdatedAt = at,
        };
    }
}
