namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>A parked outbox item as operators see it: ids, kind, reason, counts and times; never an address or a name.</summary>
public sealed record ParkedEmail(
    string Id,
    string LeadId,
    string Kind,
    string? Programme,
    string? Step,
    string Reason,
    bool Permanent,
    int Attempts,
    DateTimeOffset DueAt,
    DateTimeOffset ParkedAt);

public sealed record ParkedEmailPage(IReadOnlyList<ParkedEmail> Items, string? Continuation);

/// <summary><see cref="More"/>: "all" re-queues at most <see cref="ParkedEmailLimits.MaxRequeuePerCall"/> per call; call again.</summary>
public sealed record RequeueResult(int Requeued, IReadOnlyList<string> NotFound, bool More);

/// <summary>The parked list behind <c>/api/ops/email/failed</c>: read it, and put items back on the due index.</summary>
public interface IParkedEmails
{
    Task<ParkedEmailPage> ListAsync(int pageSize, string? continuation, CancellationToken cancellationToken);

    /// <summary>Re-queues the given ids, or every parked item when <paramref name="ids"/> is null; each becomes due now.</summary>
    Task<RequeueResult> RequeueAsync(IReadOnlyList<string>? ids, CancellationToken cancellationToken);
}

public static class ParkedEmailLimits
{
    public const int MaxPageSize = 200;
    public const int MaxRequeuePerCall = 1000;
}

internal sealed class ParkedEmails(NurtureStore store, TimeProvider time) : IParkedEmails
{
    private const int MaxPageSize = ParkedEmailLimits.MaxPageSize;
    private const int MaxRequeuePerCall = ParkedEmailLimits.MaxRequeuePerCall;

    public async Task<ParkedEmailPage> ListAsync(int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        var (items, next) = await store.ParkedAsync(pageSize, continuation, cancellationToken);
        return new ParkedEmailPage([.. items.Select(ToView)], next);
    }

    public async Task<RequeueResult> RequeueAsync(IReadOnlyList<string>? ids, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (ids is not null)
        {
            var notFound = new List<string>();
            var requeued = 0;
            foreach (var id in ids.Distinct(StringComparer.Ordinal))
            {
                if (await store.FindParkedAsync(id, cancellationToken) is { } parked)
                {
                    await store.RequeueAsync(parked, now, cancellationToken);
                    requeued++;
                }
                else
                {
                    notFound.Add(id);
                }
            }
            return new RequeueResult(requeued, notFound, More: false);
        }

        var count = 0;
        string? continuation = null;
        do
        {
            var (page, next) = await store.ParkedAsync(Math.Min(MaxPageSize, MaxRequeuePerCall - count), continuation, cancellationToken);
            foreach (var parked in page)
                await store.RequeueAsync(parked, now, cancellationToken);
            count += page.Count;
            continuation = next;
        }
        while (continuation is not null && count < MaxRequeuePerCall);
        return new RequeueResult(count, [], More: continuation is not null);
    }

    private static ParkedEmail ToView(ParkedEntity parked) =>
        new(parked.RowKey, parked.LeadId, parked.Kind, parked.Programme, parked.Step, parked.Reason, parked.Permanent, parked.Attempts, parked.DueAt, parked.ParkedAt);
}
