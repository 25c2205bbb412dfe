using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Nurture;

public enum FollowUpVerdict
{
    /// <summary>Do it now.</summary>
    Proceed,
    /// <summary>Not yet: look again at <see cref="FollowUpDecision.RetryAt"/>.</summary>
    Wait,
    /// <summary>Never: the lead left the situation the work was scheduled for.</summary>
    Drop,
}

public sealed record FollowUpDecision(FollowUpVerdict Verdict, string Reason, DateTimeOffset? RetryAt = null)
{
    /// <summary>The wait is long: move the reminder to <see cref="RetryAt"/> rather than looking at it again every run.</summary>
    public bool Reschedule { get; init; }

    public static FollowUpDecision Proceed(string reason = "eligible") => new(FollowUpVerdict.Proceed, reason);
    public static FollowUpDecision Wait(string reason, DateTimeOffset retryAt) => new(FollowUpVerdict.Wait, reason, retryAt);
    public static FollowUpDecision WaitUntil(string reason, DateTimeOffset retryAt) => new(FollowUpVerdict.Wait, reason, retryAt) { Reschedule = true };
    public static FollowUpDecision Drop(string reason) => new(FollowUpVerdict.Drop, reason);
}

/// <summary>
/// The pure rules of nurture: when a step is due, whether a lead may still receive it, and the weekly frequency cap.
/// Everything scheduled at a stage change re-checks the lead here when it runs, because the change may never have been committed.
/// </summary>
public sealed class NurturePlanner(TimeProvider time)
{
    public static readonly TimeSpan CapWindow = TimeSpan.FromDays(7);

    /// <summary>How long a double opt-in request waits for its link unless configured otherwise (<c>Nurture:ConfirmationValidDays</c>).</summary>
    public static readonly TimeSpan DefaultConfirmationValidFor = TimeSpan.FromDays(7);

    /// <summary>How soon a reminder that is only waiting for a commit is looked at again.</summary>
    private static readonly TimeSpan CommitPoll = TimeSpan.FromSeconds(30);

    /// <summary>Stores may keep times to the millisecond; a stage change time read back is "the same" within this.</summary>
    public static readonly TimeSpan StoreTolerance = TimeSpan.FromMilliseconds(1);

    /// <summary>True when the lead's current stage was entered after <paramref name="transitionAt"/>: the lead has moved on since.</summary>
    public static bool ChangedSince(LeadSummary lead, DateTimeOffset transitionAt) => lead.StageChangedAt > transitionAt + StoreTolerance;

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>When a step falls due: its delay after enrolment, or after the previous step was actually sent.</summary>
    public static DateTimeOffset DueAt(NurtureStep step, DateTimeOffset enrolledAt, DateTimeOffset? previousSentAt) =>
        step.After == StepAnchor.Enrolment || previousSentAt is null
            ? enrolledAt + step.Delay
            : previousSentAt.Value + step.Delay;

    public bool IsDue(DateTimeOffset dueAt) => dueAt <= Now;

    /// <summary>
    /// Whether the stage change that scheduled this work is visible on the lead. The observer runs before the lead's commit,
    /// so for a short while (<paramref name="commitGrace"/>) an older lead means "not committed yet"; after that it means "never committed".
    /// </summary>
    public FollowUpDecision CheckTransitionCommitted(LeadSummary? lead, DateTimeOffset transitionAt, TimeSpan commitGrace)
    {
        if (lead is not null && lead.StageChangedAt >= transitionAt - StoreTolerance)
            return FollowUpDecision.Proceed("transition committed");
        var now = Now;
        return now < transitionAt + commitGrace
            ? FollowUpDecision.Wait("the stage change is not committed yet", Max(now, transitionAt) + CommitPoll)
            : FollowUpDecision.Drop(lead is null ? "the lead does not exist" : "the stage change was never committed");
    }

