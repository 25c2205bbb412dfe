using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>Who asked: the signed-in user (object id and display name), never a value from a request body.</summary>
public sealed record ScoringActor(string Id, string? Name);

/// <param name="ModelJson">The model file's JSON, exactly as it will be stored.</param>
/// <param name="ExpectedActiveVersion">When given, the publish is refused (409) unless this is still the active version: what the publisher reviewed against.</param>
public sealed record PublishModelRequest(string ModelJson, string Reason, bool Rescore, string? ExpectedActiveVersion = null);

public enum ScoringPublishStatus
{
    Done,
    /// <summary>400: <see cref="ScoringPublishResult.Errors"/> names the fields.</summary>
    Invalid,
    /// <summary>409: <see cref="ScoringPublishResult.Conflict"/> says why.</summary>
    Conflict,
    NotFound,
}

public sealed record ScoringPublishResult(ScoringPublishStatus Status)
{
    public PublicationView? Publication { get; init; }
    public RescoreJobView? Rescore { get; init; }
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }
    public string? Conflict { get; init; }
}

public sealed record PublicationView(string Version, string? PreviousVersion, string PublishedById, string? PublishedByName, DateTimeOffset PublishedAt, string Reason, string? RescoreJobId);

public sealed record ActiveModelView(string Version, bool Published, DateTimeOffset? PublishedAt, string? RescoreJobId);

public sealed record ScoringModelsView(ActiveModelView Active, string BaselineVersion, IReadOnlyList<PublicationView> Publications);

public sealed record RescoreJobView(
    string JobId, string TargetVersion, string State, long LeadsSeen, long LeadsEnqueued, long LeadsAlreadyCurrent,
    long? LeadsApplied, long? LeadsRemaining, int CheckPass, string StartedById, string? StartedByName,
    DateTimeOffset StartedAt, DateTimeOffset NotBefore, DateTimeOffset? FinishedAt, DateTimeOffset UpdatedAt)
{
    internal static RescoreJobView From(RescoreJobEntity job) => new(
        job.JobId, job.TargetVersion, job.State, job.LeadsSeen, job.LeadsEnqueued, job.LeadsAlreadyCurrent,
        job.LeadsApplied, job.LeadsRemaining, job.CheckPass, job.StartedById, job.StartedByName,
        job.StartedAt, job.NotBefore, job.FinishedAt, job.UpdatedAt);
}

