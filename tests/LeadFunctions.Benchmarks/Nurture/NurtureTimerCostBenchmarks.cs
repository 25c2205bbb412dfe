using System.Globalization;
using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RunStrategy = BenchmarkDotNet.Engines.RunStrategy;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LeadFunctions.Benchmarks.Nurture;

/// <summary>
/// One nurture timer run (<see cref="INurtureRunner.RunOnceAsync"/>) with 1,000 MQLs due, among <see cref="Leads"/> leads, against
/// Azurite (LEADFUNCTIONS_TEST_STORAGE, default UseDevelopmentStorage=true). The timer's work must follow the due set, not the
/// table: the run reads the due index, then each due lead by its key, so 100,000 leads should cost what 1,000 do. The real folder
/// sender writes each e-mail and the real outbox claims, marks and reschedules in the state and due tables.
/// <para>
/// The leads are seeded once per size (a lead row each; every lead is its own partition, so no two rows can share an entity-group
/// transaction, and the due index's rows, which share partitions, go 100 to a transaction) and kept for every iteration; each
/// iteration setup only puts the 1,000 due reminders back and empties the outbox. Of the other leads, one in ten is an MQL that
/// got its first e-mail a month ago and has its second due next month, so the state table and the due index grow with the table.
/// Storage requests of each run are counted (<see cref="CountingPolicy"/>) and printed at the end as "STORAGE …".
/// </para>
/// <para>
/// <see cref="RawSdkBaseline"/> does the same storage requests per due item with no nurture code (<see cref="RawTimerBaseline"/>),
/// against the same seeded tables after the same reset, so timer/raw says what our code adds at each size, and raw at 100,000 over
/// raw at 1,000 what the storage itself adds as the tables grow.
/// </para>
/// </summary>
[Config(typeof(TimerRunConfig))]
public class NurtureTimerCostBenchmarks
{
    /// <summary>
    /// In process (the generated project does not build within BenchmarkDotNet's two minutes on a busy 2-core machine), each run
    /// measured once: a run is a minute or more of real storage work, not a microsecond to repeat. NURTURE_BENCH_WARMUPS and
    /// NURTURE_BENCH_ITERATIONS change the counts (defaults 1 and 3).
    /// </summary>
    private sealed class TimerRunConfig : ManualConfig
    {
        public TimerRunConfig() => AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1)
            .WithWarmupCount(Count("NURTURE_BENCH_WARMUPS", 1)).WithIterationCount(Count("NURTURE_BENCH_ITERATIONS", 3))
            .WithInvocationCount(1).WithUnrollFactor(1)
            .WithToolchain(InProcessEmitToolchain.Instance));

        private static int Count(string variable, int fallback) =>
            int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : fallback;
    }

    /// <summary>The table sizes; NURTURE_BENCH_LEADS (e.g. <c>100000</c>) runs only those.</summary>
    public static IEnumerable<int> Sizes() =>
        Environment.GetEnvironmentVariable("NURTURE_BENCH_LEADS") is { Length: > 0 } sizes
            ? sizes.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))
            : [1_000, 100_000];

    /// <summary>1,000; NURTURE_BENCH_DUE changes it for a quick check that the benchmark works, not for a measurement.</summary>
    public static readonly int DueLeads =
        int.TryParse(Environment.GetEnvironmentVariable("NURTURE_BENCH_DUE"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 1_000;

    private const string Programme = """
        {
          "version": "bench-1",
          "enrolOnMql": "trio",
          "programmes": [
            { "id": "trio", "version": "1", "steps": [
              { "id": "first", "delay": "0", "after": "enrolment", "subject": "First for {{ lead.firstName }}", "template": "nurture-welcome" },
              { "id": "second", "delay": "2d", "after": "previous", "subject": "Second for {{ lead.firstName }}", "template": "nurture-case-study" }
            ] }
          ]
        }
        """;

    private readonly CountingPolicy _counter = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _perTable = new(StringComparer.Ordinal);
    private readonly List<IReadOnlyDictionary<string, long>> _perTableCounts = [];

    /// <summary>The shared counter, plus each request by table and kind, so the report can say what one due item costs where.</summary>
    private sealed class PerTable(CountingPolicy counter, System.Collections.Concurrent.ConcurrentDictionary<string, long> counts) : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            counter.OnSendingRequest(message);
            var path = message.Request.Uri.Path.TrimStart('/');
            if (path.StartsWith("devstoreaccount1/", StringComparison.Ordinal))
                path = path["devstoreaccount1/".Length..]; // Azurite's path-style addressing puts the account first
            var end = path.IndexOfAny(['(', '/', '?']);
            var table = (end < 0 ? path : path[..end]).Replace("benchnurture", "", StringComparison.Ordinal).TrimEnd("0123456789".ToCharArray());
            counts.AddOrUpdate($"{table} {CountingPolicy.KindOf(message.Request)}", 1, (_, n) => n + 1);
        }
    }
    private readonly List<(string Method, long Reads, long Batches, long Others)> _counts = [];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "bench-nurture-" + Guid.NewGuid().ToString("N"));
    private IHost _host = null!;
    private INurtureRunner _runner = null!;
    private NurtureTables _tables = null!;
    private TableClient _results = null!;
    private string _outbox = "";
    private DateTimeOffset _transitionAt;
    private NurtureRunResult? _last;
    private RawTimerBaseline _raw = null!;

    [ParamsSource(nameof(Sizes))]
    public int Leads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_root);
        var programmeFile = Path.Combine(_root, "nurture.json");
        File.WriteAllText(programmeFile, Programme);
        _outbox = Path.Combine(_root, "outbox");
        var size = Leads.ToString(CultureInfo.InvariantCulture);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageOptions.ConnectionName] = Environment.GetEnvironmentVariable("LEADFUNCTIONS_TEST_STORAGE") ?? "UseDevelopmentStorage=true",
            // Named by size, not per process: a persistent Azurite keeps the seeded leads for the next run of the benchmark.
            ["Storage:LeadsTable"] = "benchnurtureleads" + size,
            ["Nurture:DueTable"] = "benchnurturedue" + size,
            ["Nurture:StateTable"] = "benchnurturestate" + size,
            ["Lists:IndexTable"] = "benchnurtureindex" + size,
            ["NurtureResults:CountersTable"] = "benchnurtureresults" + size,
            ["Nurture:ProgrammesFile"] = programmeFile,
            ["Nurture:TemplatesFolder"] = Path.Combine(RepoRoot(), "functions", "LeadFunctions", "config", "templates"),
            ["Nurture:MaxItemsPerRun"] = "10000",
            ["Nurture:RunBudgetSeconds"] = "3600",
            ["Nurture:MaxMarketingEmailsPerWeek"] = "3",
            ["Nurture:FromAddress"] = "news@contoso.example",
            ["SalesAlerts:EscalationAddress"] = "boss@sales.example.com",
            ["SalesAlerts:FromAddress"] = "alerts@contoso.example",
            ["Tracking:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Tracking:BaseUrl"] = "https://leads.contoso.example",
            ["LeadIds:Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Email:Sender"] = "Folder",
            ["Email:Folder:Path"] = _outbox,
            ["Email:FromAddress"] = "noreply@contoso.example",
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new StoragePipelinePolicy(new PerTable(_counter, _perTable)));
        builder.Services.AddLeadStorage();
        builder.Services.AddLeadScoring();
        builder.Services.AddEmailDelivery();
        builder.Services.AddNurture();
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult(); // creates the tables
        _tables = _host.Services.GetRequiredService<NurtureTables>();
        _runner = _host.Services.GetRequiredService<INurtureRunner>();
        _results = _host.Services.GetRequiredService<LeadFunctions.Infrastructure.Nurture.Results.NurtureResultsTable>().Client;
        _raw = new RawTimerBaseline(_host.Services.GetRequiredService<LeadsTable>().Client, _tables.State, _tables.Due, _results,
            _host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LeadFunctions.Infrastructure.Nurture.Results.NurtureResultsOptions>>().Value.Shards,
            Path.Combine(_root, "raw-outbox"), TimeProvider.System,
            new Dictionary<string, (string, TimeSpan)>(StringComparer.Ordinal) { ["trio-first"] = ("second", TimeSpan.FromDays(2)) });
        _transitionAt = DateTimeOffset.UtcNow.AddHours(-1);
        // Steady state: the marketing-sends rows came in long before the sends the cap looks at, so a lead without one has had no
        // marketing e-mail this week (the first week after an upgrade also queries the lead's outbox rows; see docs/performance.md).
        _tables.State.UpsertEntity(new MarketingSendsLayoutEntity { Since = DateTimeOffset.UtcNow.AddDays(-60) });
        var seeded = System.Diagnostics.Stopwatch.StartNew();
        var added = SeedLeadsAsync(_host.Services.GetRequiredService<LeadsTable>().Client).GetAwaiter().GetResult();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// SEED {Leads} leads: {added} added in {seeded.Elapsed.TotalSeconds:0.0} s"));
        // A seeded lead the directory would not read as a due MQL would make every run measure dropping, not sending.
        var first = _host.Services.GetRequiredService<ILeadDirectory>().FindSummaryAsync(LeadId(0), CancellationToken.None).GetAwaiter().GetResult();
        if (first is not { Stage: LifecycleStage.Mql, HasMarketingEmailConsent: true })
            throw new InvalidOperationException($"The seeded lead reads as {first?.Stage.ToString() ?? "missing"}, not as an MQL with consent.");
    }

    /// <summary>
    /// <c>LeadFunctions.Benchmarks timer-cost-seed</c>: seeds every size and exits, so a later benchmark run in the same Azurite
    /// finds the tables complete (the marker row) and times the runs alone; BenchmarkDotNet's in-process toolchain gives a
    /// benchmark five minutes in all, and seeding 100,000 leads on a busy machine takes a good part of that.
    /// </summary>
    public static int SeedOnly()
    {
        foreach (var size in Sizes())
        {
            var benchmark = new NurtureTimerCostBenchmarks { Leads = size };
            benchmark.Setup();
            benchmark.Cleanup();
        }
        return 0;
    }

    /// <summary>
    /// <c>LeadFunctions.Benchmarks timer-cost-time</c>: the same runs as the benchmark, timed here rather than by BenchmarkDotNet,
    /// whose in-process toolchain stops a benchmark after five minutes (a warm-up and a run at 100,000 leads took longer on a busy
    /// machine). Per size, after the same setup: NURTURE_BENCH_WARMUPS timer runs not timed (the process's first calls and the
    /// emulator's first requests on the tables), then NURTURE_BENCH_ITERATIONS rounds of the raw loop and the timer, alternating,
    /// each after the same reset. Prints "// TIMED {leads} {method}: {seconds} s" per run and "// RATIO" per round.
    /// </summary>
    public static async Task<int> TimeAllAsync()
    {
        static int Count(string variable, int fallback) =>
            int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : fallback;
        var warmups = Count("NURTURE_BENCH_WARMUPS", 1);
        var rounds = Count("NURTURE_BENCH_ITERATIONS", 1);
        foreach (var size in Sizes())
        {
            var benchmark = new NurtureTimerCostBenchmarks { Leads = size };
            benchmark.Setup();
            for (var i = 0; i < warmups; i++)
            {
                benchmark.ResetDueSet();
                var warm = System.Diagnostics.Stopwatch.StartNew();
                await benchmark.OneTimerRun();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// WARM-UP {size} {nameof(OneTimerRun)}: {warm.Elapsed.TotalSeconds:0.0} s"));
            }
            for (var round = 1; round <= rounds; round++)
            {
                var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (method, run) in new (string, Func<Task>)[] { (nameof(RawSdkBaseline), benchmark.RawSdkBaseline), (nameof(OneTimerRun), benchmark.OneTimerRun) })
                {
                    benchmark.ResetDueSet();
                    Console.WriteLine($"// {method} {size} starts, {File.ReadAllText("/proc/loadavg").Trim()}");
                    var timed = System.Diagnostics.Stopwatch.StartNew();
                    await run();
                    seconds[method] = timed.Elapsed.TotalSeconds;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// TIMED {size} {method}: {seconds[method]:0.0} s (round {round})"));
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"// RATIO {size} round {round}: timer/raw {seconds[nameof(OneTimerRun)] / seconds[nameof(RawSdkBaseline)]:0.00}"));
            }
            benchmark.Cleanup();
        }
        return 0;
    }

    [IterationSetup]
    public void ResetDueSet()
    {
        ResetAsync().GetAwaiter().GetResult();
        _counter.Reset();
        _perTable.Clear();
    }

    [Benchmark]
    public async Task OneTimerRun()
    {
        _last = await _runner.RunOnceAsync(CancellationToken.None);
        if (_last.Sent != DueLeads)
            throw new InvalidOperationException($"The run sent {_last.Sent} of {DueLeads} due e-mails ({_last}).");
        Counted(nameof(OneTimerRun));
    }

    /// <summary>The same storage requests per due item as <see cref="OneTimerRun"/>, with no nurture code: the baseline of the ratio.</summary>
    [Benchmark(Baseline = true)]
    public async Task RawSdkBaseline()
    {
        var items = await _raw.RunOnceAsync(CancellationToken.None);
        if (items != DueLeads)
            throw new InvalidOperationException($"The raw loop went through {items} of {DueLeads} due items.");
        Counted(nameof(RawSdkBaseline));
    }

    private void Counted(string method)
    {
        _counts.Add((method, _counter.Reads, _counter.Batches, _counter.Others));
        // Here as well as at the end: BenchmarkDotNet's in-process toolchain stops a benchmark after five minutes, before its cleanup.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// STORAGE {Leads} leads, {method}, this run: {_counter.Total} requests"));
        _perTableCounts.Add(new SortedDictionary<string, long>(_perTable, StringComparer.Ordinal));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (method, reads, batches, others) in _counts)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// STORAGE {Leads} leads, {method}: {DueLeads} due, {reads} reads + {batches} transactions + {others} other = {reads + batches + others} requests in one run"));
        }
        if (_perTableCounts.Count > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// STORAGE {Leads} leads, {_counts[^1].Method}, last run by table and kind: {string.Join(", ", _perTableCounts[^1].Select(kv => $"{kv.Key} {kv.Value}"))}"));
        }
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LeadFunctions.sln")))
                return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }

    /// <summary>Fixed, so a persistent Azurite's seeded table matches the next run's ids; lead ids must have the app's shape.</summary>
    private static readonly LeadIdentity Identity = new(LeadIdentity.DefaultKeyId, "bench-nurture-lead-ids-0123456789abcdef0123456789");

    private static readonly string[] LeadIds = [.. Enumerable.Range(0, 100_000).Select(i => Identity.LeadIdFor($"bench{i.ToString(CultureInfo.InvariantCulture)}@example.com"))];

    private static string LeadId(int i) => LeadIds[i];

    /// <summary>The i-th lead: the first <see cref="DueLeads"/> and every tenth after them are MQLs with marketing consent.</summary>
    private LeadEntity Lead(int i)
    {
        var mql = i < DueLeads || i % 10 == 0;
        var state = new LeadScoreState
        {
            LeadId = LeadId(i),
            Email = $"bench{i.ToString(CultureInfo.InvariantCulture)}@example.com",
            Stage = mql ? LifecycleStage.Mql : LifecycleStage.Lead,
            StageChangedAt = _transitionAt,
            Profile = new Dictionary<string, string>(StringComparer.Ordinal) { ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Analytical Engines" },
            Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, _transitionAt.AddDays(-1), "form")],
            EngagementValue = mql ? 90 : 20,
            EngagementAnchor = _transitionAt,
            FitScore = 30,
            FitGrade = "B",
            ModelVersion = "bench",
            CreatedAt = _transitionAt.AddDays(-2),
            UpdatedAt = _transitionAt,
            EventCount = 2,
        };
        return LeadMapping.ToEntity(state, TimeSpan.FromDays(45), default);
    }

    /// <summary>
    /// Adds the leads not there yet (a marker row per size says the tables are complete). The due leads are real lead rows, each in
    /// its own partition as in production, so no two share an entity-group transaction: single upserts, 32 in flight. The timer
    /// never reads the others, so they are full lead rows too but 100 to a partition (keyed by lead id) and 100 to a transaction:
    /// Azurite indexes row keys before partition keys, so 100,000 rows that all have the lead row's key make every write scan them
    /// all, and seeding them one by one is quadratic (10,000 took 55 s, the next 10,000 over two minutes). The non-due MQLs (one in
    /// ten) also got the first e-mail a month ago (a sent outbox row in the state table, in their own partition as in production)
    /// and wait for the second a month out (a due-index row, 100 to a transaction). So the leads, state and due tables the timer
    /// touches all grow with the lead count.
    /// </summary>
    private async Task<int> SeedLeadsAsync(TableClient leads)
    {
        const string markerPartition = "~bench";
        var marker = await leads.GetEntityIfExistsAsync<TableEntity>(markerPartition, "seeded");
        if (marker.HasValue)
        {
            // Seeded by an earlier process: the reminders must carry the MQL transition the seeded leads have, or all are dropped.
            _transitionAt = marker.Value!.GetDateTimeOffset("TransitionAt") ?? _transitionAt;
            return 0;
        }
        var added = 0;
        var rows = System.Diagnostics.Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Math.Min(DueLeads, Leads)), new ParallelOptions { MaxDegreeOfParallelism = SeedInFlight }, async (i, ct) =>
        {
            await leads.UpsertEntityAsync(Lead(i), TableUpdateMode.Replace, ct);
            Interlocked.Increment(ref added);
        });
        var others = Enumerable.Range(DueLeads, Math.Max(0, Leads - DueLeads)).Chunk(100).ToList();
        await Parallel.ForEachAsync(others, new ParallelOptions { MaxDegreeOfParallelism = SeedInFlight }, async (chunk, ct) =>
        {
            var partition = string.Create(CultureInfo.InvariantCulture, $"~bench-leads-{chunk[0]:D6}");
            await leads.SubmitTransactionAsync(chunk.Select(i =>
            {
                var row = Lead(i);
                row.PartitionKey = partition;
                row.RowKey = LeadId(i);
                return new TableTransactionAction(TableTransactionActionType.UpsertReplace, row);
            }), ct);
            var total = Interlocked.Add(ref added, chunk.Length);
            if (total / 10_000 != (total - chunk.Length) / 10_000)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// SEED {total} lead rows in {rows.Elapsed.TotalSeconds:0.0} s"));
        });
        var sentAt = _transitionAt.AddDays(-30);
        var earlier = Enumerable.Range(DueLeads, Math.Max(0, Leads - DueLeads)).Where(i => i % 10 == 0).ToList();
        await Parallel.ForEachAsync(earlier, new ParallelOptions { MaxDegreeOfParallelism = SeedInFlight }, async (i, ct) =>
            await _tables.State.UpsertEntityAsync(new OutboxEntity
            {
                PartitionKey = LeadId(i), RowKey = $"{OutboxEntity.NurturePrefix}trio-first", Kind = DueKinds.Nurture,
                MessageId = $"{LeadId(i)}-{DueKinds.Nurture}-trio-first", Marketing = true, Status = OutboxStatus.Sent,
                FirstAttemptAt = sentAt, ClaimedUntil = sentAt, Attempts = 1, SentAt = sentAt,
            }, TableUpdateMode.Replace, ct));
        // The index holds far more than is due, as it does in production.
        var future = earlier.Select(i => DueItemEntity.Create(LeadId(i), DueKinds.Nurture, DateTimeOffset.UtcNow.AddDays(30), _transitionAt, "trio-second", "trio", "second"));
        await InBatchesAsync(_tables.Due, future, TableTransactionActionType.UpsertReplace);
        await leads.UpsertEntityAsync(new TableEntity(markerPartition, "seeded") { ["TransitionAt"] = _transitionAt });
        return added;
    }

    private const int SeedInFlight = 32;

    private static readonly HashSet<string> DueLeadIds = [.. LeadIds.Take(DueLeads)];

    /// <summary>
    /// Back to the state before a run: the due leads' outbox and e-mail records and the results counters empty, the next steps the
    /// last run scheduled removed, and the 1,000 first-step reminders due again (their keys are deterministic, so they are the same
    /// rows every iteration).
    /// </summary>
    private async Task ResetAsync()
    {
        var state = new List<TableEntity>();
        await foreach (var row in _tables.State.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
        {
            if (DueLeadIds.Contains(row.PartitionKey)) // the other leads' sent first e-mails stay, as seeded
                state.Add(row);
        }
        await Parallel.ForEachAsync(state.GroupBy(r => r.PartitionKey), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (rows, ct) =>
        {
            foreach (var chunk in rows.Chunk(100))
                await _tables.State.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, Azure.ETag.All)), ct);
        });

        // The per-step counters and each message's counted marker: left in place, a marker would make the next run skip counting.
        var counted = new List<TableEntity>();
        await foreach (var row in _results.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
            counted.Add(row);
        await InBatchesAsync(_results, counted, TableTransactionActionType.Delete);

        // Everything in the index due before the month-out reminders: last run's next steps (two days out) and any leftovers.
        var before = DueItemEntity.UpperBound(DateTimeOffset.UtcNow.AddDays(10));
        var stale = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DuePartitions.Default} and RowKey lt {before}");
        await foreach (var row in _tables.Due.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"]))
            stale.Add(row);
        await InBatchesAsync(_tables.Due, stale, TableTransactionActionType.Delete);

        var due = Enumerable.Range(0, DueLeads)
            .Select(i => DueItemEntity.Create(LeadId(i), DueKinds.Nurture, _transitionAt, _transitionAt, "trio-first", "trio", "first"));
        await InBatchesAsync(_tables.Due, due, TableTransactionActionType.UpsertReplace);

        foreach (var folder in new[] { _outbox, Path.Combine(_root, "raw-outbox") })
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Rows of one partition, 100 to a transaction, several transactions in flight.</summary>
    private static Task InBatchesAsync<T>(TableClient table, IEnumerable<T> rows, TableTransactionActionType kind) where T : ITableEntity =>
        Parallel.ForEachAsync(rows.GroupBy(r => r.PartitionKey).SelectMany(p => p.Chunk(100)), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (chunk, ct) =>
            await table.SubmitTransactionAsync(chunk.Select(r => kind == TableTransactionActionType.Delete
                ? new TableTransactionAction(kind, r, Azure.ETag.All)
                : new TableTransactionAction(kind, r)), ct));
}
