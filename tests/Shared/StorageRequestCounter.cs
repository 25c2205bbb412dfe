using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace LeadFunctions.Testing;

/// <summary>
/// Counts storage requests by kind: point reads and queries (GET), entity-group transactions ($batch), the rest, and finer
/// by what each request does (<see cref="ByKind"/>: queue receive, delete, send; table point read, query, batch, upsert…).
/// Added to a client's pipeline per call or per retry, so every request the SDK sends (each page of a query, each retry when
/// added per retry) is one count. Shared by the benchmarks, the tests and the local host's opt-in request count (linked into
/// each project), so all measure the same way.
/// </summary>
internal sealed class CountingPolicy : HttpPipelineSynchronousPolicy
{
    private long _reads, _batches, _others;
    private readonly ConcurrentDictionary<string, long> _byKind = new(StringComparer.Ordinal);

    public long Reads => Interlocked.Read(ref _reads);
    public long Batches => Interlocked.Read(ref _batches);
    public long Others => Interlocked.Read(ref _others);
    public long Total => Reads + Batches + Others;

    /// <summary>Requests so far by <see cref="KindOf"/>, a snapshot.</summary>
    public IReadOnlyDictionary<string, long> ByKind => new SortedDictionary<string, long>(_byKind, StringComparer.Ordinal);

    public void Reset()
    {
        Interlocked.Exchange(ref _reads, 0);
        Interlocked.Exchange(ref _batches, 0);
        Interlocked.Exchange(ref _others, 0);
        _byKind.Clear();
    }

    /// <summary>The requests <paramref name="act"/> sends, by kind.</summary>
    public async Task<(int Reads, int Batches, int Others)> CountAsync(Func<Task> act)
    {
        ArgumentNullException.ThrowIfNull(act);
        Reset();
        await act();
        return ((int)Reads, (int)Batches, (int)Others);
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = message.Request;
        if (request.Method == RequestMethod.Get)
            Interlocked.Increment(ref _reads);
        else if (request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))
            Interlocked.Increment(ref _batches);
        else
            Interlocked.Increment(ref _others);
        _byKind.AddOrUpdate(KindOf(request), 1, (_, n) => n + 1);
    }

    /// <summary>
    /// What a queue or table request does, from its method, path and query (the REST shapes of both services, the same in
    /// Azure and Azurite): <c>queue receive</c>, <c>queue delete</c>, <c>table point read</c>, <c>table batch</c>, …
    /// </summary>
    public static string KindOf(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Uri.Path;
        var query = request.Uri.Query;
        var method = request.Method;
        if (query.Contains("comp=lease", StringComparison.OrdinalIgnoreCase) || query.Contains("restype=container", StringComparison.OrdinalIgnoreCase))
            return "blob (listener locks)";
        if (path.EndsWith("/messages", StringComparison.Ordinal) || path.Contains("/messages/", StringComparison.Ordinal))
        {
            if (method == RequestMethod.Get)
                return query.Contains("peekonly=true", StringComparison.OrdinalIgnoreCase) ? "queue peek" : "queue receive";
            if (method == RequestMethod.Post)
                return "queue send";
            if (method == RequestMethod.Delete)
                return path.Contains("/messages/", StringComparison.Ordinal) ? "queue delete" : "queue clear";
            return method == RequestMethod.Put ? "queue update" : "queue other";
        }
        if (path.EndsWith("$batch", StringComparison.Ordinal))
            return "table batch";
        var entity = path.IndexOf('(', StringComparison.Ordinal);
        if (entity >= 0 && !path.Contains("/Tables(", StringComparison.OrdinalIgnoreCase))
        {
            var keyed = path.Contains("PartitionKey=", StringComparison.Ordinal);
            if (method == RequestMethod.Get)
                return keyed ? "table point read" : "table query";
            if (method == RequestMethod.Delete)
                return "table delete";
            if (method == RequestMethod.Put)
                return request.Headers.Contains("If-Match") ? "table replace" : "table upsert";
            if (method.Method is "MERGE" or "PATCH")
                return request.Headers.Contains("If-Match") ? "table merge" : "table upsert (merge)";
            return "table other";
        }
        if (method == RequestMethod.Post && path.EndsWith("/Tables", StringComparison.OrdinalIgnoreCase))
            return "table create";
        if (method == RequestMethod.Post && request.Headers.Contains("DataServiceVersion"))
            return "table insert";
        if (query.Contains("comp=metadata", StringComparison.OrdinalIgnoreCase) || method == RequestMethod.Put || method == RequestMethod.Head)
            return "queue or table admin";
        return method == RequestMethod.Get ? "other read" : "other";
    }
}
