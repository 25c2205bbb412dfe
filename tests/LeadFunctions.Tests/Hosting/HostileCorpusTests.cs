using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.LocalHost;
using LeadFunctions.Testing.Hostile;
using LeadFunctions.Tests.Support;
using LeadFunctions.Workspace;
using Microsoft.Azure.Functions.Worker;
using Xunit.Abstractions;

namespace LeadFunctions.Tests.Hosting;

/// <summary>
/// The hostile corpus (tests/Shared/HostileCorpus.cs) against the local host over real HTTP, once with nobody signed in and once
/// with a signed-in admin (so the workspace's own checks see the hostile input, not just the sign-in refusal). The corpus is
/// seeded: a failure prints the seed, and <c>LEADFUNCTIONS_HOSTILE_SEED=&lt;seed&gt;</c> runs the same requests again.
/// Its own Azurite, so the lead-events queue counted here is nobody else's.
/// </summary>
public sealed class HostileCorpusTests(ITestOutputHelper output) : IAsyncLifetime
{
    public const int RequestsPerHost = 5_000;
    private const int Concurrency = 16;

    public static readonly HostileCorpusSecrets Secrets = HostileCorpusSecrets.Default;

    private readonly AzuritePorts _ports = AzuritePorts.Free();
    private readonly string _log = Path.Combine(Path.GetTempPath(), "leadfunctions-hostile-" + Guid.NewGuid().ToString("N") + ".log");
    private Process? _azurite;

    public async Task InitializeAsync()
    {
        _azurite = AzuriteProcess.Start(_ports, "--inMemoryPersistence");
        await AzuriteProcess.WaitForPortAsync(_ports.Queue, TimeSpan.FromSeconds(30));
        await AzuriteProcess.WaitForPortAsync(_ports.Table, TimeSpan.FromSeconds(30));
    }

    public Task DisposeAsync()
    {
        if (_azurite is { HasExited: false })
        {
            _azurite.Kill(entireProcessTree: true);
            _azurite.WaitForExit(5000);
        }
        _azurite?.Dispose();
        File.Delete(_log);
        return Task.CompletedTask;
    }

