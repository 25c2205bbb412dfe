using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Tests.Leads;

/// <summary>A lead identity under a fixed test key, for tests that need real-shaped lead ids.</summary>
internal static class TestIdentity
{
    public const string Key = "Wq3vN8xZ2rT6yB1mK9pL4sD7fH0jC5gA+eU2iO8wRtY=";

    public static LeadIdentity Instance { get; } = new(LeadIdentity.DefaultKeyId, Key);
}
