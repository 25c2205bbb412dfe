using System.Globalization;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Scoring.DryRun;

namespace LeadFunctions.Domain.Scoring;

/// <summary>
/// Re-scores one lead under a published model: its stored events are replayed from a fresh state through the model (exactly as
/// the dry-run does), and the replay's engagement, fit and cap counters replace the lead's. Everything else (stage, profile,
/// consents, owner) stays as stored: history is not rewritten. The change is one ledger row (old score to new, both versions),
/// whose points are the difference at <c>now</c>, so the ledger still sums to the score; then the normal lifecycle rules
/// (decay, qualification) run under the new model, so a lead that now qualifies becomes an MQL (or SQL) the usual way.
/// </summary>
public static class LeadRescore
{
    /// <summary>The ledger rule id of a re-score row.</summary>
    public const string LedgerRule = "model-rescore";

    /// <summary>Event property: the model version to re-score under.</summary>
    public const string TargetVersionProperty = "modelVersion";

    /// <summary>Event property: the re-score job that asked for it.</summary>
    public const string JobProperty = "rescoreJob";

    /// <summary>The deterministic event id: a job that enqueues a lead twice (a crash and rerun) is applied once.</summary>
    public static string EventId(string jobId, string leadId) => $"rescore-{jobId}-{leadId}";

    public static LeadEvent Event(string jobId, string leadId, string targetVersion, DateTimeOffset at) => new()
    {
        EventId = EventId(jobId, leadId),
        Type = LeadEventTypes.ModelRescore,
        OccurredAt = at,
        LeadId = leadId,
        Properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [TargetVersionProperty] = targetVersion,
            [JobProperty] = jobId,
        },
    };

    /// <summary>
    /// Applies the re-score to <paramref name="state"/> (the stored lead) and fills <paramref name="outcome"/> (reset first).
    /// <paramref name="events"/> are the lead's stored events in the order the processor applied them (<see cref="ReplayOrder"/>);
    /// re-score events among them are skipped. Returns how many events were replayed.
    /// </summary>
    /// <param name="previousHalfLife">The half-life the stored engagement decays with (the lead row's).</param>
    public static int Apply(LeadScoreState state, LeadEvent rescore, IEnumerable<ReplayEvent> events, ScoringModel target,
        TimeSpan previousHalfLife, DateTimeOffset now, ScoringOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(events);
        var replay = new RescoreReplay(state.LeadId, target);
        foreach (var stored in events)
            replay.Add(stored);
        return Apply(state, rescore, replay, target, previousHalfLife, now, outcome);
    }

    /// <summary>
    /// Folds the lead's stored events, as a source streams them in applied order, into a replay: only the replay's state is
    /// kept, never the events, so a lead with any number of stored events costs the memory of the source's window.
    /// </summary>
    public static async Task<RescoreReplay> FoldAsync(string leadId, ScoringModel target, IAsyncEnumerable<ReplayEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var replay = new RescoreReplay(leadId, target);
        await foreach (var stored in events.WithCancellation(cancellationToken).ConfigureAwait(false))
            replay.Add(stored);
        return replay;
    }

    /// <summary>As <see cref="Apply(LeadScoreState, LeadEvent, IEnumerable{ReplayEvent}, ScoringModel, TimeSpan, DateTimeOffset, ScoringOutcome)"/>, from a finished fold.</summary>
    public static int Apply(LeadScoreState state, LeadEvent rescore, RescoreReplay replayed, ScoringModel target,
        TimeSpan previousHalfLife, DateTimeOffset now, ScoringOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(rescore);
        ArgumentNullException.ThrowIfNull(replayed);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(outcome);
        if (!ReferenceEquals(replayed.Model, target) && replayed.Model.Version != target.Version)
            throw new ArgumentException($"The replay was folded under model {replayed.Model.Version}, not {target.Version}.", nameof(replayed));
        if (replayed.LeadId != state.LeadId)
            throw new ArgumentException($"The replay is of lead {replayed.LeadId}, not {state.LeadId}.", nameof(replayed));

        var replay = replayed.State;
        var replayedCount = replayed.Replayed;
        outcome.Reset();
        var previousVersion = state.ModelVersion;
        var before = state.EngagementAt(now, previousHalfLife);
        var previousGrade = state.FitGrade;
        var after = replayedCount == 0 ? 0 : replay.EngagementAt(now, target.HalfLife);

        state.EngagementValue = after;
        state.EngagementAnchor = now;
        state.Caps.Clear();
        foreach (var (rule, counter) in replay.Caps)
            state.Caps[rule] = counter;
        // The floor of the last rejection, as the new model values it, when the replay saw that same rejection.
        if (replay.RequalifyFloorAt == state.RequalifyFloorAt)
            state.RequalifyFloorValue = replay.RequalifyFloorValue;
        outcome.FitChanged = ScoringEngine.ComputeFit(state, target); // from the stored profile (the bounded one the lead row keeps)
        state.ModelVersion = target.Version;
        state.UpdatedAt = now;
        state.EventCount++;

        var delta = after - before;
        outcome.PointsAwarded = delta;
        outcome.Awards.Add(new LedgerAward(rescore.EventId, rescore.Type, LedgerRule, delta, now, false, string.Create(CultureInfo.InvariantCulture,
            $"re-scored under model {target.Version} (was {(previousVersion.Length == 0 ? "unknown" : previousVersion)}): engagement {before:0.#} -> {after:0.#}, fit {previousGrade} -> {state.FitGrade}, {replayedCount} stored event(s) replayed")));

        RescoreNamed(state, replay, rescore, target, now, outcome);

        LifecycleMachine.ApplyDecay(state, target, now, outcome);
        LifecycleMachine.ApplyQualification(state, target, now, rescore.EventId, outcome);
        return replayedCount;
    }

    /// <summary>
    /// Each named score of the new model takes the replay's value, with one ledger row of the difference attributed to that score,
    /// so every score still equals its ledger; scores the new model no longer defines are dropped, as the engine drops them.
    /// </summary>
    private static void RescoreNamed(LeadScoreState state, LeadScoreState replay, LeadEvent rescore, ScoringModel target, DateTimeOffset now, ScoringOutcome outcome)
    {
        var known = new HashSet<string>(target.Scores.Select(s => s.Name), StringComparer.Ordinal);
        foreach (var name in state.Scores.Keys.Where(n => !known.Contains(n)).ToList())
            state.Scores.Remove(name);
        foreach (var score in target.Scores)
        {
            var before = state.Scores.TryGetValue(score.Name, out var stored) ? stored.ValueAt(now) : 0;
            var after = replay.Scores.TryGetValue(score.Name, out var replayed) ? replayed.ValueAt(now) : 0;
            if (before == 0 && after == 0)
                continue;
            var floorAt = stored?.FloorAt ?? default;
            state.Scores[score.Name] = new NamedScoreState
            {
                Value = after,
                Anchor = now,
                HalfLifeSeconds = score.HalfLife.TotalSeconds,
                // The rejection floor, as the new model values it, when the replay saw that same rejection (as for the default).
                FloorValue = replayed is not null && replayed.FloorAt == floorAt ? replayed.FloorValue : stored?.FloorValue ?? 0,
                FloorAt = floorAt,
            };
            outcome.Awards.Add(new LedgerAward(rescore.EventId, rescore.Type, LedgerRule, after - before, now, false, string.Create(CultureInfo.InvariantCulture,
                $"re-scored under model {target.Version}: score {score.Name} {before:0.#} -> {after:0.#}"), score.Name));
        }
    }
}

