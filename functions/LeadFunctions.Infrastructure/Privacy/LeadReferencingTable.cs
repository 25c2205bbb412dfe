namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>
/// A table whose rows are not in the lead's partition but name the lead in a <c>LeadId</c> property (the due index: time and
/// priority partitions). Export and erasure query it for that property; every <see cref="Storage.RequiredTable"/> is read by
/// the lead's partition and its visitors' partitions anyway.
/// </summary>
/// <param name="Kind">What export calls its rows; null: due items.</param>
public sealed record LeadReferencingTable(Func<IServiceProvider, string> Name, string? Kind = null);
