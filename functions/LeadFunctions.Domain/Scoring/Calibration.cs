using System.Globalization;
using System.Text;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Scoring;

/// <summary>Where a cohort member's score at entry came from: what the bar itself judged, or a reconstruction from the ledger.</summary>
public enum CalibrationScoreSource
{
    /// <summary>Parsed from the qualification move's reason (the engagement the bar judged, net of any requalify floor).</summary>
    Qualification,

    /// <summary>Rebuilt from the lead's ledger rows up to the moment, decayed to it (a sales-intent form or a move by hand).</summary>
    Ledger,
}

/// <summary>
/// One lead as calibration sees it: when and at which stage it first qualified (MQL, or SQL straight away by a sales-intent
/// form), its engagement and fit grade then, and when it first reached each later stage (null: not reached).
/// </summary>
public sealed record CalibrationLead(
    string LeadId,
    DateTimeOffset EnteredAt,
    LifecycleStage EnteredAs,
    double Score,
    string FitGrade,
    CalibrationScoreSource ScoreSource,
    bool GradeIsCurrent,
    DateTimeOffset? SqlAt,
    DateTimeOffset? OpportunityAt,
    DateTimeOffset? CustomerAt);

/// <summary>What a report is computed with. Bands are lower edges, ascending; the last band is open-ended.</summary>
public sealed record CalibrationSettings(IReadOnlyList<double> BandEdges, int RecentDays, DateTimeOffset AsOf)
{
    public static readonly IReadOnlyList<double> DefaultBandEdges = [0, 20, 40, 60, 80, 100, 150];
    public const int DefaultRecentDays = 90;
    public const int MaxBands = 20;
    public const int MaxRecentDays = 3650;

    /// <summary>A threshold is suggested only from a band with at least this many MQL entries.</summary>
    public int MinLeadsForSuggestion { get; init; } = 30;

    /// <summary>The MQL-to-SQL rate whose 95% lower bound a band must exceed to be suggested as the MQL bar.</summary>
    public double TargetSqlRate { get; init; } = 0.2;

    /// <summary>A drift warning needs this many recent MQL entries in the band (and the historical minimum before the window).</summary>
    public int MinRecentLeads { get; init; } = 10;

    /// <summary>Parses <c>0,20,40</c>: finite, strictly ascending, at most <see cref="MaxBands"/>; null and a message if not.</summary>
    public static IReadOnlyList<double>? ParseBands(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
            return DefaultBandEdges;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > MaxBands)
        {
            error = $"bands takes at most {MaxBands} lower edges.";
            return null;
        }
        var edges = new List<double>(parts.Length);
        foreach (var part in parts)
        {
            if (!double.TryParse(part, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var edge) ||
                !double.IsFinite(edge) || Math.Abs(edge) > 100_000)
            {
                error = "bands must be comma-separated numbers (lower edges of each score band), e.g. 0,20,40,60.";
                return null;
            }
            if (edges.Count > 0 && edge <= edges[^1])
            {
                error = "bands must be strictly ascending.";
                return null;
            }
            edges.Add(edge);
        }
        return edges;
    }
}

/// <summary>A proportion with its Wilson 95% interval; rate and bounds null when there is nothing to divide by.</summary>
public sealed record Conversion(int Count, int Of, double? Rate, double? Low, double? High)
{
    public static Conversion From(int count, int of)
    {
        if (of <= 0)
            return new Conversion(count, of, null, null, null);
        var (low, high) = Wilson.Interval(count, of);
        return new Conversion(count, of, Round((double)count / of), Round(low), Round(high));
    }

    private static double Round(double value) => Math.Round(value, 4, MidpointRounding.AwayFromZero);
}

/// <summary>The Wilson score interval: honest at small n and near 0 or 1, where the normal approximation is not.</summary>
public static class Wilson
{
    /// <summary>The two-sided 95% normal quantile.</summary>
    public const double Z95 = 1.959963984540054;

