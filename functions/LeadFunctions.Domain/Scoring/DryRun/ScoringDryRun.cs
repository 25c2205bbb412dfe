using System.Globalization;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;

namespace LeadFunctions.Domain.Scoring.DryRun;

/// <summary>
/// Replays stored events through the current and a proposed model and compares the two, writing nothing.
/// <para>
/// Each lead starts from a fresh <see cref="LeadScoreState"/> and every event goes through <see cref="ScoringEngine.Apply"/>
/// in the order the processor applied it, with the processor's "now" (the applied-event row's AppliedAt); at the end both
/// states are read at <c>asOf</c> with the same decay the lead directory applies on read. Both sides are replays of the
/// same events, so a difference is the model's alone. One lead's history is in memory at a time; totals are counters and
/// the listed leads are capped at <see cref="ListLimit"/>.
/// </para>
/// </summary>
public sealed class ScoringDryRun(ScoringModel current, ScoringModel proposed, IReadOnlyList<UnreachableRule>? unreachable = null)
{
    /// <summary>How many leads each list (stage changes, MQL/SQL in and out) names at most; counts are always complete.</summary>
    public int ListLimit { get; init; } = 1_000;

    /// <summary>Rules named per lead as the ones that made the difference.</summary>
    public const int RulesPerLead = 3;

    /// <summary>Engagement score bands, lower bounds; fixed so reports of different runs compare.</summary>
    public static readonly IReadOnlyList<int> ScoreBands = [0, 10, 25, 50, 75, 100, 150];

    private readonly ScoringEngine _current = new(current);
    private readonly ScoringEngine _proposed = new(proposed);

    public async Task<DryRunReport> RunAsync(IReplaySource source, ReplayFilter filter, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(filter);
        var totals = new Totals(current, proposed);
        var before = new Replay(_current);
        var after = new Replay(_proposed);

        await foreach (var lead in source.ReadAsync(filter, cancellationToken).ConfigureAwait(false))
        {
            if (!filter.Keeps(lead))
                continue;
            if (filter.MaxLeads is { } max && totals.Leads >= max)
                break;
            before.Run(lead, asOf);
            after.Run(lead, asOf);
            totals.Add(lead, before, after, ListLimit);
        }

        return totals.ToReport(filter, asOf, ListLimit, unreachable ?? []);
    }

    /// <summary>One model's replay of one lead, reused between leads so a long run allocates little.</summary>
    private sealed class Replay(ScoringEngine engine)
    {
        private readonly ScoringOutcome _outcome = new();
        public Dictionary<string, double> RulePoints { get; } = new(StringComparer.Ordinal);
        public HashSet<string> MatchedRules { get; } = new(StringComparer.Ordinal);
        public List<DateTimeOffset> SqlEntries { get; } = [];
        public LeadScoreState State { get; private set; } = new() { LeadId = "" };
        public double Score { get; private set; }

        /// <summary>The stage as the processor would have stored it: before the decay a read applies at asOf.</summary>
        public LifecycleStage? StageAtLastEvent { get; private set; }
        public ScoringModel Model => engine.Model;

        public void Run(ReplayLead lead, DateTimeOffset asOf)
        {
            RulePoints.Clear();
            SqlEntries.Clear();
            State = new LeadScoreState { LeadId = lead.LeadId };
            foreach (var stored in lead.Events)
            {
                engine.Apply(State, stored.Event, stored.AppliedAt, _outcome);
                foreach (var award in _outcome.Awards)
                {
                    if (award.RuleId == LedgerRules.ProbableBot)
                        continue;
                    MatchedRules.Add(award.RuleId);
                    RulePoints[award.RuleId] = RulePoints.GetValueOrDefault(award.RuleId) + award.Points;
                }
                foreach (var change in _outcome.Transitions)
                {
                    if (change.To == LifecycleStage.Sql)
                        SqlEntries.Add(stored.Event.OccurredAt);
                }
            }
            StageAtLastEvent = State.Stage;
            if (State.Stage is not null)
                LifecycleMachine.ApplyDecay(State, engine.Model, asOf, _outcome);
            Score = Math.Round(State.EngagementAt(asOf, engine.Model.HalfLife), 1, MidpointRounding.AwayFromZero);
            AsOf = asOf;
        }

        private DateTimeOffset AsOf { get; set; }

        /// <summary>A named score's value at asOf, rounded as <see cref="Score"/> is; 0 for one the lead never earned (or the model lacks).</summary>
        public double NamedScore(string name) => State.Scores.TryGetValue(name, out var score)
            ? Math.Round(score.ValueAt(AsOf), 1, MidpointRounding.AwayFromZero)
            : 0;

        public string StageName => State.Stage?.ToString() ?? "None";
    }

