using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Mail;
using System.Text;

namespace LeadFunctions.Domain.Leads;

/// <summary>
/// E-mail addresses as the pipeline compares them: trimmed, case-insensitive and with the domain in its ASCII (punycode)
/// form, so one person is one lead. Only addresses a mail server on the internet can deliver to are accepted: RFC 5321
/// limits (local part at most 64 octets, domain labels of 1–63 letters, digits and hyphens), no IP literals, no
/// trailing dot, and a top-level domain that is not all digits (<c>a@1.1</c> is an IP address, not a domain).
/// </summary>
public static class EmailAddress
{
    public const int MaxLength = 254;
    public const int MaxLocalPartOctets = 64;
    public const int MaxDomainLength = 253;
    public const int MaxLabelLength = 63;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    public static bool TryNormalize(string? raw, [NotNullWhen(true)] out string? normalized)
    {
        normalized = null;
        if (string.IsNullOrWhiteSpace(raw))
            return false;

        var candidate = raw.Trim();
        if (candidate.Length > MaxLength || ContainsSpaceOrControl(candidate))
            return false;
        if (!MailAddress.TryCreate(candidate, out var parsed) || parsed.Address != candidate || parsed.DisplayName.Length > 0)
            return false;
        var at = candidate.LastIndexOf('@');
        if (at <= 0 || at == candidate.Length - 1)
            return false;

        var local = candidate[..at];
        if (Encoding.UTF8.GetByteCount(local) > MaxLocalPartOctets)
            return false;
        if (!TryNormalizeDomain(candidate[(at + 1)..], out var domain))
            return false;

        var result = local.ToLowerInvariant() + "@" + domain;
        if (result.Length > MaxLength)
            return false;
        normalized = result;
        return true;
    }

    /// <summary>A host name as DNS knows it: punycode, lower case, at least two valid labels, a TLD not all digits.</summary>
    private static bool TryNormalizeDomain(string domain, [NotNullWhen(true)] out string? ascii)
    {
        ascii = null;
        // IP literals ([127.0.0.1]) and a trailing dot (an absolute name) are valid in RFC 5321 but no landing-page
        // visitor has one; they only serve to reach internal hosts or to make one mailbox look like two leads.
        if (domain.Length == 0 || domain[0] == '[' || domain.EndsWith('.'))
            return false;
        try
        {
            // Lower-cased first: with invariant globalization IdnMapping does not apply the UTS 46 case mapping itself,
            // so BÜCHER and bücher would otherwise become two different punycode names.
            ascii = Idn.GetAscii(domain.ToLowerInvariant()).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return false;
        }
        if (ascii.Length > MaxDomainLength)
            return false;

        var labels = ascii.Split('.');
        if (labels.Length < 2)
            return false;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
                return false;
            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                    return false;
            }
        }
        return !labels[^1].All(char.IsAsciiDigit);
    }

    private static bool ContainsSpaceOrControl(string value)
    {
        foreach (var c in value)
        {
            // Format characters (bidi overrides, zero-width joiners) are invisible: two addresses that look the same
            // must not be two leads, and none can be typed into a mail client anyway.
            if (char.IsWhiteSpace(c) || char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
                return true;
        }
        return false;
    }
}