/// <summary>
/// Publishes scoring models and starts re-scores. A model is validated by the loader and the cross-file check (the rules' values
/// must be ones a form or the content catalogue can produce), stored once per version (immutable: the same version with other
/// content is a 409), and made active by one transaction in the models table: the active pointer (ETag-checked, so of two
/// concurrent publishes one wins and the other is a 409), the publication record (who, when, why, the version it replaced)
/// and, when asked, the re-score job. Nothing changes for a refused publish.
/// </summary>
public sealed partial class ScoringModelPublisher(
    ScoringModelsTable table,
    IActiveScoringModel active,
    FormCatalog forms,
    ContentCatalogue content,
    IOptions<ScoringPublishOptions> options,
    TimeProvider time,
    ILogger<ScoringModelPublisher> logger)
{
    /// <summary>The model JSON is one table property: at most this many characters (a property holds 64 KiB, i.e. 32 Ki UTF-16 characters).</summary>
    public const int MaxModelChars = LeadRowBounds.MaxStringLength;

    public const int MaxReasonLength = 500;
    public const int MaxVersionLength = 100;

    /// <summary>Publications the list returns, newest first.</summary>
    public const int MaxListed = 50;

    public async Task<ScoringPublishResult> PublishAsync(PublishModelRequest request, ScoringActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        if (Validate(request) is { } invalid)
            return invalid;
        var model = ScoringModelLoader.Load(request.ModelJson); // validated above

        if (model.Version == active.Baseline.Version)
            return Conflict($"version {model.Version} is the model file's; give the published model a version of its own.");
        var pointer = await ReadPointerAsync(cancellationToken);
        var previous = pointer?.Version ?? active.Baseline.Version;
        if (request.ExpectedActiveVersion is { } expected && expected != previous)
            return Conflict($"the active version is {previous}, not {expected}: someone published meanwhile; review against {previous} and publish again.");
        if (previous == model.Version)
            return Conflict($"version {model.Version} is already the active model.");

        // The version row first: it is immutable, so one left by a publish that then loses the race below is harmless.
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(request.ModelJson)));
        if (await StoreVersionAsync(model.Version, request.ModelJson, hash, cancellationToken) is { } clash)
            return clash;

        var now = time.GetUtcNow();
        var jobId = request.Rescore ? NewJobId(now) : null;
        var publication = new PublicationEntity
        {
            RowKey = ScoringModelRows.Publication(now, model.Version),
            Version = model.Version,
            PreviousVersion = previous,
            PublishedById = actor.Id,
            PublishedByName = actor.Name,
            PublishedAt = now,
            Reason = request.Reason.Trim(),
            RescoreJobId = jobId,
        };
        var next = new ActiveModelEntity { Version = model.Version, PublishedAt = now, RescoreJobId = jobId };
        var actions = new List<TableTransactionAction>(3)
        {
            pointer is null ? new(TableTransactionActionType.Add, next) : new(TableTransactionActionType.UpdateReplace, next, pointer.ETag),
            new(TableTransactionActionType.Add, publication),
        };
        RescoreJobEntity? job = null;
        if (jobId is not null)
        {
            job = NewJob(jobId, model.Version, actor, now);
            actions.Add(new(TableTransactionActionType.Add, job));
        }
        try
        {
            await table.Client.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            return Conflict("another publish changed the active model at the same time; read the list and publish again.");
        }
        active.Invalidate();
        LogPublished(logger, model.Version, previous, jobId);
        return new ScoringPublishResult(ScoringPublishStatus.Done)
        {
            Publication = ToView(publication),
            Rescore = job is null ? null : RescoreJobView.From(job),
        };
    }

    /// <summary>Starts a re-score of every lead under the active version; a 409 while one for that version is still running.</summary>
    public async Task<ScoringPublishResult> StartRescoreAsync(ScoringActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var pointer = await ReadPointerAsync(cancellationToken);
        var target = pointer?.Version ?? active.Baseline.Version;
        if (pointer?.RescoreJobId is { } running && await ReadJobAsync(running, cancellationToken) is { } current
            && current.TargetVersion == target && current.State is RescoreStates.Enqueueing or RescoreStates.Checking)
            return Conflict($"re-score {running} of version {target} is still running.");

        var now = time.GetUtcNow();
        var job = NewJob(NewJobId(now), target, actor, now);
        var next = new ActiveModelEntity { Version = target, PublishedAt = pointer?.PublishedAt ?? now, RescoreJobId = job.JobId };
        try
        {
            await table.Client.SubmitTransactionAsync(
            [
                pointer is null ? new(TableTransactionActionType.Add, next) : new(TableTransactionActionType.UpdateReplace, next, pointer.ETag),
                new(TableTransactionActionType.Add, job),
            ], cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            return Conflict("the active model changed at the same time; try again.");
        }
        LogRescoreStarted(logger, job.JobId, target);
        return new ScoringPublishResult(ScoringPublishStatus.Done) { Rescore = RescoreJobView.From(job) };
    }

    public async Task<RescoreJobView?> FindRescoreAsync(string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (!IsJobId(jobId))
            return null;
        return await ReadJobAsync(jobId, cancellationToken) is { } job ? RescoreJobView.From(job) : null;
    }

    public async Task<ScoringModelsView> ListAsync(CancellationToken cancellationToken)
    {
        var pointer = await ReadPointerAsync(cancellationToken);
        var publications = new List<PublicationView>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ScoringModelRows.PublishedPartition} and RowKey ge {ScoringModelRows.PublicationPrefix} and RowKey lt {ScoringModelRows.PublicationEnd}");
        try
        {
            await foreach (var row in table.Client.QueryAsync<PublicationEntity>(filter, maxPerPage: MaxListed, cancellationToken: cancellationToken))
            {
                publications.Add(ToView(row));
                if (publications.Count >= MaxListed)
                    break;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No table: nothing published.
        }
        var activeView = pointer is null
            ? new ActiveModelView(active.Baseline.Version, false, null, null)
            : new ActiveModelView(pointer.Version, pointer.Version != active.Baseline.Version, pointer.PublishedAt, pointer.RescoreJobId);
        return new ScoringModelsView(activeView, active.Baseline.Version, publications);
    }

    private ScoringPublishResult? Validate(PublishModelRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(request.Reason))
            errors["reason"] = ["reason must say why the model is published."];
        else if (request.Reason.Trim().Length > MaxReasonLength)
            errors["reason"] = [$"reason must be at most {MaxReasonLength} characters."];
        if (request.ExpectedActiveVersion is { Length: > MaxVersionLength })
            errors["expectedActiveVersion"] = [$"expectedActiveVersion must be at most {MaxVersionLength} characters."];

        if (request.ModelJson.Length > MaxModelChars)
        {
            errors["model"] = [$"model must be at most {MaxModelChars} characters of JSON (it is stored as one table property of 64 KiB); this one has {request.ModelJson.Length}."];
            return Invalid(errors);
        }
        ScoringModel model;
        try
        {
            model = ScoringModelLoader.Load(request.ModelJson);
        }
        catch (InvalidScoringModelException ex)
        {
            errors["model"] = [.. ex.Errors];
            return Invalid(errors);
        }
        if (model.Version.Length > MaxVersionLength || model.Version.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
            errors["model.version"] = [$"version must be at most {MaxVersionLength} characters, without / \\ # ? or control characters."];
        foreach (var rule in model.EngagementRules.Where(r => r.Match.EventType == Domain.Events.LeadEventTypes.ModelRescore))
            errors[$"model.engagementRules[{rule.Id}].match.eventType"] = [$"rule {rule.Id}: {Domain.Events.LeadEventTypes.ModelRescore} is the system's re-score, never scored by rules."];
        var unreachable = ScoringModelReachability.Check(model, forms, content);
        // The same check the shipped files are tested with: a rule waiting for a value nothing can send never scores.
        foreach (var u in unreachable)
        {
            var key = $"model.{(u.Field == "values" ? "fitRules" : "engagementRules")}[{u.RuleId}].{u.Field}";
            errors[key] = [.. errors.GetValueOrDefault(key) ?? [], $"rule {u.RuleId}: {u.Reason}"];
        }
        return errors.Count > 0 ? Invalid(errors) : null;
    }

    /// <summary>Adds the version row, or checks that the stored one has the same content; null when fine.</summary>
    private async Task<ScoringPublishResult?> StoreVersionAsync(string version, string json, string hash, CancellationToken cancellationToken)
    {
        var existing = await ReadAsync<ModelVersionEntity>(ScoringModelRows.VersionPartition, version, cancellationToken);
        if (existing is null)
        {
            try
            {
                await table.Client.AddEntityAsync(new ModelVersionEntity { RowKey = version, ModelJson = json, ContentHash = hash, StoredAt = time.GetUtcNow() }, cancellationToken);
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                existing = await ReadAsync<ModelVersionEntity>(ScoringModelRows.VersionPartition, version, cancellationToken);
            }
        }
        return existing is not null && existing.ContentHash != hash
            ? Conflict($"version {version} is already published with other content; versions are immutable, so give this model a new version.")
            : null;
    }

    private Task<ActiveModelEntity?> ReadPointerAsync(CancellationToken cancellationToken) =>
        ReadAsync<ActiveModelEntity>(ScoringModelRows.PublishedPartition, ScoringModelRows.Active, cancellationToken);

    private Task<RescoreJobEntity?> ReadJobAsync(string jobId, CancellationToken cancellationToken) =>
        ReadAsync<RescoreJobEntity>(ScoringModelRows.PublishedPartition, ScoringModelRows.Job(jobId), cancellationToken);

    private async Task<T?> ReadAsync<T>(string partitionKey, string rowKey, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        try
        {
            var response = await table.Client.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken);
            return response.HasValue ? response.Value : null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private RescoreJobEntity NewJob(string jobId, string target, ScoringActor actor, DateTimeOffset now) => new()
    {
        RowKey = ScoringModelRows.Job(jobId),
        JobId = jobId,
        TargetVersion = target,
        State = RescoreStates.Enqueueing,
        StartedById = actor.Id,
        StartedByName = actor.Name,
        StartedAt = now,
        // Until every instance has re-read the pointer, one may still score an event with the old version after its re-score.
        NotBefore = now + options.Value.Refresh,
        UpdatedAt = now,
    };

    private static string NewJobId(DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..8];

    internal static bool IsJobId(string text) => text.Length == 22 && text.All(char.IsAsciiLetterOrDigit);

    private static PublicationView ToView(PublicationEntity row) =>
        new(row.Version, row.PreviousVersion, row.PublishedById, row.PublishedByName, row.PublishedAt, row.Reason, row.RescoreJobId);

    private static ScoringPublishResult Invalid(Dictionary<string, string[]> errors) => new(ScoringPublishStatus.Invalid) { Errors = errors };

    private static ScoringPublishResult Conflict(string reason) => new(ScoringPublishStatus.Conflict) { Conflict = reason };

    [LoggerMessage(Level = LogLevel.Information, Message = "Published scoring model {Version} (was {PreviousVersion}); re-score job {JobId}")]
    private static partial void LogPublished(ILogger logger, string version, string previousVersion, string? jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started re-score {JobId} under model {Version}")]
    private static partial void LogRescoreStarted(ILogger logger, string jobId, string version);
}
