using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Azure.Data.Tables;
using Bogus;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Benchmarks.Scoring;

/// <summary>
/// <c>dry-run [leads] [azurite-leads]</c>: a scoring dry-run over synthetic histories drawn from the shipped forms and content
/// catalogue (seeded Bogus, so every run replays the same events). The in-memory part generates each lead as it is read
/// (100,000 leads × tens of events would not fit comfortably in memory on a shared machine), so it is timed twice: the
/// generation alone, and generation plus the dry-run; the difference is what scoring costs. With DRYRUN_STORAGE set (a
/// connection string, e.g. Azurite), a smaller set is seeded into a fresh table and dry-run from it, so the storage cost
/// per event is measured too.
/// </summary>
internal static class DryRunRun
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    internal static readonly DateTimeOffset AsOf = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<int> RunAsync(string[] args)
    {
        var leads = args.Length > 1 ? int.Parse(args[1], Inv) : 100_000;
        var azuriteLeads = args.Length > 2 ? int.Parse(args[2], Inv) : 2_000;
        var config = Path.Combine(AppContext.BaseDirectory, "config");
        var current = ScoringModelLoader.LoadFile(Path.Combine(config, "scoring-model.json"));
        var proposed = Proposal(File.ReadAllText(Path.Combine(config, "scoring-model.json")));
        var forms = FormCatalog.Load(Path.Combine(config, "forms.json"));
        var content = ContentCatalogue.Load(Path.Combine(config, "content.json"));
        var unreachable = ScoringModelReachability.Check(proposed, forms, content);
        var generator = new SyntheticHistories(forms, content, seed: 20261201);

        Console.WriteLine(string.Create(Inv, $"Dry-run benchmark: {leads} synthetic leads, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}"));
        // Warm up (JIT, Bogus' locale) so neither timed pass pays for it.
        await new ScoringDryRun(current, proposed, unreachable).RunAsync(generator.Source(Math.Min(leads, 1_000)), new ReplayFilter(), AsOf, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        long generated = 0;
        await foreach (var lead in generator.Source(leads).ReadAsync(new ReplayFilter(), CancellationToken.None))
            generated += lead.Events.Count;
        var generation = clock.Elapsed;
        Console.WriteLine(string.Create(Inv, $"  generation only: {generated} events in {generation.TotalSeconds:F1} s"));

        clock.Restart();
        var report = await new ScoringDryRun(current, proposed, unreachable).RunAsync(generator.Source(leads), new ReplayFilter(), AsOf, CancellationToken.None);
        var total = clock.Elapsed;
        var scoring = total - generation;
        Console.WriteLine(string.Create(Inv, $"  in-memory dry-run: {report.Leads} leads, {report.Events} events in {total.TotalSeconds:F1} s ({report.Events / total.TotalSeconds:F0} events/s with generation)"));
        Console.WriteLine(string.Create(Inv, $"  scoring alone (two models): {scoring.TotalSeconds:F1} s, {report.Events / scoring.TotalSeconds:F0} events/s, {scoring.TotalMicroseconds / report.Events:F2} µs/event"));
        Console.WriteLine(string.Create(Inv, $"  {report.LeadsChangingStage} leads would change stage; MQL -{report.Mql.LeavingCount} +{report.Mql.EnteringCount}; SQL -{report.Sql.LeavingCount} +{report.Sql.EnteringCount}"));

        if (Environment.GetEnvironmentVariable("DRYRUN_STORAGE") is { Length: > 0 } storage && azuriteLeads > 0)
        {
            var table = new TableClient(storage, "DryRunBench" + Guid.NewGuid().ToString("N")[..8]);
            await table.CreateAsync();
            clock.Restart();
            var seeded = await SeedAsync(table, generator, azuriteLeads, current);
            var seeding = clock.Elapsed;
            Console.WriteLine(string.Create(Inv, $"  seeded {azuriteLeads} leads, {seeded} events into Azurite in {seeding.TotalSeconds:F1} s"));
            clock.Restart();
            var fromTable = await new ScoringDryRun(current, proposed, unreachable).RunAsync(new TableReplaySource(table), new ReplayFilter(), AsOf, CancellationToken.None);
            var read = clock.Elapsed;
            Console.WriteLine(string.Create(Inv, $"  table dry-run: {fromTable.Leads} leads, {fromTable.Events} events in {read.TotalSeconds:F1} s ({fromTable.Events / read.TotalSeconds:F0} events/s, {read.TotalMicroseconds / fromTable.Events:F1} µs/event)"));
            // No projection to 100,000 leads: Azurite's in-memory tables scan on every query, so its cost per lead grows with
            // the table; Azure Table Storage serves a partition by its key.
            Console.WriteLine(string.Create(Inv, $"  per lead from storage: {read.TotalMilliseconds / fromTable.Leads:F2} ms ({TableReplaySource.ReadAhead} leads read ahead)"));
            // DRYRUN_KEEP_TABLE=1 leaves the seeded table for trying the CLI against it.
            if (Environment.GetEnvironmentVariable("DRYRUN_KEEP_TABLE") == "1")
                Console.WriteLine("  kept table " + table.Name);
            else
                await table.DeleteAsync();
        }
        return 0;
    }

    /// <summary>The shipped model with a stricter MQL bar and pricing views worth more: a typical tuning proposal.</summary>
    internal static ScoringModel Proposal(string shipped) => ScoringModelLoader.Load(shipped
        .Replace("\"mql\": { \"minEngagement\": 50", "\"mql\": { \"minEngagement\": 60", StringComparison.Ordinal)
        .Replace("\"id\": \"pricing-page\", \"points\": 10", "\"id\": \"pricing-page\", \"points\": 15", StringComparison.Ordinal)
        .Replace("\"version\": \"", "\"version\": \"proposed-", StringComparison.Ordinal));

    /// <summary>Writes lead rows (stage from the current model) and applied-event rows as the processor would, 100 per transaction.</summary>
    private static async Task<long> SeedAsync(TableClient table, SyntheticHistories generator, int count, ScoringModel model)
    {
        var engine = new ScoringEngine(model);
        var outcome = new ScoringOutcome();
        long events = 0;
        var pending = new List<Task>();
        await foreach (var lead in generator.Source(count).ReadAsync(new ReplayFilter(), CancellationToken.None))
        {
            var state = new LeadScoreState { LeadId = lead.LeadId };
            foreach (var e in lead.Events)
                engine.Apply(state, e.Event, e.AppliedAt, outcome);
            var rows = new List<ITableEntity>(lead.Events.Count + 1)
            {
                new LeadEntity { PartitionKey = lead.LeadId, Stage = (state.Stage ?? LifecycleStage.Lead).ToString(), FitGrade = state.FitGrade },
            };
            rows.AddRange(lead.Events.Select(e => new AppliedEventEntity
            {
                PartitionKey = lead.LeadId,
                RowKey = LeadRows.Applied(e.Event.EventId),
                EventId = e.Event.EventId,
                EventType = e.Event.Type,
                OccurredAt = e.Event.OccurredAt,
                AppliedAt = e.AppliedAt,
                ModelVersion = model.Version,
                EventJson = LeadEventJson.Serialize(e.Event),
            }));
            events += lead.Events.Count;
            foreach (var chunk in rows.Chunk(100))
                pending.Add(table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r))));
            if (pending.Count >= 16)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
        return events;
    }
}