    public static (double Low, double High) Interval(int successes, int trials, double z = Z95)
    {
        if (trials <= 0)
            throw new ArgumentOutOfRangeException(nameof(trials));
        double n = trials, p = successes / n, z2 = z * z;
        var denominator = 1 + z2 / n;
        var centre = (p + z2 / (2 * n)) / denominator;
        var half = z / denominator * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}

/// <summary>
/// One row of the report: leads that first qualified in this band (or grade); <c>Sql</c> is over those that entered at MQL
/// (a straight-to-SQL lead converts by definition), <c>Opportunity</c> and <c>Customer</c> over all.
/// </summary>
public sealed record CalibrationRow(
    string Label,
    double? MinScore,
    double? MaxScore,
    int Leads,
    int EnteredAtMql,
    int EnteredAtSql,
    Conversion Sql,
    Conversion Opportunity,
    Conversion Customer);

/// <summary>A suggested MQL bar, or null and the reason there is none.</summary>
public sealed record ThresholdSuggestion(double? MqlBar, string? Band, string Reason);

/// <summary>A band whose recent MQL-to-SQL rate lies outside its historical 95% interval.</summary>
public sealed record DriftWarning(string Band, Conversion Historical, Conversion Recent, string Message);

public sealed record CalibrationReport(
    DateTimeOffset AsOf,
    DateTimeOffset RecentFrom,
    int Leads,
    int EnteredAtMql,
    int EnteredAtSql,
    int ScoresFromLedger,
    int GradesCurrent,
    IReadOnlyList<CalibrationRow> Bands,
    IReadOnlyList<CalibrationRow> Grades,
    ThresholdSuggestion Suggestion,
    IReadOnlyList<DriftWarning> Drift);

/// <summary>
/// Conversion by score band and fit grade at the moment a lead first qualified. Pure and deterministic: the same leads and
/// settings give the same report, whatever order the leads come in (see docs/scoring.md, "Calibrating the model").
/// </summary>
public static class CalibrationCalculator
{
    public static CalibrationReport Calculate(IEnumerable<CalibrationLead> leads, CalibrationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(leads);
        ArgumentNullException.ThrowIfNull(settings);
        var edges = settings.BandEdges;
        if (edges.Count == 0)
            throw new ArgumentException("At least one band edge is needed.", nameof(settings));
        var recentFrom = settings.AsOf - TimeSpan.FromDays(settings.RecentDays);

        var bands = new Tally[edges.Count];
        var historical = new Tally[edges.Count];
        var recent = new Tally[edges.Count];
        for (var i = 0; i < edges.Count; i++)
            (bands[i], historical[i], recent[i]) = (new Tally(), new Tally(), new Tally());
        var grades = new SortedDictionary<string, Tally>(StringComparer.Ordinal);
        int total = 0, atMql = 0, atSql = 0, fromLedger = 0, gradesCurrent = 0;

        foreach (var lead in leads)
        {
            if (lead.EnteredAt > settings.AsOf)
                continue;
            total++;
            if (lead.EnteredAs == LifecycleStage.Sql)
                atSql++;
            else
                atMql++;
            if (lead.ScoreSource == CalibrationScoreSource.Ledger)
                fromLedger++;
            if (lead.GradeIsCurrent)
                gradesCurrent++;
            var band = BandOf(edges, lead.Score);
            bands[band].Add(lead, settings.AsOf);
            (lead.EnteredAt >= recentFrom ? recent : historical)[band].Add(lead, settings.AsOf);
            if (!grades.TryGetValue(lead.FitGrade, out var grade))
                grades[lead.FitGrade] = grade = new Tally();
            grade.Add(lead, settings.AsOf);
        }

        var bandRows = new List<CalibrationRow>(edges.Count);
        for (var i = 0; i < edges.Count; i++)
            bandRows.Add(bands[i].Row(Label(edges, i), edges[i], i + 1 < edges.Count ? edges[i + 1] : null));
        var gradeRows = grades.Select(g => g.Value.Row(g.Key, null, null)).ToList();

        return new CalibrationReport(
            settings.AsOf, recentFrom, total, atMql, atSql, fromLedger, gradesCurrent, bandRows, gradeRows,
            Suggest(bandRows, settings), Drifts(edges, historical, recent, settings));
    }

    /// <summary>Scores below the first edge count in the first band: a negative score is still "the lowest band".</summary>
    private static int BandOf(IReadOnlyList<double> edges, double score)
    {
        for (var i = edges.Count - 1; i > 0; i--)
        {
            if (score >= edges[i])
                return i;
        }
        return 0;
    }

    private static string Label(IReadOnlyList<double> edges, int i) =>
        i + 1 < edges.Count ? $"{Format(edges[i])}-{Format(edges[i + 1])}" : $"{Format(edges[i])}+";

    /// <summary>
    /// The lowest band with enough MQL entries whose SQL rate's lower bound exceeds the target, and no band above it with enough
    /// entries that falls short: a bar where the evidence says "above here, sales gets what it asked for".
    /// </summary>
    private static ThresholdSuggestion Suggest(IReadOnlyList<CalibrationRow> bands, CalibrationSettings settings)
    {
        var target = settings.TargetSqlRate.ToString("0.##", CultureInfo.InvariantCulture);
        CalibrationRow? suggested = null;
        for (var i = bands.Count - 1; i >= 0; i--)
        {
            var row = bands[i];
            if (row.Sql.Of < settings.MinLeadsForSuggestion)
                continue;
            if (row.Sql.Low > settings.TargetSqlRate)
                suggested = row;
            else
                break;
        }
        if (suggested is null)
        {
            return new ThresholdSuggestion(null, null,
                $"not enough data: no band has at least {settings.MinLeadsForSuggestion} MQL entries with an SQL-conversion 95% lower bound above {target}");
        }
        return new ThresholdSuggestion(suggested.MinScore, suggested.Label,
            $"from band {suggested.Label} up, every band with at least {settings.MinLeadsForSuggestion} MQL entries converts to SQL with a 95% lower bound above {target} " +
            $"(band {suggested.Label}: {suggested.Sql.Count}/{suggested.Sql.Of}, lower bound {Format(suggested.Sql.Low ?? 0)})");
    }

