using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace LeadFunctions.Infrastructure.Email.Acs;

/// <summary>
/// Runs before every try of a send (a per-retry policy): once the attempt's <c>Repeatability-First-Sent</c> is
/// <see cref="Repeatability.SendWithin"/> old, ACS would answer 412 to the request, so it is not sent; the send fails as
/// transient and the outbox starts a new attempt on a later run. Without this, a long <c>Retry-After</c> or a slow
/// network could spend quota on retries ACS is bound to refuse.
/// </summary>
internal sealed class AcsRepeatabilityPolicy(TimeProvider time) : HttpPipelinePolicy
{
    public const string FirstSentProperty = "LeadFunctions.Repeatability.FirstSent";
    private const string LastStatusProperty = "LeadFunctions.Repeatability.LastStatus";

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            Record(message);
        }
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        try
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
        finally
        {
            Record(message);
        }
    }

    private void Check(HttpMessage message)
    {
        if (!message.TryGetProperty(FirstSentProperty, out var value) || value is not DateTimeOffset firstSent)
            return;
        if (time.GetUtcNow() - firstSent < Repeatability.SendWithin)
            return;
        var lastStatus = message.TryGetProperty(LastStatusProperty, out var status) && status is int s ? s : 0;
        throw new AcsRepeatabilityWindowClosedException(lastStatus);
    }

    private static void Record(HttpMessage message) =>
        message.SetProperty(LastStatusProperty, message.HasResponse ? message.Response.Status : 0);
}

/// <summary>A send stopped retrying because ACS's repeatability window for its attempt is about to close.</summary>
public sealed class AcsRepeatabilityWindowClosedException : Exception
{
    public AcsRepeatabilityWindowClosedException()
    {
    }

    public AcsRepeatabilityWindowClosedException(string message) : base(message)
    {
    }

    public AcsRepeatabilityWindowClosedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public AcsRepeatabilityWindowClosedException(int lastStatus)
        : base($"Stopped retrying the ACS send (last answer {lastStatus}): its Repeatability-First-Sent is about to leave ACS's 5-minute window.")
    {
        LastStatus = lastStatus;
    }

    /// <summary>The status of the last try (0 when it got no answer).</summary>
    public int LastStatus { get; }
}

/// <summary>ACS answered <c>Repeatability-Result: rejected</c>: it did not execute this request; a new attempt may.</summary>
public sealed class AcsRepeatabilityRejectedException : RequestFailedException
{
    public AcsRepeatabilityRejectedException(Response response) : base(response)
    {
    }

    public AcsRepeatabilityRejectedException(string message) : base(message)
    {
    }

    public AcsRepeatabilityRejectedException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