    /// <summary>The settings the corpus is built for: its keys, limits off (they have their own tests, and would answer most of it 429).</summary>
    public static Dictionary<string, string?> HostSettings() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Tracking:SigningKey"] = Secrets.TrackingSigningKey,
        ["Crm:WebhookSecret"] = Secrets.CrmWebhookSecret,
        ["DeliveryReports:WebhookSecret"] = Secrets.DeliveryReportSecret,
        ["RateLimit:Enabled"] = "false",
        // As in Azure: a function-key route is closed without its key (the corpus sends none).
        ["LocalHost:RequireFunctionKey"] = "true",
    };

    [Fact]
    public async Task Ten_thousand_hostile_requests_to_every_public_endpoint_get_no_5xx_explain_every_refusal_enqueue_nothing_refused_and_redirect_only_where_allowed()
    {
        // Arrange
        var seed = Environment.GetEnvironmentVariable("LEADFUNCTIONS_HOSTILE_SEED") is { Length: > 0 } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"Hostile corpus seed {seed} (rerun with LEADFUNCTIONS_HOSTILE_SEED={seed})");
        var verdicts = new HostileVerdicts(HostileVerdicts.FormRedirectsFrom(Path.Combine(RepoPaths.Root, "functions", "LeadFunctions", "config", "forms.json")));
        var queue = new Azure.Storage.Queues.QueueClient(_ports.ConnectionString, StorageOptions.LeadEventsQueue);
        var answers = new List<HostileAnswer>();
        var clock = Stopwatch.StartNew();

        // Act: the same seed for both hosts, different requests (the second half of the index range).
        var corpus = new HostileCorpus(seed, Secrets);
        var settings = HostSettings();
        settings[LocalHostApp.LogFileSetting] = _log;
        await using (var anonymous = await RunningLocalHost.StartAsync(_ports.ConnectionString, triggers: false, settings))
        {
            var before = await CountAsync(queue);
            using var client = HostileRunner.CreateClient(anonymous.App.BaseAddress(), Concurrency);
            var run = await HostileRunner.RunAsync(client, corpus.Generate(RequestsPerHost), Concurrency, CancellationToken.None);
            answers.AddRange(run);
            AssertEnqueuedAtMostAccepted(before, await CountAsync(queue), run, "nobody signed in");
        }
        await using (var signedIn = await RunningLocalHost.StartAsync(_ports.ConnectionString, triggers: false, SignedIn.DevelopmentUser(settings: settings)))
        {
            var before = await CountAsync(queue);
            using var client = HostileRunner.CreateClient(signedIn.App.BaseAddress(), Concurrency);
            var run = await HostileRunner.RunAsync(client, Enumerable.Range(RequestsPerHost, RequestsPerHost).Select(corpus.Request), Concurrency, CancellationToken.None);
            answers.AddRange(run);
            AssertEnqueuedAtMostAccepted(before, await CountAsync(queue), run, "an admin signed in");
        }
        output.WriteLine($"{answers.Count} requests in {clock.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine(HostileSummary.Table(answers));

        // Assert
        var violations = answers.Select(a => (Answer: a, Broken: verdicts.Check(a))).Where(v => v.Broken is not null).ToList();
        if (violations.Count > 0 && File.Exists(_log))
            output.WriteLine("Host errors:\n" + string.Join("\n", File.ReadLines(_log).Where(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("Exception", StringComparison.Ordinal)).Distinct().Take(60)));
        Assert.True(violations.Count == 0,
            $"Seed {seed}: {violations.Count} of {answers.Count} answers broke a rule (rerun with LEADFUNCTIONS_HOSTILE_SEED={seed}):\n" +
            HostileSummary.Violations(violations.Select(v => (v.Answer, v.Broken!)).ToList()));
    }

    [Fact]
    public void The_corpus_covers_every_anonymous_http_function_and_each_kind_of_attack()
    {
        // Arrange
        var anonymousRoutes = LocalHostApp.FunctionsAssembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .SelectMany(m => m.GetParameters())
            .Select(p => p.GetCustomAttribute<HttpTriggerAttribute>())
            .Where(a => a is { AuthLevel: AuthorizationLevel.Anonymous })
            .Select(a => a!.Route!)
            .ToHashSet(StringComparer.Ordinal);

        // Act
        var requests = new HostileCorpus(1, Secrets).Generate(2 * RequestsPerHost).ToList();

        // Assert
        Assert.Equal(anonymousRoutes.Order(StringComparer.Ordinal), HostileCorpus.Endpoints.Select(e => e.Route).Order(StringComparer.Ordinal));
        Assert.All(HostileCorpus.Endpoints, e => Assert.True(requests.Count(r => r.Endpoint == e) >= 300, $"{e.Name} gets too few requests"));
        var attacks = requests.SelectMany(r => r.Attack.Split('+')).ToHashSet(StringComparer.Ordinal);
        foreach (var attack in new[]
        {
            "deep-json", "duplicate-keys", "truncated-json", "invalid-utf8", "control-chars", "huge-body", "wrong-content-type",
            "numbers-out-of-range", "not-an-object", "bit-flipped-token", "expired-token", "wrong-kind-token", "foreign-key-token",
            "edited-payload-token", "forged-principal", "long-header", "asset-name", "lead-id", "form-id", "signed", "unsigned",
            "stale-signature", "wrong-secret", "form-urlencoded", "multipart",
        })
        {
            Assert.Contains(attack, attacks);
        }
        Assert.Contains(requests, r => r.WrongMethod);
        Assert.Equal(ShowWorkspace.SignInPath, HostileVerdicts.WorkspaceSignInPath);
    }

    [Fact]
    public void The_same_seed_and_index_give_the_same_request()
    {
        var now = DateTimeOffset.UtcNow;
        var first = new HostileCorpus(42, Secrets, now).Request(1234);
        var again = new HostileCorpus(42, Secrets, now).Request(1234);

        Assert.Equal(first.ToString(), again.ToString());
        Assert.Equal(first.Body, again.Body);
    }

    private static async Task<int> CountAsync(Azure.Storage.Queues.QueueClient queue)
    {
        await queue.CreateIfNotExistsAsync();
        return (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
    }

    /// <summary>Only an accepted request may add to lead-events, and at most one message each.</summary>
    private void AssertEnqueuedAtMostAccepted(int before, int after, IReadOnlyList<HostileAnswer> run, string who)
    {
        var accepted = HostileSummary.Accepted(run);
        output.WriteLine($"{who}: {accepted} accepted answers, {after - before} messages enqueued");
        Assert.True(after - before <= accepted, $"{who}: {after - before} messages were enqueued for {accepted} accepted requests");
    }
}
