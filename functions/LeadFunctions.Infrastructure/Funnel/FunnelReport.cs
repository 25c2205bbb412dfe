using System.Globalization;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Funnel;

public enum FunnelPeriod
{
    Day,
    Week,
    Month,
}

/// <summary>A validated report request: the UTC days [<see cref="From"/>, <see cref="To"/>) grouped by <see cref="Period"/>.</summary>
public sealed record FunnelQuery(DateOnly From, DateOnly To, FunnelPeriod Period);

/// <summary>Why a request was refused, naming the query parameter.</summary>
public sealed record FunnelQueryError(string Field, string Message);

public sealed record FunnelReportResult(
    string From,
    string To,
    string Period,
    IReadOnlyList<FunnelStageView> Stages,
    IReadOnlyList<FunnelPeriodView> Periods,
    FunnelSlaView Sla);

/// <param name="Now">Leads in the stage now, whatever the range.</param>
/// <param name="Entries">Entries into the stage on the days of the range.</param>
/// <param name="ConversionToNext">Of those entries, the share that has since moved on to a later stage; null when none entered or for the last stage.</param>
/// <param name="MedianHoursInStage">Of the leads that left the stage in the range, the median time they had spent in it (upper bound of its bucket).</param>
public sealed record FunnelStageView(string Stage, long Now, long Entries, double? ConversionToNext, double? MedianHoursInStage, double? P90HoursInStage);

public sealed record FunnelPeriodView(string Start, IReadOnlyDictionary<string, long> Entries);

/// <param name="SqlsPastSla">SQLs now whose SLA deadline has passed with nobody in sales acting on them.</param>
/// <param name="FirstActions">First sales actions on an SQL (accept, reject, recycle, advance) taken in the range.</param>
public sealed record FunnelSlaView(long SqlsPastSla, double? MedianMinutesToFirstAction, double? P90MinutesToFirstAction, long FirstActions);

/// <summary>
/// The funnel report from the counters (<see cref="FunnelRows"/>): per shard three range queries (current counts, the range's day
/// rows, the open SQLs older than the SLA deadline), whatever the number of leads. See docs/funnel.md for what each number means.
/// </summary>
public sealed class FunnelReport(FunnelCountersTable table, IOptions<FunnelOptions> options, IOptions<SalesAlertOptions> alertOptions, TimeProvider time)
{
    public const int MaxDays = 366;
    public const int DefaultDays = 30;
    private const string DateFormat = "yyyy-MM-dd";
    private static readonly DateOnly LatestEnd = new(9999, 11, 30);

    private static readonly LifecycleStage[] Stages = Enum.GetValues<LifecycleStage>().Order().ToArray();

    /// <summary>Checks the query parameters; without <c>to</c> the range ends after today (UTC), without <c>from</c> it covers 30 days.</summary>
    public FunnelQuery Parse(string? from, string? to, string? period, out FunnelQueryError? error)
    {
        error = Check(from, to, period, out var query);
        return query;
    }

