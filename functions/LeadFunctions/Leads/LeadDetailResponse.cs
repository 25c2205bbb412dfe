using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;

namespace LeadFunctions.Leads;

/// <summary>
/// A lead as <c>GET /api/leads/{id}</c> returns it: the lead's own fields (as <see cref="LeadResponse"/>, plus <c>owner</c> and
/// <c>eventCount</c>), the newest page of its ledger and of its stage history, each with the continuation for the next page, and the
/// latest e-mails sent to it with their human opens and clicks.
/// <para>
/// <c>engagement.score</c> comes from the lead row, decayed to <c>engagement.asOf</c>. It equals the sum of <c>pointsNow</c> over the
/// whole ledger (carried-forward rows included); a page of the ledger is only part of that sum, so don't add up one page and
/// compare. The total number of ledger rows is not given: counting them would cost reading them all. <c>eventCount</c> is the
/// number of events applied to the lead, which the lead row keeps.
/// </para>
/// <c>scores</c> lists the lead's named scores (scoring model <c>scores</c>), each decayed to <c>engagement.asOf</c>; each ledger row's
/// <c>score</c> says which score its points went to (<c>engagement</c> for the default one).
/// <c>unsubscribed</c> and <c>marketingEmailConsent</c> honour the suppression record, as in <see cref="LeadResponse"/>.
/// </summary>
public sealed record LeadDetailResponse(
    string LeadId,
    string Email,
    string Stage,
    DateTimeOffset StageChangedAt,
    string? Owner,
    IReadOnlyDictionary<string, string> Profile,
    EngagementView Engagement,
    FitView Fit,
    string ModelVersion,
    bool Unsubscribed,
    bool MarketingEmailConsent,
    SuppressionView? Suppression,
    IReadOnlyList<ConsentRecord> Consents,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int EventCount,
    PageView<LedgerView> Ledger,
    PageView<StageChangeView> History,
    IReadOnlyList<SentEmailView> Emails,
    IReadOnlyList<NamedScoreView> Scores)
{
    /// <summary>How many of the latest e-mails to the lead the detail lists.</summary>
    public const int MaxEmails = 20;

    /// <summary>The model version every point of the lead was scored by; <c>mixed</c> when events of several versions count.</summary>
    public string? PointsModelVersion { get; init; }

    /// <summary>The version new events are scored with now.</summary>
    public string? ActiveModelVersion { get; init; }

    /// <summary>False while the lead still waits for a re-score under the active version (its points are of another, or mixed).</summary>
    public bool OnActiveModel { get; init; } = true;

    public static LeadDetailResponse From(LeadDetailPage page, Suppression? suppression, IReadOnlyList<SentEmail> emails)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(emails);
        var lead = page.Lead;
        var versions = ModelVersions(page);
        return new LeadDetailResponse(
            lead.LeadId,
            lead.Email,
            LeadResponse.StageName(lead.Stage),
            lead.StageChangedAt,
            lead.Owner,
            lead.Profile,
            new EngagementView(lead.EngagementScore, lead.ScoredAt),
            new FitView(lead.FitScore, lead.FitGrade, lead.FitFactors),
            lead.ModelVersion,
            lead.Unsubscribed || suppression is not null,
            lead.HasMarketingEmailConsent && suppression is null,
            suppression is null ? null : new SuppressionView(suppression.SuppressedAt, suppression.Source),
            lead.Consents,
            lead.CreatedAt,
            lead.UpdatedAt,
            page.EventCount,
            new PageView<LedgerView>([.. page.Ledger.Items.Select(LeadResponse.ToView)], page.Ledger.Continuation),
            new PageView<StageChangeView>([.. page.History.Items.Select(LeadResponse.ToView)], page.History.Continuation),
            [.. emails.Select(e => new SentEmailView(e.MessageId, e.Kind, e.Programme, e.Step, e.Subject, e.SentAt, e.Status, e.HumanOpens, e.HumanClicks))],
            LeadResponse.ScoreViews(lead))
        {
            PointsModelVersion = versions.Points,
            ActiveModelVersion = versions.Active,
            OnActiveModel = versions.OnActive,
        };
    }

    /// <summary>The version the lead's points come from, the active one, and whether they are the same (a reader that knows neither takes the lead's own).</summary>
    public static (string Points, string Active, bool OnActive) ModelVersions(LeadDetailPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var points = page.PointsModelVersion ?? page.Lead.ModelVersion;
        var active = page.ActiveModelVersion ?? page.Lead.ModelVersion;
        return (points, active, points == active);
    }
}

/// <summary>A page of a newest-first list; pass <see cref="Continuation"/> back for the next page (null: this was the last).</summary>
public sealed record PageView<T>(IReadOnlyList<T> Items, string? Continuation);

/// <summary>An e-mail sent to the lead: a nurture step (<see cref="Programme"/>, <see cref="Step"/>) or a consent confirmation.</summary>
public sealed record SentEmailView(string MessageId, string Kind, string? Programme, string? Step, string Subject, DateTimeOffset SentAt, string Status, int HumanOpens, int HumanClicks);