/// <summary>
/// Realistic-looking histories: a first form submission with answers the form offers, then tens of page views, downloads of
/// catalogued content, e-mail opens and clicks, more forms and webinars over up to six months. Lead i is always generated
/// from seed + i, so any subset is reproducible.
/// </summary>
internal sealed class SyntheticHistories(FormCatalog forms, ContentCatalogue content, int seed)
{
    private static readonly string[] Pages = ["/pricing", "/pricing/enterprise", "/product", "/blog/lead-scoring-basics", "/careers", "/docs/getting-started", "/"];
    private readonly FormDefinition[] _forms = [.. forms.Forms];
    private readonly ContentItem[] _content = [.. content.Items];
    private readonly Faker _faker = new();

    public IReplaySource Source(int count) => new Generated(this, count);

    public ReplayLead Lead(int index)
    {
        // One Faker (building one loads its locale), reseeded per lead; the generator is read by one replay at a time.
        var f = _faker;
        f.Random = new Randomizer(seed + index);
        var leadId = "lead-" + index.ToString("D7", CultureInfo.InvariantCulture);
        var email = f.Internet.Email();
        var at = DryRunRun.AsOf - TimeSpan.FromDays(f.Random.Double(1, 180));
        var count = f.Random.Int(10, 50);
        var events = new List<ReplayEvent>(count);
        var n = 0;
        events.Add(Stored(FormSubmission(f, leadId, ++n, email, at, first: true), f));
        while (events.Count < count && at < DryRunRun.AsOf)
        {
            at += TimeSpan.FromMinutes(f.Random.Double(1, 60 * 24 * 5));
            if (at >= DryRunRun.AsOf)
                break;
            var roll = f.Random.Int(0, 99);
            var e = roll switch
            {
                < 50 => Activity(leadId, ++n, email, LeadEventTypes.PageView, at, (LeadEventProperties.Url, "https://www.example.com" + f.PickRandom(Pages))),
                < 65 => Download(f, leadId, ++n, email, at),
                < 80 => Activity(leadId, ++n, email, LeadEventTypes.EmailOpen, at, (LeadEventProperties.Campaign, "nurture-" + f.Random.Int(1, 4).ToString(CultureInfo.InvariantCulture))),
                < 88 => Activity(leadId, ++n, email, LeadEventTypes.EmailClick, at, (LeadEventProperties.Campaign, "nurture-" + f.Random.Int(1, 4).ToString(CultureInfo.InvariantCulture))),
                < 95 => FormSubmission(f, leadId, ++n, email, at, first: false),
                _ => Activity(leadId, ++n, email, LeadEventTypes.WebinarRegistration, at),
            };
            events.Add(Stored(e, f));
        }
        return new ReplayLead(leadId, null, events);
    }