    private FunnelQueryError? Check(string? from, string? to, string? period, out FunnelQuery query)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        query = new FunnelQuery(today.AddDays(1 - DefaultDays), today.AddDays(1), FunnelPeriod.Day);
        var end = query.To;
        if (!string.IsNullOrEmpty(to) && !DateOnly.TryParseExact(to, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out end))
            return new("to", "to must be a date as yyyy-MM-dd (the first day after the range, UTC).");
        var start = end.DayNumber >= DefaultDays ? end.AddDays(-DefaultDays) : DateOnly.MinValue;
        if (!string.IsNullOrEmpty(from) && !DateOnly.TryParseExact(from, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out start))
            return new("from", "from must be a date as yyyy-MM-dd (the first day of the range, UTC).");
        var grouping = FunnelPeriod.Day;
        if (!string.IsNullOrEmpty(period) && !TryParsePeriod(period, out grouping))
            return new("period", "period must be day, week or month.");
        if (start >= end)
            return new("to", "to must be later than from.");
        // The last period must be able to end: a month from 9999-12-01 is past the calendar.
        if (end > LatestEnd)
            return new("to", $"to must be at most {LatestEnd.ToString(DateFormat, CultureInfo.InvariantCulture)}.");
        if (end.DayNumber - start.DayNumber > MaxDays)
            return new("to", $"The range may cover at most {MaxDays} days.");
        query = new FunnelQuery(start, end, grouping);
        return null;
    }

    public async Task<FunnelReportResult> BuildAsync(FunnelQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var now = time.GetUtcNow();
        var pastSlaBefore = now - alertOptions.Value.GetLadder().Deadline;
        var shards = await Task.WhenAll(Enumerable.Range(0, options.Value.Shards)
            .Select(shard => ReadShardAsync(FunnelRows.Partition(shard), query, pastSlaBefore, cancellationToken)));

        var totals = new Totals();
        foreach (var shard in shards)
            totals.Add(shard);

        var periodStarts = PeriodStarts(query).ToList();
        var stages = Stages.Select(stage =>
        {
            var entries = totals.Entries.GetValueOrDefault(stage);
            double? conversion = stage == Stages[^1] || entries == 0 ? null : Math.Round((double)totals.Conversions.GetValueOrDefault(stage) / entries, 4);
            var histogram = totals.TimeInStage.GetValueOrDefault(stage) ?? [];
            return new FunnelStageView(StageName(stage), Math.Max(0, totals.Now.GetValueOrDefault(stage)), entries, conversion,
                Hours(FunnelBuckets.Percentile(histogram, 0.5)), Hours(FunnelBuckets.Percentile(histogram, 0.9)));
        }).ToList();
        var periods = periodStarts.Select((start, i) =>
        {
            var end = i + 1 < periodStarts.Count ? periodStarts[i + 1] : query.To;
            var entries = Stages.ToDictionary(StageName, stage => totals.EntriesByDay
                .Where(d => d.Key >= start && d.Key < end)
                .Sum(d => d.Value.GetValueOrDefault(stage)), StringComparer.Ordinal);
            return new FunnelPeriodView(start.ToString(DateFormat, CultureInfo.InvariantCulture), entries);
        }).ToList();
        var sla = new FunnelSlaView(
            Math.Max(0, totals.OpenSqlsPastSla),
            Minutes(FunnelBuckets.Percentile(totals.FirstAction, 0.5)),
            Minutes(FunnelBuckets.Percentile(totals.FirstAction, 0.9)),
            totals.FirstAction.Values.Sum());
        return new FunnelReportResult(
            query.From.ToString(DateFormat, CultureInfo.InvariantCulture),
            query.To.ToString(DateFormat, CultureInfo.InvariantCulture),
            query.Period.ToString().ToLowerInvariant(),
            stages, periods, sla);
    }

    public static string StageName(LifecycleStage stage) => stage switch
    {
        LifecycleStage.Mql => "MQL",
        LifecycleStage.Sql => "SQL",
        _ => stage.ToString(),
    };

    private static bool TryParsePeriod(string text, out FunnelPeriod period)
    {
        period = text switch { "day" => FunnelPeriod.Day, "week" => FunnelPeriod.Week, "month" => FunnelPeriod.Month, _ => (FunnelPeriod)(-1) };
        return Enum.IsDefined(period);
    }

    /// <summary>The first period starts at <c>from</c>; the next ones on each day, Monday (ISO weeks) or first of the month.</summary>
    private static IEnumerable<DateOnly> PeriodStarts(FunnelQuery query)
    {
        for (var start = query.From; start < query.To; start = Next(start, query.Period))
            yield return start;

        static DateOnly Next(DateOnly day, FunnelPeriod period) => period switch
        {
            FunnelPeriod.Day => day.AddDays(1),
            FunnelPeriod.Week => day.AddDays(DaysToNextMonday(day)),
            _ => new DateOnly(day.Year, day.Month, 1).AddMonths(1),
        };

        static int DaysToNextMonday(DateOnly day) => ((int)DayOfWeek.Monday - (int)day.DayOfWeek + 7) % 7 is var days and > 0 ? days : 7;
    }

    private static double? Hours(double? minutes) => minutes is { } m ? Math.Round(m / 60, 2) : null;

    private static double? Minutes(double? minutes) => minutes is { } m ? Math.Round(m, 1) : null;

    private async Task<List<TableEntity>> ReadShardAsync(string partition, FunnelQuery query, DateTimeOffset pastSlaBefore, CancellationToken cancellationToken)
    {
        var fromDay = FunnelRows.DayPrefix + query.From.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var toDay = FunnelRows.DayPrefix + query.To.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        // An SQL entered in minute M is surely past its deadline when M + 1 minute <= now - deadline: every key below the cutoff's minute.
        var slaTo = FunnelRows.Sla(pastSlaBefore);
        string[] filters =
        [
            TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {FunnelRows.NowPrefix} and RowKey lt {"now}"}"),
            TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {fromDay} and RowKey lt {toDay}"),
            TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {FunnelRows.SlaPrefix} and RowKey lt {slaTo}"),
        ];
        var rows = new List<TableEntity>();
        foreach (var filter in filters)
        {
            await foreach (var row in table.Client.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
                rows.Add(row);
        }
        return rows;
    }

    private sealed class Totals
    {
        public Dictionary<LifecycleStage, long> Now { get; } = [];
        public Dictionary<LifecycleStage, long> Entries { get; } = [];
        public Dictionary<LifecycleStage, long> Conversions { get; } = [];
        public Dictionary<DateOnly, Dictionary<LifecycleStage, long>> EntriesByDay { get; } = [];
        public Dictionary<LifecycleStage, Dictionary<int, long>> TimeInStage { get; } = [];
        public Dictionary<int, long> FirstAction { get; } = [];
        public long OpenSqlsPastSla { get; private set; }

        public void Add(IEnumerable<TableEntity> rows)
        {
            foreach (var row in rows)
            {
                var key = row.RowKey;
                if (key.StartsWith(FunnelRows.NowPrefix, StringComparison.Ordinal))
                {
                    if (ParseStage(key[FunnelRows.NowPrefix.Length..]) is { } stage)
                        Now[stage] = Now.GetValueOrDefault(stage) + (row.GetInt64(FunnelRows.Count) ?? 0);
                }
                else if (key.StartsWith(FunnelRows.SlaPrefix, StringComparison.Ordinal))
                    OpenSqlsPastSla += row.GetInt64(FunnelRows.Count) ?? 0;
                else if (key.StartsWith(FunnelRows.DayPrefix, StringComparison.Ordinal))
                    AddDay(row);
            }
        }

        private void AddDay(TableEntity row)
        {
            // d|yyyyMMdd|c, d|yyyyMMdd|h{stage}, d|yyyyMMdd|fa
            var parts = row.RowKey.Split('|');
            if (parts.Length != 3 || !DateOnly.TryParseExact(parts[1], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                return;
            var kind = parts[2];
            if (kind == "c")
            {
                var byDay = EntriesByDay.TryGetValue(day, out var found) ? found : EntriesByDay[day] = [];
                foreach (var stage in Stages)
                {
                    var entries = row.GetInt64(FunnelRows.Entries(stage)) ?? 0;
                    byDay[stage] = byDay.GetValueOrDefault(stage) + entries;
                    Entries[stage] = Entries.GetValueOrDefault(stage) + entries;
                    Conversions[stage] = Conversions.GetValueOrDefault(stage) + (row.GetInt64(FunnelRows.Conversions(stage)) ?? 0);
                }
            }
            else if (kind == "fa")
                AddBuckets(FirstAction, row);
            else if (kind.StartsWith('h') && ParseStage(kind[1..]) is { } stage)
                AddBuckets(TimeInStage.TryGetValue(stage, out var found) ? found : TimeInStage[stage] = [], row);
        }

        private static void AddBuckets(Dictionary<int, long> histogram, TableEntity row)
        {
            foreach (var (name, value) in row)
            {
                if (FunnelBuckets.TryParseProperty(name, out var bucket) && value is long count)
                    histogram[bucket] = histogram.GetValueOrDefault(bucket) + count;
            }
        }

        private static LifecycleStage? ParseStage(string key) =>
            int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && Enum.IsDefined((LifecycleStage)value) ? (LifecycleStage)value : null;
    }
}
