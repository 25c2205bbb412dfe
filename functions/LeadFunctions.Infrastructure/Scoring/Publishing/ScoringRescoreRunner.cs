using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>What one timer run did.</summary>
public sealed record RescoreRunResult(string? JobId, string? State, int LeadsWalked, int Enqueued);

/// <summary>
/// Advances the active model's re-score job by a bounded number of pages per run. The job row holds the cursor (the lead-row
/// query's continuation) and the counts, and is ETag-updated after each page, so two overlapping runs cannot both advance it.
/// A run that dies after enqueueing a page but before saving the cursor enqueues that page again on the next run: the events
/// have deterministic ids (<see cref="LeadRescore.EventId"/>), so the processor's applied-event row makes the repeat a no-op and
/// no lead is re-scored twice. After the enqueueing walk, check walks count the leads whose points are all of the target
/// version (exact as of that walk: <c>leadsApplied</c>, <c>leadsRemaining</c>); the job finishes when one finds none left, or
/// after <see cref="ScoringPublishOptions.MaxCheckPasses"/> walks.
/// </summary>
public sealed partial class ScoringRescoreRunner(
    ScoringModelsTable models,
    LeadsTable leads,
    IActiveScoringModel active,
    ILeadEventPublisher publisher,
    IOptions<ScoringPublishOptions> options,
    TimeProvider time,
    ILogger<ScoringRescoreRunner> logger)
{
    private static readonly string[] LeadColumns = [nameof(ITableEntity.PartitionKey), nameof(LeadEntity.ModelVersion), nameof(LeadEntity.PointsModelVersion)];

    public async Task<RescoreRunResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pointer = await ReadAsync<ActiveModelEntity>(ScoringModelRows.Active, cancellationToken);
        if (pointer?.RescoreJobId is not { } jobId)
            return new RescoreRunResult(null, null, 0, 0);
        var job = await ReadAsync<RescoreJobEntity>(ScoringModelRows.Job(jobId), cancellationToken);
        if (job is null || job.State is RescoreStates.Finished or RescoreStates.Superseded)
            return new RescoreRunResult(jobId, job?.State, 0, 0);
        var now = time.GetUtcNow();
        if (job.TargetVersion != pointer.Version)
        {
            job.State = RescoreStates.Superseded;
            job.FinishedAt = job.UpdatedAt = now;
            await TrySaveAsync(job, cancellationToken);
            return new RescoreRunResult(jobId, job.State, 0, 0);
        }
        if (now < job.NotBefore)
            return new RescoreRunResult(jobId, job.State, 0, 0);
        // The target must load before anything is enqueued for it.
        _ = await active.GetVersionAsync(job.TargetVersion, cancellationToken)
            ?? throw new InvalidOperationException($"Re-score {jobId}: model {job.TargetVersion} has no stored version.");

        var settings = options.Value;
        var walked = 0;
        var enqueued = 0;
        for (var page = 0; page < settings.RescorePagesPerRun && job.State is RescoreStates.Enqueueing or RescoreStates.Checking; page++)
        {
            var checking = job.State == RescoreStates.Checking;
            var (rows, continuation) = await PageAsync(job.Continuation, settings.RescorePageSize, cancellationToken);
            foreach (var lead in rows)
            {
                var points = lead.PointsModelVersion ?? lead.ModelVersion;
                var current = points == job.TargetVersion;
                if (checking)
                {
                    if (current)
                        job.CheckOnTarget++;
                    else
                        job.CheckNotOnTarget++;
                    continue;
                }
                job.LeadsSeen++;
                if (current)
                {
                    job.LeadsAlreadyCurrent++;
                    continue;
                }
                await publisher.PublishAsync(LeadRescore.Event(jobId, lead.PartitionKey, job.TargetVersion, time.GetUtcNow()), cancellationToken);
                job.LeadsEnqueued++;
                enqueued++;
            }
            walked += rows.Count;
            job.Continuation = continuation;
            var walkEnded = continuation is null;
            if (walkEnded)
                EndWalk(job, settings);
            job.UpdatedAt = time.GetUtcNow();
            if (!await TrySaveAsync(job, cancellationToken))
                break;
            // One check walk per run at most: the queue gets time to drain before the next one counts.
            if (walkEnded && checking)
                break;
        }
        LogAdvanced(logger, jobId, job.State, walked, enqueued);
        return new RescoreRunResult(jobId, job.State, walked, enqueued);
    }

    private void EndWalk(RescoreJobEntity job, ScoringPublishOptions settings)
    {
        if (job.State == RescoreStates.Enqueueing)
        {
            job.State = RescoreStates.Checking;
            job.CheckPass = 1;
        }
        else
        {
            job.LeadsApplied = job.CheckOnTarget;
            job.LeadsRemaining = job.CheckNotOnTarget;
            if (job.CheckNotOnTarget == 0 || job.CheckPass >= settings.MaxCheckPasses)
            {
                job.State = RescoreStates.Finished;
                job.FinishedAt = time.GetUtcNow();
            }
            else
            {
                job.CheckPass++;
            }
        }
        job.CheckOnTarget = 0;
        job.CheckNotOnTarget = 0;
    }

    /// <summary>One page of lead rows (a scan of the <c>!lead</c> rows, as the dry-run reads them) from the stored continuation.</summary>
    private async Task<(List<LeadEntity> Rows, string? Continuation)> PageAsync(string? continuation, int size, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey eq {LeadRows.Lead}");
        await foreach (var page in leads.Client.QueryAsync<LeadEntity>(filter, maxPerPage: size, select: LeadColumns, cancellationToken: cancellationToken).AsPages(continuation, size))
            return ([.. page.Values], page.ContinuationToken);
        return ([], null);
    }

    private async Task<bool> TrySaveAsync(RescoreJobEntity job, CancellationToken cancellationToken)
    {
        try
        {
            var response = await models.Client.UpdateEntityAsync(job, job.ETag, TableUpdateMode.Replace, cancellationToken);
            job.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // Another run advanced the job meanwhile; what this run enqueued is harmless again.
            LogOverlap(logger, job.JobId);
            return false;
        }
    }

    private async Task<T?> ReadAsync<T>(string rowKey, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        try
        {
            var response = await models.Client.GetEntityIfExistsAsync<T>(ScoringModelRows.PublishedPartition, rowKey, cancellationToken: cancellationToken);
            return response.HasValue ? response.Value : null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-score {JobId} is {State}: walked {Walked} lead(s), enqueued {Enqueued}")]
    private static partial void LogAdvanced(ILogger logger, string jobId, string state, int walked, int enqueued);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-score {JobId} was advanced by another run; this one stops")]
    private static partial void LogOverlap(ILogger logger, string jobId);
}
