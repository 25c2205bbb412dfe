using System.Globalization;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Domain.Messaging.Composition;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// Turns a lead and a step (or an SQL) into an <see cref="EmailMessage"/>: personalised Liquid, the open pixel, tracked links,
/// and the RFC 8058 <c>List-Unsubscribe</c> headers on every marketing e-mail.
/// </summary>
internal sealed class NurtureMailComposer(
    NurtureConfiguration configuration,
    LinkBuilder links,
    IOptions<NurtureOptions> nurtureOptions,
    IOptions<SalesAlertOptions> alertOptions,
    IOptions<Email.EmailOptions> emailOptions,
    IServiceProvider services)
{
    public const string ListUnsubscribe = "List-Unsubscribe";
    public const string ListUnsubscribePost = "List-Unsubscribe-Post";
    public const string OneClick = "List-Unsubscribe=One-Click";

    public EmailMessage Nurture(LeadSummary lead, NurtureProgramme programme, NurtureStep step, string messageId, DateTimeOffset firstAttemptAt, DateTimeOffset now,
        ICollection<string>? missing = null)
    {
        TrackingClaims Claims(TrackingKind kind, string? url = null, string? linkName = null) => new()
        {
            Kind = kind,
            LeadId = lead.LeadId,
            MessageId = messageId,
            Programme = programme.Id,
            Step = step.Id,
            SentAtUnixSeconds = now.ToUnixTimeSeconds(),
            Url = url,
            LinkName = linkName,
        };

        var unsubscribe = links.For(Claims(TrackingKind.Unsubscribe));
        var model = new Dictionary<string, object?>
        {
            ["lead"] = LeadModel(lead, includeEmail: false),
            ["links"] = new Dictionary<string, object?> { ["unsubscribe"] = unsubscribe, ["yourData"] = links.For(Claims(TrackingKind.DataRequest)) },
            ["programme"] = programme.Id,
            ["step"] = step.Id,
        };
        var rendered = configuration.Templates.Render(step.Template, step.Subject, model, missing);
        var html = TrackedHtml.Rewrite(
            rendered.HtmlBody,
            (url, name) => links.IsOurs(url) ? null : links.For(Claims(TrackingKind.Click, url, name)),
            links.For(Claims(TrackingKind.Open)));

        var options = nurtureOptions.Value;
        return new EmailMessage
        {
            Id = messageId,
            LeadId = lead.LeadId,
            From = From(options.FromAddress, options.FromName),
            To = [new MailRecipient(lead.Email, NullIfEmpty(DisplayName(lead)))],
            Subject = rendered.Subject,
            HtmlBody = html,
            TextBody = rendered.TextBody,
            ReplyTo = string.IsNullOrWhiteSpace(options.ReplyToAddress) ? null : new MailRecipient(options.ReplyToAddress.Trim()),
            Headers = new Dictionary<string, string>
            {
                [ListUnsubscribe] = $"<{unsubscribe}>",
                [ListUnsubscribePost] = OneClick,
            },
            FirstAttemptAt = firstAttemptAt,
        };
    }

    /// <summary>
    /// The double opt-in e-mail: one signed link that confirms the pending marketing consent. It is not marketing, so it has no
    /// open pixel, no tracked links and no unsubscribe (ignoring it is the way to say no).
    /// </summary>
    public EmailMessage ConsentConfirmation(LeadSummary lead, string messageId, DateTimeOffset firstAttemptAt, DateTimeOffset now, ICollection<string>? missing = null)
    {
        var options = nurtureOptions.Value;
        var confirm = links.ConfirmConsent(new TrackingClaims
        {
            Kind = TrackingKind.ConfirmConsent,
            LeadId = lead.LeadId,
            MessageId = messageId,
            SentAtUnixSeconds = now.ToUnixTimeSeconds(),
        });
        var model = new Dictionary<string, object?>
        {
            ["lead"] = LeadModel(lead, includeEmail: false),
            ["links"] = new Dictionary<string, object?> { ["confirm"] = confirm },
            ["validDays"] = options.ConfirmationValidDays,
        };
        var rendered = configuration.Templates.Render(options.ConfirmationTemplate, options.ConfirmationSubject, model, missing);
        return new EmailMessage
        {
            Id = messageId,
            LeadId = lead.LeadId,
            From = From(options.FromAddress, options.FromName),
            To = [new MailRecipient(lead.Email, NullIfEmpty(DisplayName(lead)))],
            Subject = rendered.Subject,
            HtmlBody = rendered.HtmlBody,
            TextBody = rendered.TextBody,
            FirstAttemptAt = firstAttemptAt,
        };
    }

    /// <summary>
    /// Where the SQL came from (form and landing page), from the applied event that made it an SQL or the latest form submission.
    /// Null without an event archive (the nurture feature running without the lead store) or when neither event was kept.
    /// </summary>
    public async Task<SqlOrigin?> OriginAsync(LeadDetails details, DateTimeOffset sqlAt, CancellationToken cancellationToken)
    {
        if (services.GetService<ILeadEventArchive>() is not { } archive)
            return null;
        SqlOrigin? first = null;
        foreach (var eventId in SqlOrigin.CandidateEventIds(details, sqlAt))
        {
            if (await archive.FindAppliedAsync(details.Lead.LeadId, eventId, cancellationToken) is not { } applied)
                continue;
            var origin = SqlOrigin.From(applied);
            if (origin.FormId is not null)
                return origin with { LandingPageUrl = origin.LandingPageUrl ?? first?.LandingPageUrl };
            first ??= origin;
        }
        return first;
    }

    public EmailMessage SalesAlert(LeadDetails details, DateTimeOffset sqlAt, string owner, string routedBy, string messageId, DateTimeOffset firstAttemptAt, DateTimeOffset now, SqlOrigin? origin = null, ICollection<string>? missing = null) =>
        Sales(new SalesMail(details, sqlAt, owner, owner, routedBy, alertOptions.Value.AlertTemplate,
            "New SQL: {{ lead.firstName }} {{ lead.lastName }}{% if lead.company %} ({{ lead.company }}){% endif %}, respond within {{ card.respondWithin }}",
            SalesAlertKeys.AlertMarker, ReplyToLead: true, Step: null, origin, ReroutedFrom: null),
            messageId, firstAttemptAt, now, missing);

    /// <summary>The e-mail of one SLA ladder step: to the rep (remind), the manager (escalate, breach) or the next rep (reroute).</summary>
    public EmailMessage SlaStep(LeadDetails details, DateTimeOffset sqlAt, SlaStep step, string to, string owner, string routedBy, string? reroutedFrom,
        string messageId, DateTimeOffset firstAttemptAt, DateTimeOffset now, SqlOrigin? origin = null, ICollection<string>? missing = null)
    {
        var subject = step.Kind switch
        {
            SlaStepKind.Remind => "Reminder: {{ lead.firstName }} {{ lead.lastName }}{% if lead.company %} ({{ lead.company }}){% endif %} has waited {{ card.waited }} for you",
            SlaStepKind.Escalate => "Escalation: SQL {{ lead.leadId }} not answered within {{ card.waited }}",
            SlaStepKind.Reroute => "Re-routed SQL: {{ lead.firstName }} {{ lead.lastName }}{% if lead.company %} ({{ lead.company }}){% endif %}, respond within {{ card.respondWithin }}",
            _ => "SLA missed: SQL {{ lead.leadId }} not accepted within {{ card.slaHours }} h",
        };
        // Whoever should now contact the lead can reply straight to it; a manager's reply goes to the rep who let it wait.
        var replyToLead = step.Kind is SlaStepKind.Remind or SlaStepKind.Reroute;
        return Sales(new SalesMail(details, sqlAt, to, owner, routedBy, step.Template, subject, step.Marker, replyToLead, step, origin, reroutedFrom),
            messageId, firstAttemptAt, now, missing);
    }

    private sealed record SalesMail(LeadDetails Details, DateTimeOffset SqlAt, string To, string Owner, string RoutedBy, string Template, string Subject,
        string ActorMarker, bool ReplyToLead, SlaStep? Step, SqlOrigin? Origin, string? ReroutedFrom);

    private EmailMessage Sales(SalesMail mail, string messageId, DateTimeOffset firstAttemptAt, DateTimeOffset now, ICollection<string>? missing)
    {
        var options = alertOptions.Value;
        var ladder = options.GetLadder();
        var lead = mail.Details.Lead;
        var fitRules = services.GetService<ScoringEngine>()?.Model.FitRules;
        var card = SalesAlertCard.Build(mail.Details, mail.SqlAt, ladder.Deadline, now, fitRules);

        // The links carry a marker of this e-mail, not an address: the decision is recorded against whoever this e-mail went to.
        TrackingClaims Claims(TrackingKind kind) => new()
        {
            Kind = kind,
            LeadId = lead.LeadId,
            MessageId = messageId,
            SentAtUnixSeconds = now.ToUnixTimeSeconds(),
            Actor = mail.ActorMarker,
            SqlAtTicks = mail.SqlAt.UtcTicks,
        };

        var model = new Dictionary<string, object?>
        {
            ["lead"] = LeadModel(lead, includeEmail: true),
            ["links"] = new Dictionary<string, object?>
            {
                ["accept"] = links.For(Claims(TrackingKind.Accept)),
                ["reject"] = links.For(Claims(TrackingKind.Reject)),
                // Encoded whole, so an address like "a?cc=x@evil.example" cannot add recipients or a body to the rep's reply.
                ["mailto"] = "mailto:" + Uri.EscapeDataString(lead.Email),
            },
            ["card"] = CardModel(card, mail.Owner, mail.RoutedBy, ladder, mail.Step, mail.ReroutedFrom),
            ["origin"] = mail.Origin is { } origin
                ? new Dictionary<string, object?> { ["form"] = origin.FormId, ["eventType"] = origin.EventType, ["page"] = origin.LandingPageUrl }
                : null,
        };
        var rendered = configuration.Templates.Render(mail.Template, mail.Subject, model, missing);
        return new EmailMessage
        {
            Id = messageId,
            LeadId = lead.LeadId,
            From = From(options.FromAddress, options.FromName),
            To = [new MailRecipient(mail.To)],
            ReplyTo = mail.ReplyToLead
                ? new MailRecipient(lead.Email, NullIfEmpty(DisplayName(lead)))
                : EmailAddress.TryNormalize(mail.Owner, out _) ? new MailRecipient(mail.Owner) : null,
            Subject = rendered.Subject,
            HtmlBody = rendered.HtmlBody,
            TextBody = rendered.TextBody,
            FirstAttemptAt = firstAttemptAt,
        };
    }

    private static Dictionary<string, object?> LeadModel(LeadSummary lead, bool includeEmail)
    {
        var model = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in lead.Profile)
            model[key] = value;
        model["leadId"] = lead.LeadId;
        model["stage"] = lead.Stage.ToString();
        if (includeEmail)
            model["email"] = lead.Email;
        return model;
    }

    private static Dictionary<string, object?> CardModel(SalesAlertCard card, string owner, string routedBy, SlaLadder ladder, SlaStep? step, string? reroutedFrom)
    {
        static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        static Dictionary<string, object?> Line(CardLine line) => new()
        {
            ["eventType"] = line.EventType,
            ["ruleId"] = line.RuleId,
            ["points"] = line.Points.ToString("0.#", CultureInfo.InvariantCulture),
            ["at"] = line.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        };
        return new Dictionary<string, object?>
        {
            ["sqlAt"] = card.SqlAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["deadline"] = card.Deadline.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["hoursLeft"] = Math.Round(card.TimeLeft.TotalHours, 1).ToString("0.#", CultureInfo.InvariantCulture),
            ["slaHours"] = ladder.Deadline.TotalHours.ToString("0.#", CultureInfo.InvariantCulture),
            ["respondWithin"] = SlaLadder.Describe(ladder.RespondWithin),
            ["waited"] = step is null ? null : SlaLadder.Describe(step.After),
            ["step"] = step is null ? null : new Dictionary<string, object?> { ["id"] = step.Id, ["kind"] = step.Kind.ToString().ToLowerInvariant(), ["after"] = SlaLadder.Describe(step.After) },
            ["reroutedFrom"] = reroutedFrom,
            ["ladder"] = ladder.Steps.Select(s => new Dictionary<string, object?>
            {
                ["kind"] = s.Kind.ToString().ToLowerInvariant(),
                ["after"] = SlaLadder.Describe(s.After),
                ["at"] = Time(card.SqlAt + s.After),
            }).ToList(),
            ["engagementScore"] = card.EngagementScore.ToString("0.#", CultureInfo.InvariantCulture),
            ["fitScore"] = card.FitScore,
            ["fitGrade"] = card.FitGrade,
            ["modelVersion"] = card.ModelVersion,
            ["reason"] = card.Reason,
            ["owner"] = owner,
            ["routedBy"] = routedBy,
            ["topEvents"] = card.TopEvents.Select(Line).ToList(),
            ["fitFactors"] = card.FitFactors.Select(f => new Dictionary<string, object?>
            {
                ["ruleId"] = f.RuleId,
                ["field"] = f.Field,
                ["value"] = f.Value,
                ["points"] = f.Points.ToString("0.#", CultureInfo.InvariantCulture),
            }).ToList(),
        };
    }

    private static string DisplayName(LeadSummary lead)
    {
        lead.Profile.TryGetValue("firstName", out var first);
        lead.Profile.TryGetValue("lastName", out var last);
        return HeaderText.Clean($"{first} {last}", 100);
    }

    /// <summary>Our own From when configured, otherwise the delivery feature's (with ACS it must be a connected domain).</summary>
    private MailRecipient From(string? address, string? name)
    {
        var email = emailOptions.Value;
        var display = HeaderText.Clean(string.IsNullOrWhiteSpace(address) ? (name ?? email.FromName) : name, 100);
        return new MailRecipient(string.IsNullOrWhiteSpace(address) ? email.FromAddress : address.Trim(), NullIfEmpty(display));
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