/// <summary>
/// One lead's stored events replayed from a fresh state through a target model, one event at a time. It keeps the replay's
/// state (scores, fit, cap counters: bounded by the model) and a count, not the events, so the source decides how many events
/// are ever in memory.
/// </summary>
public sealed class RescoreReplay
{
    private readonly ScoringEngine _engine;
    private readonly ScoringOutcome _scratch = new();

    public RescoreReplay(string leadId, ScoringModel target)
    {
        ArgumentNullException.ThrowIfNull(leadId);
        ArgumentNullException.ThrowIfNull(target);
        _engine = new ScoringEngine(target);
        LeadId = leadId;
        State = new LeadScoreState { LeadId = leadId };
    }

    public string LeadId { get; }
    public ScoringModel Model => _engine.Model;

    /// <summary>The replay's state so far.</summary>
    public LeadScoreState State { get; }

    /// <summary>Events replayed (re-score events are skipped, not counted).</summary>
    public int Replayed { get; private set; }

    /// <summary>Applies the next stored event; events must come in the order the processor applied them.</summary>
    public void Add(ReplayEvent stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (stored.Event.Type == LeadEventTypes.ModelRescore)
            return;
        _engine.Apply(State, stored.Event, stored.AppliedAt, _scratch);
        Replayed++;
    }
}
