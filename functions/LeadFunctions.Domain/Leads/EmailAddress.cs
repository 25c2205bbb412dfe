using System.Diagnostics.CodeAnalysis;
using System.Net.Mail;

namespace LeadFunctions.Domain.Leads;

/// <summary>E-mail addresses as the pipeline compares them: trimmed and case-insensitive, so one person is one lead.</summary>
public static class EmailAddress
{
    public const int MaxLength = 254;

    public static bool TryNormalize(string? raw, [NotNullWhen(true)] out string? normalized)
    {
        normalized = null;
        if (string.IsNullOrWhiteSpace(raw))
            return false;

        var candidate = raw.Trim();
        if (candidate.Length > MaxLength || candidate.Contains(' ', StringComparison.Ordinal) || ContainsControl(candidate))
            return false;
        if (!MailAddress.TryCreate(candidate, out var parsed) || parsed.Address != candidate || parsed.DisplayName.Length > 0)
            return false;
        var at = candidate.LastIndexOf('@');
        if (at <= 0 || at == candidate.Length - 1 || !candidate.AsSpan(at + 1).Contains('.'))
            return false;

        normalized = candidate.ToLowerInvariant();
        return true;
    }

    private static bool ContainsControl(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c))
                return true;
        }
        return false;
    }
}
