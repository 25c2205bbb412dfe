using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Azure.Data.Tables;

namespace LeadFunctions.Benchmarks.Load;

/// <summary>
/// <c>faults crash|overlap</c>, driven by <c>tests/load/faults.sh</c>: local hosts as child processes (the Release build of
/// functions/LeadFunctions.LocalHost) against one Azurite, with demo requests whose sales alerts the nurture timer sends.
/// <list type="bullet">
/// <item><c>crash</c>: the host is killed with SIGKILL while it applies the batch, restarted, killed again once the timer has
/// begun sending, restarted: every event must be applied once and every alert sent once.</item>
/// <item><c>overlap</c>: two hosts on the same lead storage, each with its own WebJobs storage (so the WebJobs singleton lock
/// does not keep them apart), run the timer at the same seconds over the same due set: no alert may go twice.</item>
/// </list>
/// Counting: applied-event rows per lead in the leads table; per message id, the <c>.eml</c> files in the shared outbox folder
/// and the sender's "written to the outbox folder" log lines in every host's log (the folder sender replaces a file of the same
/// id, so a second send of one id shows only in the logs).
/// </summary>
internal static partial class FaultsRun
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        var scenario = args.Length > 1 ? args[1] : "crash";
        var settings = new FaultSettings(
            Required("FAULTS_LOCALHOST"), Required("FAULTS_STORAGE"), Environment.GetEnvironmentVariable("FAULTS_WEBJOBS_STORAGE2"),
            Required("FAULTS_SCRATCH"), Math.Clamp(Number("FAULTS_LEADS", 60), 1, 500));
        return scenario switch
        {
            "crash" => await CrashAsync(settings),
            "overlap" => await OverlapAsync(settings),
            _ => throw new InvalidOperationException($"Unknown scenario '{scenario}': crash or overlap."),
        };
    }

    private static async Task<int> CrashAsync(FaultSettings settings)
    {
        var run = new Run(settings, "crash");
        var host = run.Start("a", settings.Storage);
        await host.WaitReadyAsync();
        var posted = await run.PostDemoRequestsAsync(host);

        // Mid-batch: some events applied, not all.
        await WaitAsync(async () => await run.LeadsWithFormAsync() >= Math.Max(1, posted / 4), TimeSpan.FromMinutes(2));
        var appliedAtKill = await run.LeadsWithFormAsync();
        host.Kill();
        Console.WriteLine(string.Create(Inv, $"SIGKILL 1 with {appliedAtKill} of {posted} demo requests applied"));

        host = run.Start("b", settings.Storage);
        await host.WaitReadyAsync();
        // Mid-send: the timer has written at least one alert and has more due.
        var killedMidSend = await WaitAsync(() => Task.FromResult(run.AlertsByLead().Count > 0), TimeSpan.FromMinutes(13));
        var alertsAtKill = run.AlertsByLead().Count;
        host.Kill();
        var appliedAtSecondKill = await run.LeadsWithFormAsync();
        Console.WriteLine(string.Create(Inv, $"SIGKILL 2 with {alertsAtKill} sales alerts in the outbox, {appliedAtSecondKill} of {posted} demo requests applied"));

        host = run.Start("c", settings.Storage);
        await host.WaitReadyAsync();
        // Messages the killed hosts held come back when the listener's 10-minute lease on them runs out.
        var clock = Stopwatch.StartNew();
        await WaitAsync(async () => await run.LeadsWithFormAsync() >= posted && run.AlertsByLead().Count >= posted && await run.QueueEmptyAsync(), TimeSpan.FromMinutes(14));
        await Task.Delay(TimeSpan.FromSeconds(15)); // one more timer run or two: nothing more may be sent
        Console.WriteLine(string.Create(Inv, $"after the last restart everything was done in {clock.Elapsed.TotalSeconds:F0} s"));
        host.Kill();
        return await run.ReportAsync(posted, killedMidSend && alertsAtKill < posted ? "" : " (the second kill came after the last alert: it did not cut a send)");
    }

    private static async Task<int> OverlapAsync(FaultSettings settings)
    {
        var second = settings.SecondWebJobsStorage ?? throw new InvalidOperationException("FAULTS_WEBJOBS_STORAGE2 is required for overlap.");
        var run = new Run(settings, "overlap");
        // Both hosts' timers every 5 s: the same seconds of the clock, over the same due set.
        var a = run.Start("a", settings.Storage, "*/5 * * * * *");
        var b = run.Start("b", second, "*/5 * * * * *");
        await a.WaitReadyAsync();
        await b.WaitReadyAsync();
        var posted = await run.PostDemoRequestsAsync(a);
        await WaitAsync(async () => await run.LeadsWithFormAsync() >= posted && run.AlertsByLead().Count >= posted && await run.QueueEmptyAsync(), TimeSpan.FromMinutes(5));
        await Task.Delay(TimeSpan.FromSeconds(15));
        a.Kill();
        b.Kill();
        var runsA = a.TimerRuns();
        var runsB = b.TimerRuns();
        Console.WriteLine(string.Create(Inv, $"timer runs: host a {runsA}, host b {runsB}"));
        return await run.ReportAsync(posted, runsA > 0 && runsB > 0 ? "" : " (one host never ran its timer: no overlap was tested)");
    }

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return true;
            await Task.Delay(100);
        }
        return false;
    }

    private sealed record FaultSettings(string LocalHostDll, string Storage, string? SecondWebJobsStorage, string Scratch, int Leads);

    private sealed partial class Run(FaultSettings settings, string name)
    {
        private readonly string _runId = Guid.NewGuid().ToString("N")[..8];
        private readonly string _leadsTable = "Faults" + name + DateTime.UtcNow.ToString("HHmmss", Inv);
        private readonly List<Host> _hosts = [];
        private readonly List<string> _emails = [];

        private string Outbox => Path.Combine(settings.Scratch, name, "outbox");

        public Host Start(string id, string webJobsStorage, string schedule = "*/10 * * * * *")
        {
            var folder = Path.Combine(settings.Scratch, name, id);
            Directory.CreateDirectory(folder);
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet", [settings.LocalHostDll])
            {
                WorkingDirectory = Path.GetDirectoryName(settings.LocalHostDll)!,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var env = start.Environment;
            env["PORT"] = port.ToString(Inv);
            env["LeadStorage"] = settings.Storage;
            env["AzureWebJobsStorage"] = webJobsStorage;
            env["Storage__LeadsTable"] = _leadsTable;
            env["Email__Sender"] = "Folder";
            env["Email__Folder__Path"] = Outbox;
            env["LocalHost__TimerStatusFolder"] = Path.Combine(folder, "timers");
            env["LocalHost__LogFile"] = Path.Combine(folder, "app.log");
            env["NurtureSchedule"] = schedule;
            env["RetentionSchedule"] = "0 0 0 1 1 *";
            env["WebhookSchedule"] = "0 0 0 1 1 *";
            env["RateLimit__Enabled"] = "false";
            var process = Process.Start(start) ?? throw new InvalidOperationException("The local host did not start.");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var host = new Host(process, port, Path.Combine(folder, "app.log"));
            _hosts.Add(host);
            return host;
        }

        public async Task<int> PostDemoRequestsAsync(Host host)
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}/"), Timeout = TimeSpan.FromSeconds(30) };
            var accepted = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, settings.Leads), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                var email = $"fault-{_runId}-{i}@example.com";
                using var response = await client.PostAsJsonAsync("/api/forms/demo-request", new Dictionary<string, object>
                {
                    ["email"] = email, ["firstName"] = "Fault", ["lastName"] = $"F{_runId}x{i}", ["company"] = "Example",
                    ["role"] = "executive", ["companySize"] = "51-200", ["consent"] = "yes",
                }, ct);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    lock (_emails)
                        _emails.Add(email);
                    Interlocked.Increment(ref accepted);
                }
            });
            Console.WriteLine(string.Create(Inv, $"{accepted} of {settings.Leads} demo requests accepted"));
            return accepted;
        }

        /// <summary>Applied-event rows (<c>e|…</c>) in the run's leads table: (lead, event type) of each.</summary>
        public async Task<List<(string Lead, string Type)>> AppliedAsync()
        {
            var table = new TableClient(settings.Storage, _leadsTable);
            var rows = new List<(string, string)>();
            try
            {
                await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey ge {"e|"} and RowKey lt {"e}"}"), select: ["PartitionKey", "EventType"]))
                    rows.Add((row.PartitionKey, row.GetString("EventType") ?? ""));
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
            {
                // The table is created with the first lead.
            }
            return rows;
        }

        /// <summary>Nothing left on lead-events, visible or held by a listener (the approximate count includes invisible messages).</summary>
        public async Task<bool> QueueEmptyAsync()
        {
            var queue = new Azure.Storage.Queues.QueueClient(settings.Storage, "lead-events");
            return (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0;
        }

        /// <summary>Leads whose demo request (the form submission) has been applied.</summary>
        public async Task<int> LeadsWithFormAsync() =>
            (await AppliedAsync()).Where(r => r.Type == "form-submission").Select(r => r.Lead).Distinct(StringComparer.Ordinal).Count();

        /// <summary>Sales alerts in the outbox by lead marker (the alert's subject names the lead; the consent e-mail only its first name).</summary>
        public Dictionary<string, int> AlertsByLead()
        {
            var alerts = new Dictionary<string, int>(StringComparer.Ordinal);
            if (!Directory.Exists(Outbox))
                return alerts;
            foreach (var file in Directory.GetFiles(Outbox, "*.eml"))
            {
                string subject;
                try
                {
                    subject = MimeKit.MimeMessage.Load(file).Subject ?? "";
                }
                catch (IOException)
                {
                    continue; // replaced while read: counted on the next look
                }
                if (LeadMarker().Match(subject) is { Success: true } m)
                    alerts[m.Value] = alerts.GetValueOrDefault(m.Value) + 1;
            }
            return alerts;
        }

        private int Files() => Directory.Exists(Outbox) ? Directory.GetFiles(Outbox, "*.eml").Length : 0;

        public async Task<int> ReportAsync(int posted, string note)
        {
            var applied = await AppliedAsync();
            var forms = applied.Where(r => r.Type == "form-submission").GroupBy(r => r.Lead).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var writes = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var host in _hosts)
            {
                foreach (Match m in WrittenLine().Matches(File.Exists(host.Log) ? await File.ReadAllTextAsync(host.Log) : ""))
                    writes[m.Groups[1].Value] = writes.GetValueOrDefault(m.Groups[1].Value) + 1;
            }
            var alerts = AlertsByLead();
            var files = Files();
            var twice = writes.Count(w => w.Value > 1);
            Console.WriteLine();
            Console.WriteLine("| check | result |");
            Console.WriteLine("| --- | --- |");
            Console.WriteLine(string.Create(Inv, $"| demo requests accepted / applied | {posted} / {forms.Count} leads, form submission applied at most {(forms.Count == 0 ? 0 : forms.Values.Max())} time(s) per lead; {applied.Count} applied events in all (each lead's form and what it caused) |"));
            Console.WriteLine($"| applied events by type | {string.Join(", ", applied.GroupBy(r => r.Type).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"))} |");
            Console.WriteLine(string.Create(Inv, $"| sales alerts in the outbox | {alerts.Count} leads, at most {(alerts.Count == 0 ? 0 : alerts.Values.Max())} per lead |"));
            Console.WriteLine(string.Create(Inv, $"| e-mails (.eml, one file per message id) / sends logged | {files} / {writes.Values.Sum()} for {writes.Count} message ids; ids sent more than once: {twice} |"));
            var ok = forms.Count == posted && forms.Values.All(n => n == 1) && alerts.Count == posted && alerts.Values.All(n => n == 1)
                && writes.Count == files && twice == 0;
            Console.WriteLine(ok ? $"PASS: every event applied once, every e-mail sent once{note}" : $"FAIL{note}");
            return ok ? 0 : 1;
        }

        [GeneratedRegex(@"F[0-9a-f]{8}x[0-9]+\b")]
        private partial Regex LeadMarker();

        // The formatted line only: the file logger also appends the template ("{MessageId}") among the structured values.
        [GeneratedRegex(@"(?m)^Information \S+: E-mail (\S+) for lead \S+ written to the outbox folder")]
        private static partial Regex WrittenLine();
    }

    private sealed class Host(Process process, int port, string log)
    {
        public int Port => port;
        public string Log => log;

        public async Task WaitReadyAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < deadline)
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"The local host exited ({process.ExitCode}); see {log}.");
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException)
                {
                    await Task.Delay(200);
                }
            }
            throw new TimeoutException($"The local host did not listen on {port}; see {log}.");
        }

        /// <summary>SIGKILL: no shutdown, no flush, as a crashed or evicted instance.</summary>
        public void Kill()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
        }

        public int TimerRuns() => File.Exists(log) ? Regex.Count(File.ReadAllText(log), "Executing 'SendNurture'") : 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set (tests/load/faults.sh sets it).");

    private static int Number(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, Inv, out var value) ? value : fallback;
}