    private sealed class Totals(ScoringModel current, ScoringModel proposed)
    {
        public long Leads;
        private long _events, _withoutJson, _mismatches, _changing;
        private long _mqlIn, _mqlOut, _sqlIn, _sqlOut;
        private bool _truncated;
        private readonly SortedDictionary<string, long> _moves = new(StringComparer.Ordinal);
        private readonly List<LeadChange> _changes = [], _mqlEntering = [], _mqlLeaving = [], _sqlEntering = [], _sqlLeaving = [];
        private readonly long[] _scoresBefore = new long[ScoreBands.Count], _scoresAfter = new long[ScoreBands.Count];
        private readonly SortedDictionary<string, long> _gradesBefore = new(StringComparer.Ordinal), _gradesAfter = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _stagesBefore = new(StringComparer.Ordinal), _stagesAfter = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, (long Before, long After)> _weeks = new(StringComparer.Ordinal);
        private HashSet<string>? _matched;
        private readonly NamedScoreTotals[] _named = NamedScoreTotals.For(current, proposed);

        public void Add(ReplayLead lead, Replay before, Replay after, int listLimit)
        {
            Leads++;
            _events += lead.Events.Count;
            _withoutJson += lead.EventsWithoutJson;
            _matched = after.MatchedRules;
            if (lead.StoredStage is { } stored && before.StageAtLastEvent is { } replayed && stored != replayed)
                _mismatches++;

            _scoresBefore[Band(before.Score)]++;
            _scoresAfter[Band(after.Score)]++;
            Increment(_gradesBefore, before.State.FitGrade);
            Increment(_gradesAfter, after.State.FitGrade);
            Increment(_stagesBefore, before.StageName);
            Increment(_stagesAfter, after.StageName);
            foreach (var named in _named)
                named.Add(before.NamedScore(named.Name), after.NamedScore(named.Name));
            foreach (var at in before.SqlEntries)
                AddWeek(at, 1, 0);
            foreach (var at in after.SqlEntries)
                AddWeek(at, 0, 1);

            if (before.State.Stage == after.State.Stage)
                return;
            _changing++;
            Increment(_moves, before.StageName + " to " + after.StageName);
            var change = new Lazy<LeadChange>(() => Describe(lead.LeadId, before, after));
            Keep(_changes, change, listLimit);
            if (after.State.Stage == LifecycleStage.Mql) { _mqlIn++; Keep(_mqlEntering, change, listLimit); }
            if (before.State.Stage == LifecycleStage.Mql) { _mqlOut++; Keep(_mqlLeaving, change, listLimit); }
            if (after.State.Stage == LifecycleStage.Sql) { _sqlIn++; Keep(_sqlEntering, change, listLimit); }
            if (before.State.Stage == LifecycleStage.Sql) { _sqlOut++; Keep(_sqlLeaving, change, listLimit); }
        }

        private void Keep(List<LeadChange> list, Lazy<LeadChange> change, int limit)
        {
            if (list.Count < limit)
                list.Add(change.Value);
            else
                _truncated = true;
        }

        private static LeadChange Describe(string leadId, Replay before, Replay after)
        {
            var rules = before.RulePoints.Keys.Union(after.RulePoints.Keys, StringComparer.Ordinal)
                .Select(id => new RuleDifference(id, Round(before.RulePoints.GetValueOrDefault(id)), Round(after.RulePoints.GetValueOrDefault(id))))
                .Where(d => d.BeforePoints != d.AfterPoints)
                .OrderByDescending(d => Math.Abs(d.AfterPoints - d.BeforePoints))
                .ThenBy(d => d.RuleId, StringComparer.Ordinal)
                .Take(RulesPerLead)
                .ToList();
            return new LeadChange(leadId, before.StageName, after.StageName, before.Score, after.Score,
                before.State.FitGrade, after.State.FitGrade, rules);
        }

        private void AddWeek(DateTimeOffset at, long before, long after)
        {
            var day = at.UtcDateTime;
            var week = string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(day):D4}-W{ISOWeek.GetWeekOfYear(day):D2}");
            var (b, a) = _weeks.GetValueOrDefault(week);
            _weeks[week] = (b + before, a + after);
        }

        public DryRunReport ToReport(ReplayFilter filter, DateTimeOffset asOf, int listLimit, IReadOnlyList<UnreachableRule> unreachable)
        {
            var warnings = new List<DryRunWarning>();
            foreach (var rule in proposed.EngagementRules.OrderBy(r => r.Id, StringComparer.Ordinal))
            {
                if (_matched is null || !_matched.Contains(rule.Id))
                    warnings.Add(new("never-matched", rule.Id, null, $"no replayed event (of {_events.ToString(CultureInfo.InvariantCulture)}) met this rule"));
            }
            warnings.AddRange(unreachable.Select(u => new DryRunWarning("unreachable", u.RuleId, u.Field, u.Reason)));

            return new DryRunReport
            {
                CurrentModelVersion = current.Version,
                ProposedModelVersion = proposed.Version,
                AsOf = asOf,
                Filter = new DryRunFilterView(filter.Stage?.ToString(), filter.FormId, filter.From, filter.To, filter.MaxLeads),
                Leads = Leads,
                Events = _events,
                EventsWithoutJson = _withoutJson,
                StoredStageMismatches = _mismatches,
                LeadsChangingStage = _changing,
                StageMoves = [.. _moves.Select(m => new NamedCount(m.Key, m.Value))],
                Mql = new StageFlow(_mqlIn, _mqlOut, Sorted(_mqlEntering), Sorted(_mqlLeaving)),
                Sql = new StageFlow(_sqlIn, _sqlOut, Sorted(_sqlEntering), Sorted(_sqlLeaving)),
                StageChanges = Sorted(_changes),
                ListLimit = listLimit,
                ListsTruncated = _truncated,
                Before = Distribution(_scoresBefore, _gradesBefore, _gradesAfter, _stagesBefore, _stagesAfter),
                After = Distribution(_scoresAfter, _gradesAfter, _gradesBefore, _stagesAfter, _stagesBefore),
                NewSqlsPerWeek = [.. _weeks.Select(w => new WeeklySqls(w.Key, w.Value.Before, w.Value.After))],
                NamedScores = [.. _named.Select(n => n.ToReport())],
                Warnings = warnings,
            };
        }

