using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Infrastructure.Leads;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// The programme a lead is in (one row per lead, <c>enrolment</c> in the lead's partition of the nurture state table): a lead is in
/// at most one programme, so a due step of any other programme for the same MQL episode is dropped as taken over.
/// </summary>
internal sealed class NurtureEnrolmentEntity : ITableEntity
{
    public const string Row = "enrolment";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Programme { get; set; } = "";
    /// <summary>UTC ticks of the stage change into MQL that started the episode (the due items' <c>TransitionTicks</c>).</summary>
    public long TransitionTicks { get; set; }
    /// <summary><c>mql</c> or <c>requalified</c>: how the lead entered, so a later takeover is judged by the same entry kind.</summary>
    public string Entry { get; set; } = "mql";
    public DateTimeOffset EnrolledAt { get; set; }
    public string? TakenOverFrom { get; set; }

    public DateTimeOffset TransitionAt => new(TransitionTicks, TimeSpan.Zero);

    /// <summary>The enrolment is of an earlier MQL episode than <paramref name="transitionAt"/> (stores keep milliseconds only).</summary>
    public bool IsBefore(DateTimeOffset transitionAt) => TransitionAt < transitionAt - NurturePlanner.StoreTolerance;

    public bool IsAfter(DateTimeOffset transitionAt) => TransitionAt > transitionAt + NurturePlanner.StoreTolerance;

    public NurtureEntryKind EntryKind => Entry == NurtureEntry.Name(NurtureEntryKind.Requalified) ? NurtureEntryKind.Requalified : NurtureEntryKind.Mql;
}

/// <summary>
/// The latest time the lead did something the nurture file waits for: one row per branch step (<c>nb|{programme}|{step}</c>) and
/// one per programme with goals (<c>ng|{programme}</c>), in the lead's partition of the leads table, written in the lead's
/// transaction with the event. Only behaviours the file names get a row, so a lead has at most as many as the file has branches
/// and programmes with goals.
/// </summary>
internal sealed class NurtureBehaviourEntity : ITableEntity
{
    public const string BranchPrefix = "nb|";
    public const string GoalPrefix = "ng|";
    public const int MaxCount = 100_000;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset LastAt { get; set; }
    public int Count { get; set; }
    /// <summary>The event that set <see cref="LastAt"/> (an id, for tracing a branch decision).</summary>
    public string? LastEventId { get; set; }

    public static string BranchRow(string programme, string step) => $"{BranchPrefix}{programme}|{step}";
    public static string GoalRow(string programme) => $"{GoalPrefix}{programme}";
}

/// <summary>
/// Writes the behaviour rows for the events the processor applies, in the same entity-group transaction (the lead's partition).
/// Reads an existing row only when an event matches, to keep the latest time when events arrive out of order.
/// </summary>
internal sealed class NurtureBehaviourRecorder(NurtureConfiguration configuration, LeadsTable leads, TimeProvider time) : ILeadEventRecorder
{
    public async Task<IReadOnlyList<ITableEntity>> RowsAsync(string leadId, IReadOnlyList<LeadEvent> events, CancellationToken cancellationToken)
    {
        Dictionary<string, NurtureBehaviourEntity>? rows = null;
        var now = time.GetUtcNow();
        foreach (var e in events)
        {
            foreach (var (row, behaviour, programme) in Conditions())
            {
                if (!behaviour.Matches(e, programme))
                    continue;
                rows ??= new(StringComparer.Ordinal);
                if (!rows.TryGetValue(row, out var entity))
                {
                    var found = await leads.Client.GetEntityIfExistsAsync<NurtureBehaviourEntity>(leadId, row, cancellationToken: cancellationToken);
                    entity = found.HasValue ? found.Value! : new NurtureBehaviourEntity { PartitionKey = leadId, RowKey = row, LastAt = DateTimeOffset.MinValue };
                    rows[row] = entity;
                }
                // A time a client sent cannot be later than now; it is when we learned of it at the latest.
                var at = e.OccurredAt > now ? now : e.OccurredAt;
                if (at > entity.LastAt)
                {
                    entity.LastAt = at;
                    entity.LastEventId = e.EventId.Length > 200 ? e.EventId[..200] : e.EventId;
                }
                entity.Count = Math.Min(entity.Count + 1, NurtureBehaviourEntity.MaxCount);
            }
        }
        return rows is null ? [] : [.. rows.Values.Select(r => { r.ETag = default; return (ITableEntity)r; })];
    }

    private IEnumerable<(string Row, NurtureBehaviour Behaviour, string Programme)> Conditions()
    {
        foreach (var programme in configuration.Catalogue.Programmes.Values)
        {
            foreach (var step in programme.Steps)
            {
                if (step.Branch is { } branch)
                    yield return (NurtureBehaviourEntity.BranchRow(programme.Id, step.Id), branch.When, programme.Id);
            }
            foreach (var goal in programme.Exit.Goals)
                yield return (NurtureBehaviourEntity.GoalRow(programme.Id), goal, programme.Id);
        }
    }
}

/// <summary>Reads and writes a lead's enrolment and reads its behaviour rows: point reads only.</summary>
internal sealed class NurtureProgrammeState(NurtureTables tables, LeadsTable leads)
{
    public async Task<NurtureEnrolmentEntity?> FindEnrolmentAsync(string leadId, CancellationToken cancellationToken)
    {
        var row = await tables.State.GetEntityIfExistsAsync<NurtureEnrolmentEntity>(leadId, NurtureEnrolmentEntity.Row, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Upsert: the observer may write it again for a retried commit, with the same values.</summary>
    public Task EnrolAsync(string leadId, string programme, DateTimeOffset transitionAt, NurtureEntryKind entry, DateTimeOffset now, string? takenOverFrom, CancellationToken cancellationToken) =>
        tables.State.UpsertEntityAsync(new NurtureEnrolmentEntity
        {
            PartitionKey = leadId,
            Programme = programme,
            TransitionTicks = transitionAt.UtcTicks,
            Entry = NurtureEntry.Name(entry),
            EnrolledAt = now,
            TakenOverFrom = takenOverFrom,
        }, TableUpdateMode.Replace, cancellationToken);

    /// <summary>The latest time the behaviour of that row was recorded for the lead, or null.</summary>
    public async Task<DateTimeOffset?> LastAsync(string leadId, string row, CancellationToken cancellationToken)
    {
        var found = await leads.Client.GetEntityIfExistsAsync<NurtureBehaviourEntity>(leadId, row, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value!.LastAt : null;
    }
}
