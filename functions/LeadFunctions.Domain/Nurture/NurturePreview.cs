namespace LeadFunctions.Domain.Nurture;

/// <summary>
/// What a template preview renders for: a lead id no real lead can have (real ids are <c>l1…</c> keyed hashes, see
/// <see cref="Leads.LeadIdentity"/>), so the signed links in a preview work when a marketer clicks them but the tracking
/// endpoints count nothing, suppress nothing and queue nothing for it.
/// </summary>
public static class NurturePreview
{
    public const string LeadId = "preview";
    public const string Email = "preview@example.invalid";

    /// <summary>Bounds of a sample lead posted to the preview.</summary>
    public const int MaxProfileFields = 64;
    public const int MaxFieldNameLength = 64;
    public const int MaxFieldValueLength = 4000;

    public static bool IsPreviewLead(string? leadId) => string.Equals(leadId, LeadId, StringComparison.Ordinal);

    /// <summary>
    /// The built-in sample lead: every profile field a shipped form can fill (a test keeps it so), plus the time zone, so a
    /// template that uses a field no form gives shows up as a warning.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SampleProfile { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["firstName"] = "Ada",
        ["lastName"] = "Lovelace",
        ["company"] = "Analytical Engines",
        ["companySize"] = "51-200",
        ["role"] = "executive",
        ["country"] = "United Kingdom",
        ["phone"] = "+44 20 7946 0000",
        ["message"] = "We would like to see a demo.",
        ["need"] = "lead scoring",
        ["budget"] = "10k-50k",
        ["timing"] = "this quarter",
        [LeadTimeZones.ProfileField] = "Europe/London",
    };
}