    /// <summary>
    /// May this lead get the next nurture e-mail now? Only an MQL with marketing consent that has not unsubscribed,
    /// and only while fewer than <paramref name="maxPerWeek"/> marketing e-mails went to it in the last 7 days.
    /// <para>
    /// An MQL whose consent is still a pending double opt-in request waits, until the request expires
    /// (<paramref name="confirmationValidFor"/> after it was made) and is dropped then. The confirmation itself schedules the step
    /// again at once, so a reminder due within <paramref name="commitGrace"/> of <paramref name="scheduledFor"/> looks again next run
    /// (that confirmation may still be committing) and an older one is moved to the expiry rather than read every run.
    /// </para>
    /// </summary>
    public FollowUpDecision CheckNurture(
        LeadSummary? lead,
        DateTimeOffset enrolledAt,
        bool suppressed,
        IEnumerable<DateTimeOffset> marketingSends,
        int maxPerWeek,
        TimeSpan commitGrace,
        TimeSpan? confirmationValidFor = null,
        DateTimeOffset? scheduledFor = null)
    {
        var committed = CheckTransitionCommitted(lead, enrolledAt, commitGrace);
        if (committed.Verdict != FollowUpVerdict.Proceed)
            return committed;

        if (suppressed || lead!.Unsubscribed)
            return FollowUpDecision.Drop("unsubscribed");
        if (lead.Stage != LifecycleStage.Mql)
            return FollowUpDecision.Drop($"no longer an MQL (now {lead.Stage})");
        if (!lead.HasMarketingEmailConsent)
        {
            var now = Now;
            if (lead.PendingMarketingEmailRequest is { } pending && now < pending.At + (confirmationValidFor ?? DefaultConfirmationValidFor))
            {
                const string reason = "marketing consent is waiting for its confirmation link";
                return scheduledFor is { } due && now < due + commitGrace
                    ? FollowUpDecision.Wait(reason, now + CommitPoll)
                    : FollowUpDecision.WaitUntil(reason, pending.At + (confirmationValidFor ?? DefaultConfirmationValidFor));
            }
            return FollowUpDecision.Drop("no marketing e-mail consent");
        }

        var capFreesAt = FrequencyCapFreesAt(marketingSends, maxPerWeek);
        return capFreesAt is { } at
            ? FollowUpDecision.WaitUntil($"frequency cap of {maxPerWeek} per week reached", at)
            : FollowUpDecision.Proceed();
    }

    /// <summary>
    /// May a branch decide now? It sends nothing, so only the stage change must be committed, and the lead still an MQL that has not
    /// unsubscribed; consent and the frequency cap are for the e-mail it leads to.
    /// </summary>
    public FollowUpDecision CheckBranch(LeadSummary? lead, DateTimeOffset enrolledAt, bool suppressed, TimeSpan commitGrace)
    {
        var committed = CheckTransitionCommitted(lead, enrolledAt, commitGrace);
        if (committed.Verdict != FollowUpVerdict.Proceed)
            return committed;
        if (suppressed || lead!.Unsubscribed)
            return FollowUpDecision.Drop("unsubscribed");
        if (lead.Stage != LifecycleStage.Mql || ChangedSince(lead, enrolledAt))
            return FollowUpDecision.Drop($"no longer in that MQL episode (now {lead.Stage})");
        return FollowUpDecision.Proceed();
    }

    /// <summary>
    /// May the double opt-in e-mail for the request made at <paramref name="requestedAt"/> go now? Only while the request (or a later
    /// one) is on the lead, the address is not suppressed, consent is not already confirmed, and the latest request has not expired.
    /// How often one address may get it is the outbox's business (one per window).
    /// </summary>
    public FollowUpDecision CheckConfirmation(LeadSummary? lead, DateTimeOffset requestedAt, bool suppressed, TimeSpan validFor, TimeSpan commitGrace)
    {
        var now = Now;
        var visible = lead is not null && lead.Consents.Any(c => c.Purpose == ConsentPurposes.MarketingEmail && c.At >= requestedAt - StoreTolerance);
        if (!visible)
        {
            return now < requestedAt + commitGrace
                ? FollowUpDecision.Wait("the consent request is not committed yet", Max(now, requestedAt) + CommitPoll)
                : FollowUpDecision.Drop(lead is null ? "the lead does not exist" : "the consent request was never committed");
        }
        if (suppressed || lead!.Unsubscribed)
            return FollowUpDecision.Drop("unsubscribed");
        if (lead.HasMarketingEmailConsent)
            return FollowUpDecision.Drop("marketing consent is already confirmed");
        if (lead.PendingMarketingEmailRequest is not { } pending)
            return FollowUpDecision.Drop("no consent request is pending");
        if (now >= pending.At + validFor)
            return FollowUpDecision.Drop("the consent request expired");
        return FollowUpDecision.Proceed();
    }

    /// <summary>Null when another marketing e-mail may go now; otherwise the moment the oldest counted one leaves the 7-day window.</summary>
    public DateTimeOffset? FrequencyCapFreesAt(IEnumerable<DateTimeOffset> marketingSends, int maxPerWeek)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerWeek, 1);
        var now = Now;
        var inWindow = marketingSends.Where(s => s > now - CapWindow && s <= now).Order().ToList();
        if (inWindow.Count < maxPerWeek)
            return null;
        // With k sends in the window, k - max + 1 of them must age out; the (k - max)-th oldest is the last of those.
        return inWindow[inWindow.Count - maxPerWeek] + CapWindow;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
