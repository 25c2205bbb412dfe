using System.Globalization;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;

namespace LeadFunctions.Domain.Scoring;

/// <summary>
/// Applies one event to a lead: merges the profile, awards engagement points by rule (with caps), recomputes fit,
/// and moves the lifecycle stage. Pure and deterministic given the state, the event and the time; no storage, no Azure.
/// </summary>
public sealed class ScoringEngine(ScoringModel model)
{
    public ScoringModel Model { get; } = model;

    /// <summary>
    /// Updates <paramref name="state"/> in place and fills <paramref name="outcome"/> (reset first) with the ledger rows and transitions.
    /// Points are dated at the event's time, or at <paramref name="now"/> for an event claiming to come from the future.
    /// </summary>
    public void Apply(LeadScoreState state, LeadEvent e, DateTimeOffset now, ScoringOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(outcome);
        outcome.Reset();

        var at = e.OccurredAt < now ? e.OccurredAt : now;
        if (state.IsNew)
        {
            state.CreatedAt = now;
            state.EngagementAnchor = at;
        }
        state.UpdatedAt = now;
        state.EventCount++;
        if (state.Scores.Count > 0)
            SyncHalfLives(state);
        if (state.Email is null && e.Email is { Length: > 0 } email)
            state.Email = email;
        if (state.OriginForm is null && e.Type == LeadEventTypes.FormSubmission && e.FormId is { Length: > 0 } formId)
        {
            // What brought the lead in, for nurture entry filters: the first form only, so it never changes afterwards.
            state.OriginForm = formId.Length > 100 ? formId[..100] : formId;
            state.OriginIntent = e.Intent?.ToString();
        }

        // A decayed MQL became a Lead before this event arrived, whatever the event does next.
        LifecycleMachine.ApplyDecay(state, Model, now, outcome);

        var profileChanged = MergeProfile(state, e);
        // The browser's zone fills the field only while no form has given one; what a person typed wins over what a browser says.
        if (e.Property(LeadEventProperties.TimeZone) is { } browserZone && !state.Profile.ContainsKey(Nurture.LeadTimeZones.ProfileField) &&
            Nurture.LeadTimeZones.TryFind(browserZone, out _))
        {
            state.Profile[Nurture.LeadTimeZones.ProfileField] = browserZone;
            profileChanged = true;
        }
        MergeConsents(state, e, now, outcome);

        if (IsProbableBot(e))
        {
            var why = e.Property(LeadEventProperties.BotReason);
            outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, LedgerRules.ProbableBot, 0, at, false,
                why is { Length: > 0 } ? "probable bot, not scored: " + why : "probable bot, not scored"));
        }
        else
        {
            Score(state, e, at, outcome);
        }

        if (profileChanged || state.ModelVersion != Model.Version)
            outcome.FitChanged = ComputeFit(state);
        state.ModelVersion = Model.Version;

        if (e.Type == LeadEventTypes.Unsubscribe)
            state.Unsubscribed = true;

        if (e.Type == LeadEventTypes.SalesDecision)
        {
            if (state.Stage is null)
                LifecycleMachine.ApplyEventStage(state, e, Model, now, outcome);
            LifecycleMachine.ApplySalesDecision(state, e, Model, now, outcome);
            return;
        }
        if (e.Type == LeadEventTypes.SalesAssignment)
        {
            if (state.Stage is null)
                LifecycleMachine.ApplyEventStage(state, e, Model, now, outcome);
            LifecycleMachine.ApplySalesAssignment(state, e, now, outcome);
            return;
        }

        LifecycleMachine.ApplyEventStage(state, e, Model, now, outcome);
        LifecycleMachine.ApplyQualification(state, Model, now, e.EventId, outcome);
    }

    private void Score(LeadScoreState state, LeadEvent e, DateTimeOffset at, ScoringOutcome outcome)
    {
        var rules = Model.RulesFor(e.Type);
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            if (!Matches(rule.Match, e))
                continue;

            if (rule.Cap is { } cap && !TryCount(state, rule.Id, cap, at))
            {
                outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, rule.Id, 0, at, true, rule.CapNote));
                continue;
            }

            AddEngagement(state, rule.Points, at);
            outcome.PointsAwarded += rule.Points;
            outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, rule.Id, rule.Points, at, false, null));
        }

        var scores = Model.Scores;
        for (var s = 0; s < scores.Count; s++)
        {
            var score = scores[s];
            var named = score.RulesFor(e.Type);
            for (var i = 0; i < named.Length; i++)
            {
                var rule = named[i];
                if (!Matches(rule.Match, e))
                    continue;
                // Rule ids are unique across the model, so a named score's caps share the lead's cap counters without clashing.
                if (rule.Cap is { } cap && !TryCount(state, rule.Id, cap, at))
                {
                    outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, rule.Id, 0, at, true, rule.CapNote, score.Name));
                    continue;
                }
                AddToScore(state, score, rule.Points, at);
                outcome.Awards.Add(new LedgerAward(e.EventId, e.Type, rule.Id, rule.Points, at, false, null, score.Name));
            }
        }
    }

    /// <summary>The same exact fold as <see cref="AddEngagement"/>, into a named score with its own half-life.</summary>
    private static void AddToScore(LeadScoreState state, NamedScore score, double points, DateTimeOffset at)
    {
        if (!state.Scores.TryGetValue(score.Name, out var value))
        {
            value = new NamedScoreState { Anchor = at, HalfLifeSeconds = score.HalfLife.TotalSeconds };
            state.Scores[score.Name] = value;
        }
        if (at > value.Anchor)
        {
            value.Value = value.Value * Decay.Factor(at - value.Anchor, score.HalfLife) + points;
            value.Anchor = at;
        }
        else
        {
            value.Value += points * Decay.Factor(value.Anchor - at, score.HalfLife);
        }
    }

    /// <summary>A named score decays with the half-life of the model scoring it now, as the default score does.</summary>
    private void SyncHalfLives(LeadScoreState state)
    {
        foreach (var (name, value) in state.Scores)
        {
            if (Model.Score(name) is { } score)
                value.HalfLifeSeconds = score.HalfLife.TotalSeconds;
        }
    }

    /// <summary>
    /// Folds points dated <paramref name="at"/> into the anchored value. The anchor moves forward only, and the fold is
    /// exact in both directions, so the anchored value always equals the decayed sum of every award.
    /// </summary>
    private void AddEngagement(LeadScoreState state, double points, DateTimeOffset at)
    {
        if (at > state.EngagementAnchor)
        {
            state.EngagementValue = state.EngagementValue * Decay.Factor(at - state.EngagementAnchor, Model.HalfLife) + points;
            state.EngagementAnchor = at;
        }
        else
        {
            state.EngagementValue += points * Decay.Factor(state.EngagementAnchor - at, Model.HalfLife);
        }
    }

    internal static bool Matches(RuleMatch match, LeadEvent e)
    {
        if (match.EventType is not null && !string.Equals(match.EventType, e.Type, StringComparison.Ordinal))
            return false;
        if (match.FormId is not null && !string.Equals(match.FormId, e.FormId, StringComparison.OrdinalIgnoreCase))
            return false;
        if (match.FormIntent is { } intent && e.Intent != intent)
            return false;
        if (match.FunnelStage is not null && !string.Equals(match.FunnelStage, e.Property(LeadEventProperties.FunnelStage), StringComparison.OrdinalIgnoreCase))
            return false;
        if (match.Campaign is not null && !string.Equals(match.Campaign, e.Property(LeadEventProperties.Campaign), StringComparison.OrdinalIgnoreCase))
            return false;
        if (match.UrlPattern is not null)
        {
            var url = e.Property(LeadEventProperties.Url) ?? e.Context?.LandingPageUrl;
            if (url is null)
                return false;
            if (match.UrlGlob is not null ? !Glob.IsMatch(url, match.UrlGlob) : !match.Url!.IsMatch(url))
                return false;
        }
        return true;
    }

    private static bool TryCount(LeadScoreState state, string ruleId, RuleCap cap, DateTimeOffset at)
    {
        var period = PeriodOf(cap.Per, at);
        state.Caps.TryGetValue(ruleId, out var counter);
        // An event from an earlier period than the one being counted is counted against the current one: late
        // deliveries must not reopen a spent allowance.
        var count = counter.Count > 0 && period <= counter.Period ? counter.Count : 0;
        if (count >= cap.Count)
            return false;
        state.Caps[ruleId] = new CapCounter(Math.Max(period, counter.Period), count + 1);
        return true;
    }

    internal static long PeriodOf(CapPeriod per, DateTimeOffset at)
    {
        var day = at.UtcDateTime.Date;
        return per switch
        {
            CapPeriod.Day => day.Ticks / TimeSpan.TicksPerDay,
            // ISO weeks start on Monday.
            CapPeriod.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)).Ticks / TimeSpan.TicksPerDay,
            _ => 0,
        };
    }

    private static bool IsProbableBot(LeadEvent e) =>
        e.Type is LeadEventTypes.EmailOpen or LeadEventTypes.EmailClick &&
        string.Equals(e.Property(LeadEventProperties.ProbableBot), "true", StringComparison.OrdinalIgnoreCase);

    private static bool MergeProfile(LeadScoreState state, LeadEvent e)
    {
        if (e.Profile.Count == 0)
            return false;
        var changed = false;
        foreach (var (key, value) in e.Profile)
        {
            // A later submission that leaves a field empty says nothing about it; it never blanks what we know.
            if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(value))
                continue;
            var trimmed = value.Trim();
            if (state.Profile.TryGetValue(key, out var existing) && existing == trimmed)
                continue;
            state.Profile[key] = trimmed;
            changed = true;
        }
        return changed;
    }

    /// <summary>
    /// Records the event's consents. A double opt-in tick is kept as a pending request (and owes a confirmation e-mail unless
    /// consent is already confirmed); only the confirmation link grants it. The list stays bounded (<see cref="ConsentRules.Bound"/>).
    /// </summary>
    private static void MergeConsents(LeadScoreState state, LeadEvent e, DateTimeOffset now, ScoringOutcome outcome)
    {
        foreach (var consent in e.Consents)
        {
            if (state.Consents.Contains(consent))
                continue;
            var alreadyGranted = !state.Unsubscribed && ConsentRules.Current(state.Consents, consent.Purpose)?.Granted == true;
            state.Consents.Add(consent);
            if (consent.Pending)
            {
                if (!alreadyGranted)
                    outcome.ConsentChanges.Add(new ConsentChange(ConsentChangeKind.Requested, consent, e.EventId));
            }
            else if (consent.Purpose == ConsentPurposes.MarketingEmail && consent.Granted && state.Unsubscribed)
            {
                state.Unsubscribed = false;
            }
        }
        if (e.Type == LeadEventTypes.Unsubscribe)
        {
            var withdrawal = new ConsentRecord(ConsentPurposes.MarketingEmail, "unsubscribe", false, e.OccurredAt,
                e.Property(LeadEventProperties.Campaign) ?? ConsentSources.Unsubscribe);
            if (!state.Consents.Contains(withdrawal))
                state.Consents.Add(withdrawal);
        }
        if (e.Type == LeadEventTypes.ConsentConfirmation)
            Confirm(state, e, now, outcome);
        ConsentRules.Bound(state.Consents);
    }

    /// <summary>
    /// The confirmation link grants the latest pending marketing request, dated when it was clicked. Nothing pending (already
    /// confirmed, or withdrawn since the request: an unsubscribe beats an older link) leaves consent as it is.
    /// </summary>
    private static void Confirm(LeadScoreState state, LeadEvent e, DateTimeOffset now, ScoringOutcome outcome)
    {
        var pending = ConsentRules.PendingRequest(state.Consents, ConsentPurposes.MarketingEmail);
        if (pending is null)
            return;
        var confirmedAt = e.OccurredAt < now ? e.OccurredAt : now;
        if (confirmedAt < pending.At)
            confirmedAt = pending.At;
        var confirmed = pending with { Granted = true, Pending = false, ConfirmedAt = confirmedAt, ConfirmedSource = ConsentSources.ConfirmationLink };
        state.Consents[state.Consents.LastIndexOf(pending)] = confirmed;
        state.Unsubscribed = false;
        outcome.ConsentChanges.Add(new ConsentChange(ConsentChangeKind.Confirmed, confirmed, e.EventId));
    }

    private bool ComputeFit(LeadScoreState state) => ComputeFit(state, Model);

    /// <summary>Fit from the lead's profile under <paramref name="model"/>; true when the score or grade changed.</summary>
    internal static bool ComputeFit(LeadScoreState state, ScoringModel model)
    {
        var previousScore = state.FitScore;
        var previousGrade = state.FitGrade;
        state.FitFactors.Clear();
        double score = 0;
        foreach (var rule in model.FitRules)
        {
            if (!rule.Matches(state.Profile))
                continue;
            score += rule.Points;
            state.FitFactors.Add(new FitFactor(rule.Id, rule.Field, state.Profile[rule.Field], rule.Points));
        }
        state.FitScore = score;
        state.FitGrade = model.GradeFor(score);
        return previousScore != score || previousGrade != state.FitGrade;
    }
}
