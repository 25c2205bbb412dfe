using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

/// <summary>The table published models live in (ScoringPublish:ModelsTable).</summary>
public sealed record ScoringModelsTable(TableClient Client);

/// <summary>The model new events are scored with, and the engine over it.</summary>
/// <param name="Published">False when nothing is published and the model file (the baseline) scores.</param>
public sealed record ActiveScoring(ScoringModel Model, ScoringEngine Engine, bool Published);

/// <summary>
/// Which scoring model is in force. Everything that scores or reads thresholds asks this instead of holding the model loaded
/// at start: the processor, the lead directory (decay on read, which the timer uses), the dry-run, calibration, the workspace.
/// </summary>
public interface IActiveScoringModel
{
    /// <summary>The model file loaded at start: what scores while nothing is published.</summary>
    ScoringModel Baseline { get; }

    /// <summary>The last model this instance read (the baseline before the first read), without touching storage.</summary>
    ScoringModel Current { get; }

    /// <summary>The active model, re-read at most every <see cref="ScoringPublishOptions.RefreshSeconds"/>.</summary>
    ValueTask<ActiveScoring> GetAsync(CancellationToken cancellationToken);

    /// <summary>A published version (immutable, so cached for good), the baseline by its version, or null if there is none.</summary>
    ValueTask<ScoringModel?> GetVersionAsync(string version, CancellationToken cancellationToken);

    /// <summary>Forget the cached pointer: the next <see cref="GetAsync"/> reads it (after a publish on this instance).</summary>
    void Invalidate();
}

/// <summary>
/// The active pointer row, cached per instance for <see cref="ScoringPublishOptions.RefreshSeconds"/>: one point read per instance
/// per period, so a publish reaches every instance within that time without a read per event. Versions are immutable, so a
/// loaded version is kept (a few). A published model is loaded by the same loader as the file at start; one that no longer
/// loads (a stricter loader in a newer release) fails scoring loudly, so events retry and park instead of being scored by
/// something else.
/// </summary>
public sealed partial class ActiveScoringModel(
    ScoringModelsTable table,
    ScoringModel baseline,
    IOptions<ScoringPublishOptions> options,
    TimeProvider time,
    ILogger<ActiveScoringModel> logger) : IActiveScoringModel
{
    private const int MaxCachedVersions = 16;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly ConcurrentDictionary<string, ScoringModel> _versions = new(StringComparer.Ordinal);
    private readonly ActiveScoring _baseline = new(baseline, new ScoringEngine(baseline), false);
    private volatile Cached? _cached;

    public ScoringModel Baseline => baseline;

    public ScoringModel Current => _cached?.Active.Model ?? baseline;

    public async ValueTask<ActiveScoring> GetAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cached is { } fresh && now - fresh.ReadAt < options.Value.Refresh)
            return fresh.Active;

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            now = time.GetUtcNow();
            if (_cached is { } again && now - again.ReadAt < options.Value.Refresh)
                return again.Active;
            ActiveModelEntity? pointer;
            try
            {
                var response = await table.Client.GetEntityIfExistsAsync<ActiveModelEntity>(ScoringModelRows.PublishedPartition, ScoringModelRows.Active, cancellationToken: cancellationToken).ConfigureAwait(false);
                pointer = response.HasValue ? response.Value : null;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                pointer = null; // no table yet: nothing was ever published
            }
            catch (RequestFailedException ex) when (_cached is not null)
            {
                // Keep scoring with what this instance knows; the next call tries again.
                LogRefreshFailed(logger, ex, ex.Status);
                return _cached.Active;
            }

            var active = _baseline;
            if (pointer is not null && pointer.Version != baseline.Version)
            {
                var model = await GetVersionAsync(pointer.Version, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"The active scoring model {pointer.Version} has no stored version row.");
                active = _cached?.Active.Model.Version == model.Version ? _cached.Active : new ActiveScoring(model, new ScoringEngine(model), true);
            }
            if (_cached?.Active.Model.Version != active.Model.Version)
                LogSwitched(logger, active.Model.Version);
            _cached = new Cached(active, now);
            return active;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public async ValueTask<ScoringModel?> GetVersionAsync(string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version == baseline.Version)
            return baseline;
        if (_versions.TryGetValue(version, out var known))
            return known;
        ModelVersionEntity? row;
        try
        {
            var response = await table.Client.GetEntityIfExistsAsync<ModelVersionEntity>(ScoringModelRows.VersionPartition, version, cancellationToken: cancellationToken).ConfigureAwait(false);
            row = response.HasValue ? response.Value : null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            row = null;
        }
        if (row is null)
            return null;
        ScoringModel model;
        try
        {
            model = ScoringModelLoader.Load(row.ModelJson);
        }
        catch (InvalidScoringModelException ex)
        {
            throw new InvalidOperationException($"The published scoring model {version} no longer loads: {string.Join("; ", ex.Errors)}", ex);
        }
        if (_versions.Count >= MaxCachedVersions)
            _versions.Clear();
        _versions[version] = model;
        return model;
    }

    public void Invalidate() => _cached = _cached is { } cached ? cached with { ReadAt = DateTimeOffset.MinValue } : null;

    private sealed record Cached(ActiveScoring Active, DateTimeOffset ReadAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the active scoring model (status {Status}); scoring with the one this instance knows")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scoring with model {Version}")]
    private static partial void LogSwitched(ILogger logger, string version);
}
