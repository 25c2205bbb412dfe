namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>
/// A store outside the lead's partition that work runs into after the lead's commit (a projection), which an erasure must close
/// against that work rather than only empty: work in flight when the rows go, or run later, would otherwise write the person
/// back. The eraser calls <see cref="GuardAsync"/> at the start of every pass, before it deletes anything, with what it found.
/// </summary>
internal interface ILeadErasureGuard
{
    /// <summary>Closes every place <paramref name="data"/> shows the lead could be written to; <paramref name="done"/> holds what this erasure already closed.</summary>
    Task GuardAsync(LeadData data, DateTimeOffset erasedAt, ISet<string> done, CancellationToken cancellationToken);

    /// <summary>Rows the guard replaces or keeps (markers: ids and times only) rather than the eraser deleting them.</summary>
    bool Keeps(StoredRow row);
}
