using System.Text.RegularExpressions;
using Azure;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using LeadFunctions.Domain.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Stages;

/// <summary>The CRM events the webhook takes, and the stage move each one is.</summary>
public static class CrmEventTypes
{
    public const string OpportunityCreated = "opportunity-created";
    public const string DealWon = "deal-won";
    public const string DealLost = "deal-lost";
    public const string Referral = "referral";

    /// <summary>(action, target, words for the history) of each CRM event; a lost deal goes back to MQL unless the CRM says Lead.</summary>
    internal static (string Action, LifecycleStage To, string Words)? Map(string type) => type switch
    {
        OpportunityCreated => (StageActions.Advance, LifecycleStage.Opportunity, "opportunity created"),
        DealWon => (StageActions.Advance, LifecycleStage.Customer, "deal won"),
        DealLost => (StageActions.Recycle, LifecycleStage.Mql, "deal lost"),
        Referral => (StageActions.Advance, LifecycleStage.Evangelist, "referral"),
        _ => null,
    };
}

/// <summary>
/// <c>POST /api/crm/events</c>: the CRM tells us what happened to a deal. Open to the internet, so nothing is read past the body
/// bound and nothing is believed before the signature (<see cref="WebhookSignature"/>, HMAC over timestamp and body, five minutes'
/// tolerance) checks out with the current or the previous secret; without a configured secret every request is refused (503).
/// A signed request is a trusted machine: it may name the lead by e-mail. The CRM's event id is the event's id, so a CRM's retry
/// is applied once (the processor's applied-event row); a retry of an applied event is answered 202 again, not 409.
/// CRM moves are judged with <see cref="MoveAuthority.Crm"/>: the CRM is the system of record for deals, so it may skip stages forward.
/// </summary>
public sealed partial class CrmWebhook(
    IOptionsMonitor<CrmOptions> options,
    LeadStageReader leads,
    LeadIdentity identity,
    ILeadEventPublisher publisher,
    TimeProvider time,
    ILogger<CrmWebhook> logger)
{
    /// <summary>One CRM event is a few hundred bytes; nothing larger is read.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    public const int MaxReasonLength = 500;

    public const string IdField = "id";
    public const string TypeField = "type";
    public const string SourceField = "source";
    public const string EmailField = "email";
    public const string LeadIdField = "leadId";
    public const string ReasonField = "reason";
    public const string ToStageField = "toStage";

    public async Task<StageOutcome> HandleAsync(Stream body, long? contentLength, string? signature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var secrets = options.CurrentValue.Secrets();
        if (secrets.Count == 0)
        {
            LogNotConfigured(logger);
            return StageOutcome.Problem(StatusCodes.Status503ServiceUnavailable, StageProblemCodes.NotConfigured, "The CRM webhook is not configured.",
                $"No {CrmOptions.SectionName}:WebhookSecret is set, so no request can be verified; nothing was changed.");
        }

        var bytes = await StageRequestBody.ReadAsync(body, contentLength, MaxBodyBytes, cancellationToken);
        if (bytes is null)
            return StageOutcome.Problem(StatusCodes.Status413PayloadTooLarge, StageProblemCodes.BodyTooLarge, "The request body is too large.", $"One event of at most {MaxBodyBytes} bytes per request.", "body");
        if (WebhookSignature.Verify(signature, bytes, secrets, time.GetUtcNow(), WebhookSignature.DefaultTolerance) is { } refused)
        {
            LogRefused(logger);
            return StageOutcome.Problem(StatusCodes.Status401Unauthorized, StageProblemCodes.Unsigned, "The request is not signed by the CRM.", refused);
        }

        using var document = StageRequestBody.Parse(bytes, out var problem);
        if (document is null)
            return problem!;
        var root = document.RootElement;
        var id = StageRequestBody.String(root, IdField, 200, ref problem);
        var type = StageRequestBody.String(root, TypeField, 40, ref problem);
        var source = StageRequestBody.String(root, SourceField, 40, ref problem);
        var email = StageRequestBody.String(root, EmailField, EmailAddress.MaxLength + 10, ref problem);
        var leadIdText = StageRequestBody.String(root, LeadIdField, 100, ref problem);
        var reason = StageRequestBody.String(root, ReasonField, MaxReasonLength, ref problem);
        var toText = StageRequestBody.String(root, ToStageField, 20, ref problem);
        if (problem is not null)
            return problem;
        if (id is null)
            return StageOutcome.Invalid(IdField, "id is required: the CRM's own id of this event, the same on every retry.");
        if (type is null || CrmEventTypes.Map(type.ToLowerInvariant()) is not { } move)
            return StageOutcome.Invalid(TypeField, "type is required: opportunity-created, deal-won, deal-lost or referral.");
        if (source is null || !SourcePattern().IsMatch(source))
            return StageOutcome.Invalid(SourceField, "source is required: the CRM's name (letters, digits and '-', e.g. hubspot).");
        source = source.ToLowerInvariant();
        var to = move.To;
        if (toText is not null)
        {
            var back = StageMoves.ParseStage(toText);
            if (move.Action != StageActions.Recycle || back is not (LifecycleStage.Mql or LifecycleStage.Lead))
                return StageOutcome.Invalid(ToStageField, "toStage is only for deal-lost: mql (the default) or lead.");
            to = back.Value;
        }

        string leadId;
        if (email is not null)
        {
            if (!EmailAddress.TryNormalize(email, out var normalized))
                return StageOutcome.Invalid(EmailField, "email is not a valid e-mail address.");
            leadId = identity.LeadIdFor(normalized);
        }
        else if (leadIdText is not null)
        {
            if (!LeadIdentity.IsLeadId(leadIdText))
                return StageOutcome.Invalid(LeadIdField, "leadId is not a lead id.");
            leadId = leadIdText;
        }
        else
        {
            return StageOutcome.Invalid(EmailField, "email (or leadId) is required: which lead the event is about.");
        }

        var eventId = "crm-" + LeadStageService.Hash($"{source}|{id}");
        LeadStageNow? lead;
        try
        {
            lead = await leads.FindAsync(leadId, cancellationToken);
            if (lead is not null && await leads.WasAppliedAsync(leadId, eventId, cancellationToken))
            {
                LogDuplicate(logger, leadId, eventId);
                return StageOutcome.Accepted(new CrmEventAccepted(eventId, AlreadyApplied: true));
            }
        }
        catch (RequestFailedException)
        {
            return LeadStageService.Unavailable();
        }
        if (lead is null)
            return StageOutcome.Problem(StatusCodes.Status404NotFound, StageProblemCodes.UnknownLead, "No such lead.", "No lead has this e-mail address or id; the CRM cannot create leads.");
        if (StageMoves.Check(lead.Stage, move.Action, to, MoveAuthority.Crm) is { } illegal)
        {
            LogIllegal(logger, leadId, type, lead.Stage?.ToString() ?? "none");
            return StageOutcome.Problem(StatusCodes.Status409Conflict, StageProblemCodes.IllegalMove, "This event does not move the lead from its stage.", illegal);
        }

        var words = $"{move.Words} in {source}" + (reason is null ? "" : ": " + reason);
        try
        {
            await publisher.PublishAsync(new LeadEvent
            {
                EventId = eventId,
                Type = LeadEventTypes.SalesDecision,
                OccurredAt = time.GetUtcNow(),
                LeadId = leadId,
                Properties = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [LeadEventProperties.Decision] = move.Action,
                    [LeadEventProperties.ToStage] = to.ToString().ToLowerInvariant(),
                    [LeadEventProperties.Reason] = words,
                    [LeadEventProperties.Actor] = "crm:" + source,
                    [LeadEventProperties.Source] = LifecycleMachine.CrmSource,
                    [LeadEventProperties.CrmEvent] = type.ToLowerInvariant(),
                },
            }, cancellationToken);
        }
        catch (LeadEventNotAcceptedException)
        {
            return LeadStageService.Unavailable();
        }
        LogQueued(logger, leadId, type, eventId);
        return StageOutcome.Accepted(new CrmEventAccepted(eventId, AlreadyApplied: false));
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")]
    private static partial Regex SourcePattern();

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRM webhook refused a request: no Crm:WebhookSecret is configured")]
    private static partial void LogNotConfigured(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRM webhook refused a request with a missing, expired or wrong signature")]
    private static partial void LogRefused(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "CRM event {EventId} for lead {LeadId} was already applied")]
    private static partial void LogDuplicate(ILogger logger, string leadId, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "CRM event {CrmEvent} does not move lead {LeadId} from {Stage}")]
    private static partial void LogIllegal(ILogger logger, string leadId, string crmEvent, string stage);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued CRM event {CrmEvent} for lead {LeadId} as {EventId}")]
    private static partial void LogQueued(ILogger logger, string leadId, string crmEvent, string eventId);
}
