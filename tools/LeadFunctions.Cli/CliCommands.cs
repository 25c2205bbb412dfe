using System.Globalization;
using Azure.Data.Tables;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Cli;

/// <summary>
/// <c>scoring dry-run &lt;proposed.json&gt;</c>: replays every stored lead (or a filtered set) through the proposed model and
/// the current one, prints the summary and optionally writes the JSON report. Exit codes: 0 done, 1 usage or storage error,
/// 2 the proposed model is invalid (the loader's errors, each naming the rule and field, on stderr).
/// </summary>
public sealed class CliCommands(TextWriter stdout, TextWriter stderr, Func<string, string?> environment)
{
    public const int Ok = 0;
    public const int UsageError = 1;
    public const int InvalidModel = 2;

    private const string Usage =
        "usage: scoring dry-run <proposed.json> [--connection <storage connection string> | env LeadStorage] [--table Leads]\n" +
        "       [--stage SQL] [--form <form id>] [--from yyyy-mm-dd] [--to yyyy-mm-dd] [--as-of <instant>] [--current <model.json>]\n" +
        "       [--config <dir with forms.json and content.json>] [--json out.json] [--list <n>]";

    /// <summary>Replaces the table source in tests and the benchmark; null reads the table.</summary>
    public IReplaySource? Source { get; init; }

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is not ["scoring", "dry-run", var proposedPath, .. var rest])
            return Fail(Usage);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < rest.Length; i++)
        {
            if (!rest[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= rest.Length)
                return Fail($"unexpected argument '{rest[i]}'\n{Usage}");
            options[rest[i][2..]] = rest[++i];
        }

        var configDir = options.GetValueOrDefault("config") ?? Path.Combine(AppContext.BaseDirectory, "config");
        ScoringModel proposed;
        try
        {
            proposed = ScoringModelLoader.LoadFile(proposedPath);
        }
        catch (InvalidScoringModelException ex)
        {
            await stderr.WriteLineAsync($"The proposed model '{proposedPath}' is invalid:");
            foreach (var error in ex.Errors)
                await stderr.WriteLineAsync("  " + error);
            return InvalidModel;
        }

        ReplayFilter filter;
        DateTimeOffset asOf;
        int listLimit;
        try
        {
            filter = new ReplayFilter
            {
                Stage = options.TryGetValue("stage", out var stage) ? ParseStage(stage) : null,
                FormId = options.GetValueOrDefault("form"),
                From = options.TryGetValue("from", out var from) ? ParseInstant("from", from) : null,
                To = options.TryGetValue("to", out var to) ? ParseInstant("to", to) : null,
            };
            asOf = options.TryGetValue("as-of", out var a) ? ParseInstant("as-of", a) : DateTimeOffset.UtcNow;
            listLimit = options.TryGetValue("list", out var l) ? int.Parse(l, CultureInfo.InvariantCulture) : 1_000;
        }
        catch (FormatException ex)
        {
            return Fail(ex.Message);
        }

        var current = ScoringModelLoader.LoadFile(options.GetValueOrDefault("current") ?? Path.Combine(configDir, "scoring-model.json"));
        var unreachable = ScoringModelReachability.Check(proposed,
            FormCatalog.Load(Path.Combine(configDir, "forms.json")), ContentCatalogue.Load(Path.Combine(configDir, "content.json")));

        var source = Source;
        if (source is null)
        {
            var connection = options.GetValueOrDefault("connection") ?? environment("LeadStorage");
            if (string.IsNullOrWhiteSpace(connection))
                return Fail("no storage: pass --connection or set LeadStorage");
            source = new TableReplaySource(new TableClient(connection, options.GetValueOrDefault("table") ?? "Leads"));
        }

        DryRunReport report;
        try
        {
            report = await new ScoringDryRun(current, proposed, unreachable) { ListLimit = listLimit }.RunAsync(source, filter, asOf, cancellationToken);
        }
        catch (Azure.RequestFailedException ex)
        {
            return Fail($"storage failed ({ex.Status.ToString(CultureInfo.InvariantCulture)}): {ex.ErrorCode}");
        }

        await stdout.WriteAsync(report.ToText());
        if (options.TryGetValue("json", out var jsonPath))
        {
            await File.WriteAllTextAsync(jsonPath, report.ToJson(), cancellationToken);
            await stdout.WriteLineAsync($"JSON report written to {jsonPath}");
        }
        return Ok;
    }

    private static LifecycleStage ParseStage(string text) =>
        Enum.TryParse<LifecycleStage>(text, ignoreCase: true, out var stage) && Enum.IsDefined(stage)
            ? stage
            : throw new FormatException($"--stage: '{text}' is not a stage (Subscriber, Lead, MQL, SQL, Opportunity, Customer, Evangelist)");

    private static DateTimeOffset ParseInstant(string name, string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new FormatException($"--{name}: '{text}' is not a date (yyyy-mm-dd or an ISO 8601 instant)");

    private int Fail(string message)
    {
        stderr.WriteLine(message);
        return UsageError;
    }
}
