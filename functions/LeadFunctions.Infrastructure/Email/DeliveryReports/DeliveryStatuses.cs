namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

/// <summary>
/// The <c>status</c> values ACS documents for a delivery report, and which of them stop further e-mail to the address.
/// </summary>
public static class DeliveryStatuses
{
    public const string Delivered = "Delivered";
    public const string Expanded = "Expanded";
    public const string Bounced = "Bounced";
    public const string Suppressed = "Suppressed";
    public const string Failed = "Failed";
    public const string Quarantined = "Quarantined";
    public const string FilteredSpam = "FilteredSpam";

    /// <summary>
    /// A hard bounce, ACS's own suppression after an earlier hard bounce, a final failure, and a rejection as spam all say the next
    /// e-mail would fare the same and hurt the sender's reputation (bulk-sender rules: bounces and complaints must suppress).
    /// Quarantined does not: the message is held by the recipient's filters and may still be released and read; it is counted only.
    /// </summary>
    public static bool Suppresses(string status) =>
        status.Equals(Bounced, StringComparison.OrdinalIgnoreCase)
        || status.Equals(Suppressed, StringComparison.OrdinalIgnoreCase)
        || status.Equals(Failed, StringComparison.OrdinalIgnoreCase)
        || status.Equals(FilteredSpam, StringComparison.OrdinalIgnoreCase);

    private static readonly string[] Known = [Delivered, Expanded, Bounced, Suppressed, Failed, Quarantined, FilteredSpam];

    /// <summary>The documented spelling of a known status, or <c>Other</c>: what logs and counts use, never free text from the body.</summary>
    public static string Canonical(string status) =>
        Known.FirstOrDefault(k => k.Equals(status, StringComparison.OrdinalIgnoreCase)) ?? "Other";
}
