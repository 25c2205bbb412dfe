using System.Globalization;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Lifecycle;

/// <summary>
/// The lifecycle state machine: which stage an event, a score or a sales decision moves a lead to, forward or back.
/// Scoring and decay never move a lead out of a stage sales owns (<see cref="LifecycleStageExtensions.IsOwnedBySales"/>);
/// only a sales decision does. Every move is recorded through <see cref="Move"/>.
/// </summary>
public static class LifecycleMachine
{
    public const string DecayCause = "decay";
    public const string SalesCause = "sales";

    /// <summary>The ledger rule of an accept or reject that arrived after the lead left the SQL episode it was about.</summary>
    public const string IgnoredSalesDecisionRule = "sales-decision-ignored";

    /// <summary>Stores keep times to the millisecond; an SQL time read back is "the same" within this.</summary>
    private static readonly TimeSpan EpisodeTolerance = TimeSpan.FromMilliseconds(1);

    /// <summary>The stage a form's intent or an activity's kind implies, applied only when it moves the lead forward.</summary>
    public static void ApplyEventStage(LeadScoreState state, LeadEvent e, ScoringModel model, DateTimeOffset now, ScoringOutcome outcome)
    {
        LifecycleStage? target = null;
        string? reason = null;
        if (e.Type == LeadEventTypes.FormSubmission && e.Intent is { } intent)
        {
            switch (intent)
            {
                case FormIntent.DemoRequest or FormIntent.QuoteRequest:
                    if (state.Stage is null or < LifecycleStage.Sql)
                        (target, reason) = (LifecycleStage.Sql, $"sales-intent form ({Kebab(intent)}{FormSuffix(e)})");
                    break;
                case FormIntent.NewsletterSignup:
                    if (state.Stage is null)
                        (target, reason) = (LifecycleStage.Subscriber, $"newsletter sign-up{FormSuffix(e)}");
                    break;
                case FormIntent.ContentDownload or FormIntent.EventRegistration:
                    if (state.Stage is null or LifecycleStage.Subscriber)
                        (target, reason) = (LifecycleStage.Lead, $"{Kebab(intent)} form{FormSuffix(e)}");
                    break;
            }
        }
        else if (e.Type is LeadEventTypes.ContentDownload or LeadEventTypes.WebinarRegistration && state.Stage is null or LifecycleStage.Subscriber)
        {
            (target, reason) = (LifecycleStage.Lead, e.Type);
        }

        if (target is null && state.Stage is null)
            (target, reason) = (LifecycleStage.Lead, $"first event ({e.Type})");
        if (target is { } stage)
            Move(state, stage, now, reason!, e.EventId, e.EventId, model, outcome);
    }

    /// <summary>
    /// Demotes an MQL whose engagement has decayed below the MQL bar since it was last scored, dated at the exact instant
    /// the decayed score crossed the bar, so the history reads as if a clock had been watching.
    /// </summary>
    public static void ApplyDecay(LeadScoreState state, ScoringModel model, DateTimeOffset now, ScoringOutcome outcome)
    {
        if (state.Stage != LifecycleStage.Mql)
            return;
        var bar = model.Qualification.Mql.MinEngagement;
        var engagement = state.EngagementAt(now, model.HalfLife);
        if (engagement >= bar)
            return;
        var crossed = Decay.CrossingTime(state.EngagementValue, state.EngagementAnchor, bar, model.HalfLife);
        // With named scores in the MQL bar, the lead stays an MQL while any of them is still at its bar, and leaves when the last
        // one decays below it.
        var orScores = model.Qualification.Mql.OrScores;
        foreach (var scoreBar in orScores)
        {
            if (!state.Scores.TryGetValue(scoreBar.Score, out var score) || score.HalfLifeSeconds <= 0)
                continue;
            if (score.ValueAt(now) >= scoreBar.Min)
                return;
            var scoreCrossed = Decay.CrossingTime(score.Value, score.Anchor, scoreBar.Min, TimeSpan.FromSeconds(score.HalfLifeSeconds));
            if (scoreCrossed > crossed)
                crossed = scoreCrossed;
        }
        if (crossed < state.StageChangedAt)
            crossed = state.StageChangedAt;
        if (crossed > now)
            crossed = now;
        var reason = $"engagement decayed below the MQL bar ({Format(bar)})";
        if (orScores.Count > 0)
            reason += ", and every named score below its bar (" + string.Join(", ", orScores.Select(b => $"{b.Score} {Format(b.Min)}")) + ")";
        Move(state, LifecycleStage.Lead, crossed, reason, DecayCause, null, model, outcome);
    }

