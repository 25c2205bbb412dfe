using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Tests.Support;

/// <summary>
/// The lead id key every test host and harness is configured with, so a test can compute the id the app gives an address.
/// A random-looking key, as a real deployment has: harnesses run as Production, where the sample key is refused.
/// </summary>
internal static class TestLeadIds
{
    public const string Setting = "LeadIds:Key";
    public const string Key = "kjbeL4c+qWH5KBrXGpTvFKwAQczSCYDbJT8eMQCwQD4=";

    public static LeadIdentity Identity { get; } = new(LeadIdentity.DefaultKeyId, Key);

    /// <summary>The lead id the app derives for <paramref name="email"/> (normalised first, as the app does).</summary>
    public static string LeadIdFor(string email) =>
        Identity.LeadIdFor(EmailAddress.TryNormalize(email, out var normalized) ? normalized : throw new ArgumentException($"'{email}' is not an address.", nameof(email)));
}
