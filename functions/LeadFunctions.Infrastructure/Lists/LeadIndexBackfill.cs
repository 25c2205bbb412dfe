using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>What one backfill call did, and where the next one goes on (null: the table is done).</summary>
/// <param name="Scanned">Lead rows read.</param>
/// <param name="Indexed">Leads this call wrote into the index.</param>
/// <param name="AlreadyIndexed">Leads that had an anchor in their stage partition already (left as they are).</param>
/// <param name="Skipped">Leads the index took nothing for: a live event or another backfill got there first, or the lead was erased meanwhile.</param>
public sealed record LeadIndexBackfillResult(int Scanned, int Indexed, int AlreadyIndexed, int Skipped, string? Continuation);

/// <summary>
/// Builds the lead index for leads that have no anchor (leads untouched since the index was introduced): reads the leads table's
/// lead rows a page at a time (never the whole table in memory), at most the given number of pages per call, and answers a
/// continuation to resume from. A lead with an anchor in its stage partition is left alone; any other is written through the
/// projection's own version-checked reconcile (<see cref="LeadIndexProjection.IndexAsync"/>) at the lead row's event count, so
/// it may race live events (the higher version wins, an equal one is the same state) and erasures (the markers stop it). An
/// erased lead has no lead row, so it is never read.
/// </summary>
public sealed partial class LeadIndexBackfill
{
    public const int DefaultPages = 5;
    public const int MaxPages = 20;
    public const int PageSize = 100;
    private const int MaxParallel = 8;

    private static readonly string Filter = TableClient.CreateQueryFilter($"RowKey eq {LeadRows.Lead}");

    private readonly LeadsTable _leads;
    private readonly LeadIndexTable _index;
    private readonly LeadIndexProjection _projection;
    private readonly ScoringModel _model;
    private readonly TimeProvider _time;
    private readonly ILogger<LeadIndexBackfill> _logger;
    private readonly int _pageSize;

    public LeadIndexBackfill(LeadsTable leads, LeadIndexTable index, IEnumerable<Leads.ILeadProjection> projections, ScoringModel model, TimeProvider time, ILogger<LeadIndexBackfill> logger)
        : this(leads, index, projections.OfType<LeadIndexProjection>().Single(), model, time, logger, PageSize)
    {
    }

    internal LeadIndexBackfill(LeadsTable leads, LeadIndexTable index, LeadIndexProjection projection, ScoringModel model, TimeProvider time, ILogger<LeadIndexBackfill> logger, int pageSize)
    {
        _leads = leads;
        _index = index;
        _projection = projection;
        _model = model;
        _time = time;
        _logger = logger;
        _pageSize = pageSize;
    }

    public async Task<LeadIndexBackfillResult> RunAsync(string? continuation, int pages, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pages, MaxPages);
        var counts = new Counts();
        var read = 0;
        string? next = continuation;
        await foreach (var page in _leads.Client.QueryAsync<LeadEntity>(Filter, maxPerPage: _pageSize, cancellationToken: cancellationToken)
            .AsPages(string.IsNullOrEmpty(continuation) ? null : continuation, _pageSize))
        {
            await Parallel.ForEachAsync(page.Values.Where(l => LeadIdentity.IsLeadId(l.PartitionKey)),
                new ParallelOptions { MaxDegreeOfParallelism = MaxParallel, CancellationToken = cancellationToken },
                async (lead, ct) => counts.Add(await IndexAsync(lead, ct)));
            next = page.ContinuationToken;
            if (next is null || ++read >= pages)
                break;
        }
        var result = new LeadIndexBackfillResult(counts.Scanned, counts.Indexed, counts.AlreadyIndexed, counts.Skipped, next);
        LogRun(_logger, result.Scanned, result.Indexed, result.AlreadyIndexed, result.Skipped, result.Continuation is null);
        return result;
    }

    private async Task<Outcome> IndexAsync(LeadEntity lead, CancellationToken cancellationToken)
    {
        var halfLife = lead.HalfLifeSeconds > 0 ? TimeSpan.FromSeconds(lead.HalfLifeSeconds) : _model.HalfLife;
        var snapshot = LeadProjectionWorkRows.Snapshot(LeadMapping.ToState(lead), halfLife);
        // The stage partition is where every lead is listed: an anchor there (not a marker) means the index has the lead.
        var anchor = await _index.Client.GetEntityIfExistsAsync<LeadIndexAnchorEntity>(LeadIndexRows.StagePartition(snapshot.Stage), LeadIndexRows.Anchor(lead.PartitionKey),
            cancellationToken: cancellationToken);
        if (anchor.HasValue && anchor.Value is { IsErasureMarker: false })
            return Outcome.AlreadyIndexed;
        var work = new LeadProjectionWork(lead.PartitionKey, "backfill", _time.GetUtcNow(), Before: null, snapshot, []);
        return await _projection.IndexAsync(work, cancellationToken) ? Outcome.Indexed : Outcome.Skipped;
    }

    private enum Outcome
    {
        Indexed,
        AlreadyIndexed,
        Skipped,
    }

    private sealed class Counts
    {
        private int _scanned;
        private int _indexed;
        private int _already;
        private int _skipped;

        public int Scanned => _scanned;
        public int Indexed => _indexed;
        public int AlreadyIndexed => _already;
        public int Skipped => _skipped;

        public void Add(Outcome outcome)
        {
            Interlocked.Increment(ref _scanned);
            if (outcome == Outcome.Indexed)
                Interlocked.Increment(ref _indexed);
            else if (outcome == Outcome.AlreadyIndexed)
                Interlocked.Increment(ref _already);
            else
                Interlocked.Increment(ref _skipped);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead index backfill: {Scanned} leads read, {Indexed} indexed, {Already} already indexed, {Skipped} skipped; table done: {Done}")]
    private static partial void LogRun(ILogger logger, int scanned, int indexed, int already, int skipped, bool done);
}
