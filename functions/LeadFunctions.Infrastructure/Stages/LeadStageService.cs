using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Stages;

/// <summary>
/// <c>POST /api/leads/{id}/stage</c>: a person asks to accept, reject, recycle or advance a lead. The move is checked against the
/// lead's stage now (<see cref="StageMoves"/>) and queued as a <see cref="LeadEventTypes.SalesDecision"/> event; the processor
/// applies it, checking again. Nothing here writes the lead.
/// </summary>
public sealed partial class LeadStageService(LeadStageReader leads, ILeadEventPublisher publisher, TimeProvider time, ILogger<LeadStageService> logger)
{
    /// <summary>A stage request is three short fields; nothing larger is read.</summary>
    public const int MaxBodyBytes = 4096;

    public const int MaxReasonLength = 500;

    /// <summary>The longest actor recorded (a display name or a principal id).</summary>
    public const int MaxActorLength = 200;

    public const string ActionField = "action";
    public const string ToStageField = "toStage";
    public const string ReasonField = "reason";

    /// <param name="actor">Who is asking: the signed-in user (recorded as the decision's actor, and as owner on an accept).</param>
    public async Task<StageOutcome> RequestAsync(string leadId, string actor, Stream body, long? contentLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        actor = actor.Trim();
        if (actor.Length > MaxActorLength)
            actor = actor[..MaxActorLength];

        var bytes = await StageRequestBody.ReadAsync(body, contentLength, MaxBodyBytes, cancellationToken);
        if (bytes is null)
            return StageOutcome.Problem(StatusCodes.Status413PayloadTooLarge, StageProblemCodes.BodyTooLarge, "The request body is too large.", $"The body must be at most {MaxBodyBytes} bytes.", "body");
        using var document = StageRequestBody.Parse(bytes, out var problem);
        if (document is null)
            return problem!;
        var request = Validate(document.RootElement, out problem);
        if (request is null)
            return problem!;
        var (action, toStage, reason) = request.Value;

        LeadStageNow? lead;
        try
        {
            lead = await leads.FindAsync(leadId, cancellationToken);
        }
        catch (RequestFailedException)
        {
            return Unavailable();
        }
        if (lead is null)
            return StageOutcome.Problem(StatusCodes.Status404NotFound, StageProblemCodes.UnknownLead, "No such lead.", "There is no lead with this id.");
        if (StageMoves.Check(lead.Stage, action, toStage) is { } illegal)
        {
            LogRefused(logger, lead.LeadId, action, lead.Stage?.ToString() ?? "none");
            return StageOutcome.Problem(StatusCodes.Status409Conflict, StageProblemCodes.IllegalMove, "This move is not allowed from the lead's stage.", illegal);
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [LeadEventProperties.Decision] = action,
            [LeadEventProperties.Actor] = actor,
        };
        if (toStage is { } to)
            properties[LeadEventProperties.ToStage] = to.ToString().ToLowerInvariant();
        if (reason is not null)
            properties[LeadEventProperties.Reason] = reason;
        if (action is StageActions.Accept or StageActions.Reject)
        {
            // About this SQL episode only: a click made on a stale screen cannot accept or reject a later SQL.
            properties[LeadEventProperties.SqlEpisode] = lead.StageChangedAt.ToString("O", CultureInfo.InvariantCulture);
        }

        // The same move asked from the same state is the same event (a double click is applied once); a move asked after the lead
        // moved on is a new one.
        var eventId = "stage-" + Hash($"{lead.LeadId}|{action}|{toStage}|{lead.Stage}|{lead.StageChangedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}");
        try
        {
            await publisher.PublishAsync(new LeadEvent
            {
                EventId = eventId,
                Type = LeadEventTypes.SalesDecision,
                OccurredAt = time.GetUtcNow(),
                LeadId = lead.LeadId,
                Properties = properties,
            }, cancellationToken);
        }
        catch (LeadEventNotAcceptedException)
        {
            return Unavailable();
        }
        LogQueued(logger, lead.LeadId, action, eventId);
        return StageOutcome.Accepted(new StageChangeAccepted(eventId));
    }

    /// <summary>The shape the contract names; everything about the lead's stage is the move check's business.</summary>
    private static (string Action, LifecycleStage? ToStage, string? Reason)? Validate(System.Text.Json.JsonElement root, out StageOutcome? problem)
    {
        problem = null;
        var actionText = StageRequestBody.String(root, ActionField, 20, ref problem);
        var toText = StageRequestBody.String(root, ToStageField, 20, ref problem);
        var reason = StageRequestBody.String(root, ReasonField, MaxReasonLength, ref problem);
        if (problem is not null)
            return null;

        var action = StageActions.Parse(actionText);
        if (action is null)
        {
            problem = StageOutcome.Invalid(ActionField, "action is required: accept, reject, recycle or advance.");
            return null;
        }
        var toStage = StageMoves.ParseStage(toText);
        var allowed = action switch
        {
            StageActions.Accept => toText is null || toStage == LifecycleStage.Sql,
            StageActions.Reject or StageActions.Recycle => toStage is LifecycleStage.Mql or LifecycleStage.Lead,
            _ => toStage is LifecycleStage.Opportunity or LifecycleStage.Customer or LifecycleStage.Evangelist,
        };
        if (!allowed)
        {
            problem = StageOutcome.Invalid(ToStageField, action switch
            {
                StageActions.Accept => "toStage is not used with accept (the lead stays an SQL).",
                StageActions.Advance => "toStage is required with advance: opportunity, customer or evangelist.",
                _ => $"toStage is required with {action}: mql or lead.",
            });
            return null;
        }
        if (reason is null && action != StageActions.Accept)
        {
            problem = StageOutcome.Invalid(ReasonField, $"reason is required with {action}: it goes into the lead's history.");
            return null;
        }
        return (action, action == StageActions.Accept ? null : toStage, reason);
    }

    internal static StageOutcome Unavailable() =>
        StageOutcome.Problem(StatusCodes.Status503ServiceUnavailable, StageProblemCodes.Unavailable, "The change could not be queued.",
            "The lead-events queue is unavailable; nothing was changed. Send it again in a minute.") with { RetryAfterSeconds = 30 };

    internal static string Hash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued stage {Action} for lead {LeadId} as event {EventId}")]
    private static partial void LogQueued(ILogger logger, string leadId, string action, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused stage {Action} for lead {LeadId} at stage {Stage}")]
    private static partial void LogRefused(ILogger logger, string leadId, string action, string stage);
}