    /// <summary>Promotes on engagement and fit; returns an MQL that no longer qualifies to Lead.</summary>
    public static void ApplyQualification(LeadScoreState state, ScoringModel model, DateTimeOffset now, string eventId, ScoringOutcome outcome)
    {
        if (state.Stage is not { } stage || stage.IsOwnedBySales() || stage == LifecycleStage.Sql)
            return;

        var policy = model.Qualification;
        var engagement = state.EngagementAt(now, model.HalfLife);
        var earned = engagement;
        if (state.RequalifyFloorValue != 0)
            earned -= state.RequalifyFloorValue * Decay.Factor(now - state.RequalifyFloorAt, model.HalfLife);

        // The default score is checked first, so a model without named scores reads exactly as before.
        if (Meets(model, policy.Sql, earned, state.FitGrade))
        {
            Move(state, LifecycleStage.Sql, now, QualifiedReason("SQL", policy.Sql, earned, state.FitGrade), eventId, eventId, model, outcome);
        }
        else if (NamedScoreMeeting(model, policy.Sql, state, now, earnedOnly: true) is { } sqlBy)
        {
            Move(state, LifecycleStage.Sql, now, QualifiedReason("SQL", policy.Sql, sqlBy, state.FitGrade), eventId, eventId, model, outcome);
        }
        else if (stage < LifecycleStage.Mql && Meets(model, policy.Mql, earned, state.FitGrade))
        {
            Move(state, LifecycleStage.Mql, now, QualifiedReason("MQL", policy.Mql, earned, state.FitGrade), eventId, eventId, model, outcome);
        }
        else if (stage < LifecycleStage.Mql && NamedScoreMeeting(model, policy.Mql, state, now, earnedOnly: true) is { } mqlBy)
        {
            Move(state, LifecycleStage.Mql, now, QualifiedReason("MQL", policy.Mql, mqlBy, state.FitGrade), eventId, eventId, model, outcome);
        }
        else if (stage == LifecycleStage.Mql && !Meets(model, policy.Mql, engagement, state.FitGrade)
                 && NamedScoreMeeting(model, policy.Mql, state, now, earnedOnly: false) is null)
        {
            var reason = engagement < policy.Mql.MinEngagement
                ? $"engagement {Format(engagement)} fell below the MQL bar ({Format(policy.Mql.MinEngagement)})"
                : $"fit grade {state.FitGrade} is below the MQL minimum ({policy.Mql.MinGrade})";
            if (policy.Mql.OrScores.Count > 0 && engagement < policy.Mql.MinEngagement)
            {
                reason += ", and every named score is below its bar (" + string.Join(", ", policy.Mql.OrScores.Select(b =>
                    $"{b.Score} {Format(state.Scores.TryGetValue(b.Score, out var v) ? v.ValueAt(now) : 0)} < {Format(b.Min)}")) + ")";
            }
            Move(state, LifecycleStage.Lead, now, reason, eventId, eventId, model, outcome);
        }
    }

    /// <summary>
    /// The first named score of <paramref name="bar"/>'s <c>orScores</c> (in model order) at or over its minimum, with the fit grade
    /// also met; null when none is. <paramref name="earnedOnly"/> counts only what was earned since the last sales rejection.
    /// </summary>
    private static (ScoreBar Bar, double Value)? NamedScoreMeeting(
        ScoringModel model, QualificationBar bar, LeadScoreState state, DateTimeOffset now, bool earnedOnly)
    {
        if (bar.OrScores.Count == 0 || state.Scores.Count == 0 || !GradeMeets(model, state.FitGrade, bar.MinGrade))
            return null;
        foreach (var scoreBar in bar.OrScores)
        {
            if (!state.Scores.TryGetValue(scoreBar.Score, out var score))
                continue;
            var value = earnedOnly ? score.EarnedAt(now) : score.ValueAt(now);
            if (value >= scoreBar.Min)
                return (scoreBar, value);
        }
        return null;
    }

