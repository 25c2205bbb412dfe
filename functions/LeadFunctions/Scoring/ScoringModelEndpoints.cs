using System.Text;
using LeadFunctions.Domain;
using System.Text.Json;
using Azure;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Scoring;

/// <summary>
/// <c>POST /api/workspace/scoring/models</c> (admin) with <c>{ "model": {…}, "reason": "…", "rescore": true|false,
/// "expectedActiveVersion": "…" }</c>: publishes the model, so new events are scored with it (every instance within
/// <c>ScoringPublish:RefreshSeconds</c>). 201 with the publication (and the re-score job); 400 naming the field (the loader's
/// and the cross-file check's errors under <c>model</c>); 409 when the version exists with other content, is already active, or
/// another publish won. The publisher is the signed-in user, never the body.
/// </summary>
public sealed class PublishScoringModel(ScoringModelPublisher publisher, WorkspaceAccess access)
{
    /// <summary>The body: a model of at most <see cref="ScoringModelPublisher.MaxModelChars"/> characters and a short reason, with room for whitespace.</summary>
    private const int MaxBodyBytes = 256 * 1024;

    [Function(nameof(PublishScoringModel))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md); only admins publish.
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "workspace/scoring/models")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request, WorkspaceRoles.Admin);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);

        var body = await BoundedBody.ReadAsync(request.Body, MaxBodyBytes, cancellationToken);
        if (body is null)
            return ScoringRequests.Problem("body", $"The body must be JSON of at most {MaxBodyBytes} bytes.");
        PublishModelRequest parsed;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return ScoringRequests.Problem("body", "The body must be a JSON object with model and reason.");
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                return ScoringRequests.Problem("model", "model must be the scoring model file's JSON object.");
            if (!root.TryGetProperty("reason", out var reason) || reason.ValueKind != JsonValueKind.String)
                return ScoringRequests.Problem("reason", "reason must be a string saying why the model is published.");
            var rescore = false;
            if (root.TryGetProperty("rescore", out var rescoreValue))
            {
                if (rescoreValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    return ScoringRequests.Problem("rescore", "rescore must be true or false.");
                rescore = rescoreValue.GetBoolean();
            }
            string? expected = null;
            if (root.TryGetProperty("expectedActiveVersion", out var expectedValue) && expectedValue.ValueKind != JsonValueKind.Null)
            {
                if (expectedValue.ValueKind != JsonValueKind.String)
                    return ScoringRequests.Problem("expectedActiveVersion", "expectedActiveVersion must be a version string.");
                expected = expectedValue.GetString();
            }
            parsed = new PublishModelRequest(model.GetRawText(), reason.GetString()!, rescore, expected);
        }
        catch (JsonException)
        {
            return ScoringRequests.Problem("body", "The body is not valid JSON.");
        }

        var result = await publisher.PublishAsync(parsed, check.User.ToActor(), cancellationToken);
        return result.Status switch
        {
            ScoringPublishStatus.Done => WorkspaceResult.Of(new ObjectResult(result.Publication is null ? null : new PublishedView(result.Publication, result.Rescore)) { StatusCode = StatusCodes.Status201Created }),
            ScoringPublishStatus.Invalid => ScoringRequests.Invalid("The scoring model cannot be published.", result.Errors!),
            _ => ScoringRequests.Conflict(result.Conflict!),
        };
    }

    public sealed record PublishedView(PublicationView Publication, RescoreJobView? Rescore);
}

/// <summary><c>GET /api/workspace/scoring/models</c> (marketing, admin): the active version and the latest publications (who, when, why).</summary>
public sealed class ListScoringModels(ScoringModelPublisher publisher, WorkspaceAccess access)
{
    [Function(nameof(ListScoringModels))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md).
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace/scoring/models")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request, WorkspaceRoles.Marketing);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        return WorkspaceResult.Of(new OkObjectResult(await publisher.ListAsync(cancellationToken)));
    }
}

/// <summary><c>POST /api/workspace/scoring/rescores</c> (admin): re-scores every lead under the active version. 202 with the job; 409 while one runs.</summary>
public sealed class StartScoringRescore(ScoringModelPublisher publisher, WorkspaceAccess access)
{
    [Function(nameof(StartScoringRescore))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md); only admins start a re-score.
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "workspace/scoring/rescores")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request, WorkspaceRoles.Admin);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        var result = await publisher.StartRescoreAsync(check.User.ToActor(), cancellationToken);
        return result.Status == ScoringPublishStatus.Done
            ? WorkspaceResult.Of(new ObjectResult(result.Rescore) { StatusCode = StatusCodes.Status202Accepted })
            : ScoringRequests.Conflict(result.Conflict!);
    }
}

/// <summary><c>GET /api/workspace/scoring/rescores/{id}</c> (marketing, admin): a re-score's progress.</summary>
public sealed class GetScoringRescore(ScoringModelPublisher publisher, WorkspaceAccess access)
{
    [Function(nameof(GetScoringRescore))]
    public async Task<IActionResult> Run(
        // Anonymous at the host: the workspace principal decides (docs/workspace.md).
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace/scoring/rescores/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var check = access.Authorize(request, WorkspaceRoles.Marketing);
        if (check.Refused)
            return WorkspaceResult.Of(check.Refusal);
        return await publisher.FindRescoreAsync(id ?? "", cancellationToken) is { } job
            ? WorkspaceResult.Of(new OkObjectResult(job))
            : WorkspaceResult.NotFound();
    }
}

internal static class ScoringRequests
{
    public static ScoringActor ToActor(this WorkspaceUser user) => new(user.Id, user.Name);

    public static IActionResult Problem(string field, string detail) => Invalid("The request is not valid.", new Dictionary<string, string[]> { [field] = [detail] });

    public static IActionResult Invalid(string title, IReadOnlyDictionary<string, string[]> errors) =>
        WorkspaceResult.Of(new BadRequestObjectResult(new ValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value))
        {
            Type = ProblemTypes.Prefix + "invalid-scoring-request",
            Status = StatusCodes.Status400BadRequest,
            Title = title,
            Detail = string.Join("; ", errors.SelectMany(e => e.Value)),
        }));

    public static IActionResult Conflict(string reason) =>
        WorkspaceResult.Of(new ObjectResult(new ProblemDetails
        {
            Type = ProblemTypes.Prefix + "scoring-conflict",
            Status = StatusCodes.Status409Conflict,
            Title = "The scoring model cannot be changed so.",
            Detail = reason,
        })
        {
            StatusCode = StatusCodes.Status409Conflict,
        });
}
