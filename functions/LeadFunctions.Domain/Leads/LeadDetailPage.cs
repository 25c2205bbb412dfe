namespace LeadFunctions.Domain.Leads;

/// <summary>
/// What one read of a lead's detail asks for: at most <see cref="LedgerLimit"/> ledger rows and <see cref="HistoryLimit"/> stage
/// changes, newest first, each continuing where an earlier page's opaque continuation left off (null: from the newest).
/// </summary>
public sealed record LeadDetailQuery(int LedgerLimit, int HistoryLimit, string? LedgerContinuation = null, string? HistoryContinuation = null)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
}

/// <summary>One page of a newest-first list, and the opaque continuation for the next page (null when this is the last).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Continuation);

/// <summary>
/// A lead with the newest rows of its ledger and history. The lead's score is the lead row's, decayed to now, as in
/// <see cref="LeadDetails"/>; a page of the ledger is only part of the sum (the whole ledger, carried-forward rows included,
/// adds up to it). <see cref="EventCount"/> is how many events have been applied to the lead.
/// </summary>
public sealed record LeadDetailPage(LeadSummary Lead, Page<ScoreLedgerEntry> Ledger, Page<StageChange> History, int EventCount)
{
    /// <summary>The model version every point of the lead was scored by, or <c>mixed</c> (see <c>LeadEntity.PointsModelVersion</c>).</summary>
    public string? PointsModelVersion { get; init; }

    /// <summary>The version new events are scored with now (published, or the model file when nothing is).</summary>
    public string? ActiveModelVersion { get; init; }
}

public enum LeadDetailStatus
{
    Found,
    NotFound,
    /// <summary>A continuation was not one this lead's detail handed out (edited, for another lead, or for the other list).</summary>
    InvalidContinuation,
}

/// <param name="Field">For <see cref="LeadDetailStatus.InvalidContinuation"/>: the query parameter at fault.</param>
public sealed record LeadDetailResult(LeadDetailStatus Status, LeadDetailPage? Page = null, string? Field = null);

/// <summary>Reads a lead's detail a page at a time: a bounded number of storage requests whatever the size of its ledger.</summary>
public interface ILeadDetailReader
{
    Task<LeadDetailResult> FindPageAsync(string leadId, LeadDetailQuery query, CancellationToken cancellationToken);
}