    private static List<DriftWarning> Drifts(IReadOnlyList<double> edges, Tally[] historical, Tally[] recent, CalibrationSettings settings)
    {
        var warnings = new List<DriftWarning>();
        for (var i = 0; i < edges.Count; i++)
        {
            var before = historical[i].SqlConversion();
            var now = recent[i].SqlConversion();
            if (before.Of < settings.MinLeadsForSuggestion || now.Of < settings.MinRecentLeads)
                continue;
            if (now.Rate < before.Low || now.Rate > before.High)
            {
                var label = Label(edges, i);
                var direction = now.Rate < before.Low ? "below" : "above";
                warnings.Add(new DriftWarning(label, before, now,
                    $"band {label}: recent SQL conversion {Format(now.Rate!.Value)} ({now.Count}/{now.Of}) is {direction} its historical 95% interval " +
                    $"[{Format(before.Low!.Value)}, {Format(before.High!.Value)}] ({before.Count}/{before.Of})"));
            }
        }
        return warnings;
    }

    internal static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private sealed class Tally
    {
        private int _leads, _atMql, _atSql, _sql, _opportunity, _customer;

        public void Add(CalibrationLead lead, DateTimeOffset asOf)
        {
            _leads++;
            if (lead.EnteredAs == LifecycleStage.Sql)
            {
                _atSql++;
            }
            else
            {
                _atMql++;
                if (lead.SqlAt <= asOf)
                    _sql++;
            }
            if (lead.OpportunityAt <= asOf)
                _opportunity++;
            if (lead.CustomerAt <= asOf)
                _customer++;
        }

        public Conversion SqlConversion() => Conversion.From(_sql, _atMql);

        public CalibrationRow Row(string label, double? min, double? max) =>
            new(label, min, max, _leads, _atMql, _atSql, SqlConversion(), Conversion.From(_opportunity, _leads), Conversion.From(_customer, _leads));
    }
}

/// <summary>The report as a plain-text table, for a terminal or an e-mail.</summary>
public static class CalibrationText
{
    public static string Render(CalibrationReport report, bool partial = false)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"Scoring calibration as of {report.AsOf:yyyy-MM-dd HH:mm} UTC{(partial ? " (PARTIAL: not every lead was scanned)" : "")}\n");
        text.Append(c, $"{report.Leads} leads first qualified: {report.EnteredAtMql} at MQL, {report.EnteredAtSql} straight to SQL; ")
            .Append(c, $"{report.ScoresFromLedger} scores rebuilt from the ledger, {report.GradesCurrent} grades as they are now.\n\n");
        Table(text, "Score band", report.Bands);
        text.Append('\n');
        Table(text, "Fit grade", report.Grades);
        text.Append('\n').Append("Suggested MQL bar: ")
            .Append(report.Suggestion.MqlBar is { } bar ? CalibrationCalculator.Format(bar) + " (" + report.Suggestion.Reason + ")" : report.Suggestion.Reason)
            .Append('\n');
        text.Append(c, $"Drift (entries since {report.RecentFrom:yyyy-MM-dd} against before): ");
        if (report.Drift.Count == 0)
            text.Append("none\n");
        else
        {
            text.Append('\n');
            foreach (var warning in report.Drift)
                text.Append("  ").Append(warning.Message).Append('\n');
        }
        return text.ToString();
    }

    private static void Table(StringBuilder text, string title, IReadOnlyList<CalibrationRow> rows)
    {
        text.Append(CultureInfo.InvariantCulture, $"{title,-12} {"leads",6} {"at MQL",6} {"at SQL",6}  {"MQL->SQL",-26} {"opportunity",-26} {"customer",-26}\n");
        foreach (var row in rows)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{row.Label,-12} {row.Leads,6} {row.EnteredAtMql,6} {row.EnteredAtSql,6}  {Cell(row.Sql),-26} {Cell(row.Opportunity),-26} {Cell(row.Customer),-26}\n");
        }
    }

    private static string Cell(Conversion conversion) =>
        conversion.Rate is { } rate
            ? $"{CalibrationCalculator.Format(rate)} [{CalibrationCalculator.Format(conversion.Low!.Value)}-{CalibrationCalculator.Format(conversion.High!.Value)}] {conversion.Count}/{conversion.Of}"
            : $"- {conversion.Count}/{conversion.Of}";
}
