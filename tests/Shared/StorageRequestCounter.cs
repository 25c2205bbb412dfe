using Azure.Core;
using Azure.Core.Pipeline;

namespace LeadFunctions.Testing;

/// <summary>
/// Counts storage requests by kind: point reads and queries (GET), entity-group transactions ($batch), the rest. Added to a
/// client's pipeline per call, so every request the SDK sends (each page of a query, each retry) is one count. Shared by the
/// benchmarks and the tests (linked into both projects), so both measure the same way.
/// </summary>
internal sealed class CountingPolicy : HttpPipelineSynchronousPolicy
{
    private long _reads, _batches, _others;

    public long Reads => Interlocked.Read(ref _reads);
    public long Batches => Interlocked.Read(ref _batches);
    public long Others => Interlocked.Read(ref _others);
    public long Total => Reads + Batches + Others;

    public void Reset()
    {
        Interlocked.Exchange(ref _reads, 0);
        Interlocked.Exchange(ref _batches, 0);
        Interlocked.Exchange(ref _others, 0);
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
    }
}