    /// <summary>
    /// Accept, reject, recycle (back to MQL or Lead) or advance (Opportunity, Customer, Evangelist), as sales or the CRM decided.
    /// A well-formed decision that is no longer legal when it is applied (the lead moved since it was asked for) changes nothing
    /// and is kept in the ledger as ignored, with the reason: see <see cref="StageMoves"/>.
    /// </summary>
    public static void ApplySalesDecision(LeadScoreState state, LeadEvent e, ScoringModel model, DateTimeOffset now, ScoringOutcome outcome)
    {
        var text = e.Property(LeadEventProperties.Decision);
        var decision = StageActions.Parse(text)
            ?? throw new MalformedLeadEventException($"sales-decision needs decision accept, reject, recycle or advance, not '{text?.Trim().ToLowerInvariant()}'.");
        var actor = e.Property(LeadEventProperties.Actor) is { Length: > 0 } a ? a.Trim() : SalesCause;
        var given = e.Property(LeadEventProperties.Reason) is { Length: > 0 } r ? r.Trim() : null;
        var toText = e.Property(LeadEventProperties.ToStage);
        LifecycleStage? toStage = null;
        if (!string.IsNullOrWhiteSpace(toText))
        {
            toStage = StageMoves.ParseStage(toText)
                ?? throw new MalformedLeadEventException($"sales-decision toStage must be a stage (lead, mql, sql, opportunity, customer or evangelist), not '{toText}'.");
        }
        else if (decision is StageActions.Reject or StageActions.Recycle)
        {
            toStage = LifecycleStage.Lead; // what the first alert links sent: a rejection without a stage returns to Lead
        }
        var authority = string.Equals(e.Property(LeadEventProperties.Source), CrmSource, StringComparison.Ordinal) ? MoveAuthority.Crm : MoveAuthority.Person;

        if (decision is StageActions.Accept or StageActions.Reject && StaleDecision(state, e) is { } stale)
        {
            // Defence in depth behind the links' own check: a decision about an SQL episode the lead has left changes nothing,
            // but is kept in the ledger so the history shows it arrived and why it was ignored.
            outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, IgnoredSalesDecisionRule, 0, now, false, stale));
            return;
        }
        if (StageMoves.Check(state.Stage, decision, toStage, authority) is { } illegal)
        {
            // The endpoint checked this move, but the lead may have moved before the event got here.
            outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, IgnoredSalesDecisionRule, 0, now, false, "sales decision ignored: " + illegal));
            return;
        }

        var by = authority == MoveAuthority.Crm ? "by the CRM" : "by sales";
        switch (decision)
        {
            case StageActions.Accept:
                // Recorded although the stage stays SQL: acceptance stops the SLA clock, and the one who accepted owns the lead.
                Move(state, LifecycleStage.Sql, now, "accepted " + by + Suffix(given), actor, e.EventId, model, outcome, recordUnchanged: true);
                if (LeadOwner.Normalize(e.Property(LeadEventProperties.Actor)) is { } owner)
                    state.Owner = owner;
                break;
            case StageActions.Reject or StageActions.Recycle:
                // Only engagement earned from now counts toward qualifying again, so the points sales just looked at do not re-promote it.
                state.RequalifyFloorValue = state.EngagementAt(now, model.HalfLife);
                state.RequalifyFloorAt = now;
                foreach (var score in state.Scores.Values)
                {
                    score.FloorValue = score.ValueAt(now);
                    score.FloorAt = now;
                }
                Move(state, toStage!.Value, now, (decision == StageActions.Reject ? "rejected " : "recycled ") + by + Suffix(given),
                    actor, e.EventId, model, outcome, recordUnchanged: true);
                break;
            default:
                Move(state, toStage!.Value, now, "advanced " + by + Suffix(given), actor, e.EventId, model, outcome);
                break;
        }
    }

    /// <summary>The ledger rule of a routing assignment, and of one that arrived after the lead left the SQL episode it was for.</summary>
    public const string SalesAssignmentRule = "sales-assignment";
    public const string IgnoredSalesAssignmentRule = "sales-assignment-ignored";

    /// <summary>The <see cref="LeadEventProperties.Source"/> of a decision the CRM sent: judged as <see cref="MoveAuthority.Crm"/>.</summary>
    public const string CrmSource = "crm";

    /// <summary>
    /// Routing gave the SQL to a rep (the alert, or a re-route of the SLA ladder). It applies only while the lead is still that SQL
    /// episode, unaccepted: an acceptance re-dates the episode, so a late routing event never takes a lead from the one who accepted it.
    /// </summary>
    public static void ApplySalesAssignment(LeadScoreState state, LeadEvent e, DateTimeOffset now, ScoringOutcome outcome)
    {
        var text = e.Property(LeadEventProperties.Owner);
        if (!EmailAddress.TryNormalize(text, out var owner))
            throw new MalformedLeadEventException($"sales-assignment needs {LeadEventProperties.Owner}, the rep's e-mail address.");
        var routedBy = e.Property(LeadEventProperties.RoutedBy) is { Length: > 0 and <= 100 } pool ? pool.Trim() : "routing";
        if (StaleDecision(state, e, "sales assignment ignored") is { } stale)
        {
            outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, IgnoredSalesAssignmentRule, 0, now, false, stale));
            return;
        }
        var previous = state.Owner;
        state.Owner = owner;
        outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, SalesAssignmentRule, 0, now, false,
            previous is null || previous == owner ? $"assigned to {owner} by {routedBy}" : $"re-assigned from {previous} to {owner} by {routedBy}"));
    }

    /// <summary>Why an accept or reject no longer applies, or null: it must be about the lead's current SQL episode.</summary>
    private static string? StaleDecision(LeadScoreState state, LeadEvent e, string ignored = "sales decision ignored")
    {
        var text = e.Property(LeadEventProperties.SqlEpisode);
        DateTimeOffset? episode = null;
        if (!string.IsNullOrEmpty(text))
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed))
                throw new MalformedLeadEventException($"{e.Type} {LeadEventProperties.SqlEpisode} must be an ISO 8601 time, not '{text}'.");
            episode = parsed;
        }
        var about = episode is { } at ? $"the SQL of {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)}" : "an SQL";
        if (state.Stage != LifecycleStage.Sql)
            return $"{ignored}: it is about {about}, but the lead is now {state.Stage?.ToString() ?? "new"}";
        if (episode is { } sqlAt && (state.StageChangedAt - sqlAt).Duration() > EpisodeTolerance)
            return $"{ignored}: it is about {about}, but the lead has been in SQL since {state.StageChangedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)}";
        return null;
    }

    public static bool GradeMeets(ScoringModel model, string grade, string minimum)
    {
        var have = IndexOf(model, grade);
        var need = IndexOf(model, minimum);
        return have >= 0 && need >= 0 && have <= need;
    }

    private static int IndexOf(ScoringModel model, string grade)
    {
        for (var i = 0; i < model.Grades.Count; i++)
        {
            if (string.Equals(model.Grades[i].Grade, grade, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }

    private static bool Meets(ScoringModel model, QualificationBar bar, double engagement, string grade) =>
        engagement >= bar.MinEngagement && GradeMeets(model, grade, bar.MinGrade);

    private static void Move(
        LeadScoreState state, LifecycleStage to, DateTimeOffset at, string reason, string causedBy, string? eventId,
        ScoringModel model, ScoringOutcome outcome, bool recordUnchanged = false)
    {
        if (state.Stage == to && !recordUnchanged)
            return;
        outcome.Transitions.Add(new StageChange(at, state.Stage, to, reason, causedBy, model.Version, eventId));
        state.Stage = to;
        state.StageChangedAt = at;
    }

    private static string QualifiedReason(string name, QualificationBar bar, double engagement, string grade) =>
        $"{name}: engagement {Format(engagement)} >= {Format(bar.MinEngagement)} and fit grade {grade} >= {bar.MinGrade}";

    private static string QualifiedReason(string name, QualificationBar bar, (ScoreBar Bar, double Value) by, string grade) =>
        $"{name}: score {by.Bar.Score} {Format(by.Value)} >= {Format(by.Bar.Min)} and fit grade {grade} >= {bar.MinGrade}";

    private static string Suffix(string? reason) => reason is null ? "" : ": " + reason;

    private static string FormSuffix(LeadEvent e) => e.FormId is { Length: > 0 } id ? ", form " + id : "";

    private static string Kebab(FormIntent intent) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(intent.ToString());

    internal static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