        /// <summary>Both sides list the same grade and stage names (zero where one side has none), so they line up.</summary>
        private static Distribution Distribution(long[] scores, SortedDictionary<string, long> grades, SortedDictionary<string, long> otherGrades,
            SortedDictionary<string, long> stages, SortedDictionary<string, long> otherStages) => new(
            [.. scores.Select((count, i) => new NamedCount(BandName(i), count))],
            [.. grades.Keys.Union(otherGrades.Keys).Order(StringComparer.Ordinal).Select(g => new NamedCount(g, grades.GetValueOrDefault(g)))],
            [.. stages.Keys.Union(otherStages.Keys).Order(StringComparer.Ordinal).Select(s => new NamedCount(s, stages.GetValueOrDefault(s)))]);

        private static List<LeadChange> Sorted(List<LeadChange> list) => [.. list.OrderBy(c => c.LeadId, StringComparer.Ordinal)];

        private static void Increment(SortedDictionary<string, long> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

        private static double Round(double value) => Math.Round(value, 1, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// One named score's bands before and after, and its leads against each <c>orScores</c> bar. The names are those of either
    /// model (at most 10 each), by name; a score one model lacks is 0 for every lead on that side.
    /// </summary>
    private sealed class NamedScoreTotals
    {
        private readonly long[] _before = new long[ScoreBands.Count], _after = new long[ScoreBands.Count];
        private readonly BarTotals? _mql, _sql;
        private readonly bool _inCurrent, _inProposed;

        private NamedScoreTotals(string name, NamedScore? current, NamedScore? proposed)
        {
            Name = name;
            _inCurrent = current is not null;
            _inProposed = proposed is not null;
            if (current?.MqlBar is not null || proposed?.MqlBar is not null)
                _mql = new BarTotals(current?.MqlBar, proposed?.MqlBar);
            if (current?.SqlBar is not null || proposed?.SqlBar is not null)
                _sql = new BarTotals(current?.SqlBar, proposed?.SqlBar);
        }

        public string Name { get; }

        public static NamedScoreTotals[] For(ScoringModel current, ScoringModel proposed) =>
            [.. current.Scores.Select(s => s.Name).Union(proposed.Scores.Select(s => s.Name), StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .Select(name => new NamedScoreTotals(name,
                    current.Scores.FirstOrDefault(s => s.Name == name),
                    proposed.Scores.FirstOrDefault(s => s.Name == name)))];

        public void Add(double before, double after)
        {
            _before[Band(before)]++;
            _after[Band(after)]++;
            _mql?.Add(before, after);
            _sql?.Add(before, after);
        }

        public NamedScoreDistribution ToReport() => new(Name, _inCurrent, _inProposed,
            [.. _before.Select((count, i) => new NamedCount(BandName(i), count))],
            [.. _after.Select((count, i) => new NamedCount(BandName(i), count))],
            _mql?.ToReport(), _sql?.ToReport());
    }

    /// <summary>Leads at or above a bar under each model (the current bar before, the proposed one after), and who crosses it.</summary>
    private sealed class BarTotals(double? beforeBar, double? afterBar)
    {
        private long _atOrAboveBefore, _atOrAboveAfter, _rising, _falling;

        public void Add(double before, double after)
        {
            var wasAbove = beforeBar is { } b && before >= b;
            var isAbove = afterBar is { } a && after >= a;
            if (wasAbove)
                _atOrAboveBefore++;
            if (isAbove)
                _atOrAboveAfter++;
            if (isAbove && !wasAbove)
                _rising++;
            if (wasAbove && !isAbove)
                _falling++;
        }

        public ScoreBarCrossing ToReport() => new(beforeBar, afterBar, _atOrAboveBefore, _atOrAboveAfter, _rising, _falling);
    }

    private static int Band(double score)
    {
        for (var i = ScoreBands.Count - 1; i > 0; i--)
        {
            if (score >= ScoreBands[i])
                return i;
        }
        return 0;
    }

    private static string BandName(int i) => i == ScoreBands.Count - 1
        ? string.Create(CultureInfo.InvariantCulture, $"{ScoreBands[i]}+")
        : string.Create(CultureInfo.InvariantCulture, $"{ScoreBands[i]}-{ScoreBands[i + 1] - 1}");
}
