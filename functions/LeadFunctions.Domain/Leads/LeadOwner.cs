namespace LeadFunctions.Domain.Leads;

/// <summary>
/// What may be stored as a lead's owner: a rep's normalised e-mail address, or (for a signed-in user whose id is not an address)
/// the trimmed id itself, bounded so the lead row's <c>Owner</c> stays small whatever a principal carries.
/// </summary>
public static class LeadOwner
{
    public const int MaxLength = 128;

    /// <summary>The owner to store for <paramref name="actor"/>, or null when it names nobody usable.</summary>
    public static string? Normalize(string? actor)
    {
        if (EmailAddress.TryNormalize(actor, out var address))
            return address;
        var trimmed = actor?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLength || trimmed.Any(char.IsControl))
            return null;
        return trimmed;
    }
}
