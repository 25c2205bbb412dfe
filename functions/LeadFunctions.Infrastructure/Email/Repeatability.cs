using LeadFunctions.Domain.Messaging;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// ACS's repeatable requests: the service remembers a <c>Repeatability-Request-Id</c> for 5 minutes from its
/// <c>Repeatability-First-Sent</c> and answers 412 to any request whose first-sent time is older. The outbox therefore
/// reuses one logical attempt only while it is young enough, and the sender stops retrying before the window closes.
/// </summary>
public static class Repeatability
{
    /// <summary>How long ACS tracks a repeatable request (its documented tracked duration).</summary>
    public static readonly TimeSpan TrackedFor = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The sender sends no try of an attempt later than this after its first-sent time: 30 seconds short of
    /// <see cref="TrackedFor"/>, so a clock a little ahead of ACS's does not turn the last try into a 412.
    /// </summary>
    public static readonly TimeSpan SendWithin = TrackedFor - TimeSpan.FromSeconds(30);

    /// <summary>
    /// The outbox reuses an attempt (same request id, same first-sent) only while it is younger than this, which leaves
    /// at least 30 seconds for the first try; an older attempt is replaced by a new one.
    /// </summary>
    public static readonly TimeSpan ReuseWithin = SendWithin - TimeSpan.FromSeconds(30);

    /// <summary>
    /// The request id of the message's current attempt: attempt 1 (or none) is the name-based UUID of the message id,
    /// attempt n is that of <c>id#n</c>. Derived, so a takeover after a crash presents the same id as the run that died.
    /// </summary>
    public static Guid RequestId(EmailMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Attempt is { Number: > 1 } attempt
            ? MessageIdentity.RequestId($"{message.Id}#{attempt.Number}")
            : MessageIdentity.RequestId(message.Id);
    }
}