    private static ReplayEvent Stored(LeadEvent e, Faker f) => new(e, e.OccurredAt + TimeSpan.FromMilliseconds(f.Random.Int(50, 5_000)));

    private LeadEvent FormSubmission(Faker f, string leadId, int n, string email, DateTimeOffset at, bool first)
    {
        var form = f.PickRandom(_forms);
        var profile = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in form.Fields)
        {
            if (field.ProfileField is not { } name || (!first && f.Random.Bool(0.7f)))
                continue;
            profile[name] = field.Type == FormFieldType.Choice && field.Options.Count > 0 ? f.PickRandom(field.Options.ToArray()) : name switch
            {
                "firstName" => f.Name.FirstName(),
                "lastName" => f.Name.LastName(),
                "company" => f.Company.CompanyName(),
                "jobTitle" => f.Name.JobTitle(),
                _ => f.Lorem.Word(),
            };
        }
        return new LeadEvent
        {
            EventId = EventId(leadId, n),
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = at,
            Email = email,
            FormId = form.Id,
            Intent = form.Intent,
            Profile = profile,
        };
    }

    private LeadEvent Download(Faker f, string leadId, int n, string email, DateTimeOffset at)
    {
        var item = f.PickRandom(_content);
        return Activity(leadId, n, email, LeadEventTypes.ContentDownload, at,
            (LeadEventProperties.ContentId, item.Id), (LeadEventProperties.FunnelStage, item.FunnelStage), (LeadEventProperties.Title, item.Title));
    }

    private static LeadEvent Activity(string leadId, int n, string email, string type, DateTimeOffset at, params (string Key, string Value)[] properties) => new()
    {
        EventId = EventId(leadId, n),
        Type = type,
        OccurredAt = at,
        Email = email,
        Properties = properties.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
    };

    private static string EventId(string leadId, int n) => leadId + "-" + n.ToString("D3", CultureInfo.InvariantCulture);

    private sealed class Generated(SyntheticHistories histories, int count) : IReplaySource
    {
        public async IAsyncEnumerable<ReplayLead> ReadAsync(ReplayFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            for (var i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return histories.Lead(i);
            }
        }
    }
}
