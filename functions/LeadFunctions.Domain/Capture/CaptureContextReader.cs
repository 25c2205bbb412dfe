using System.Globalization;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Events;

namespace LeadFunctions.Domain.Capture;

/// <summary>
/// Reads the capture context (UTM, referrer, landing page, user agent, visitor id). These values come from scripts and
/// headers, not from the person: a malformed one is dropped, never a reason to lose the lead.
/// </summary>
internal static partial class CaptureContextReader
{
    public const int MaxUtmLength = 200;
    public const int MaxUserAgentLength = 512;

    private static readonly (string Field, Func<CaptureContext, string?, CaptureContext> Set)[] Utm =
    [
        (CaptureFieldNames.UtmSource, (c, v) => c with { UtmSource = v }),
        (CaptureFieldNames.UtmMedium, (c, v) => c with { UtmMedium = v }),
        (CaptureFieldNames.UtmCampaign, (c, v) => c with { UtmCampaign = v }),
        (CaptureFieldNames.UtmTerm, (c, v) => c with { UtmTerm = v }),
        (CaptureFieldNames.UtmContent, (c, v) => c with { UtmContent = v }),
    ];

    public static CaptureContext Read(CaptureInput input, string? fallbackLandingPage = null)
    {
        var landingPage = HttpUrl(input.Field(CaptureFieldNames.PageUrl)) ?? HttpUrl(fallbackLandingPage) ?? HttpUrl(input.RefererHeader?.Trim());
        var context = new CaptureContext
        {
            LandingPageUrl = landingPage?.AbsoluteUri,
            Referrer = HttpUrl(input.Field(CaptureFieldNames.Referrer))?.AbsoluteUri,
            UserAgent = UserAgent(input.UserAgent),
        };

        // A plain form posted from a campaign link has the UTM tags only in its landing page's address.
        var query = landingPage is null ? [] : ParseQuery(landingPage.Query);
        foreach (var (field, set) in Utm)
        {
            var value = Clean(input.Field(field)) ?? Clean(query.GetValueOrDefault(field));
            if (value is not null)
                context = set(context, value);
        }
        return context;
    }

    public static string? VisitorId(CaptureInput input)
    {
        var fromField = input.Field(CaptureFieldNames.VisitorId);
        if (fromField is not null && VisitorIdPattern().IsMatch(fromField))
            return fromField;
        var fromCookie = input.VisitorCookie?.Trim();
        return fromCookie is not null && VisitorIdPattern().IsMatch(fromCookie) ? fromCookie : null;
    }

    public static bool IsValidVisitorId(string value) => VisitorIdPattern().IsMatch(value);

    /// <summary>An absolute http(s) URL of sane length, or nothing.</summary>
    public static Uri? HttpUrl(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > FormCatalog.MaxUrlLength)
            return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return null;
        return uri;
    }

    /// <summary>
    /// Control characters, and invisible format characters (Unicode Cf: bidi overrides and isolates, LRM/RLM, zero-width
    /// space, BOM), which nobody types into a name or company but which reverse or hide text in a mail reader or a
    /// sales alert. ZWNJ and ZWJ are allowed: Persian, Indic scripts and emoji need them.
    /// </summary>
    public static bool HasControlCharacters(string value, bool allowLineBreaks)
    {
        foreach (var c in value)
        {
            if (allowLineBreaks && c is '\r' or '\n' or '\t')
                continue;
            if (char.IsControl(c) || c is '\u2028' or '\u2029')
                return true;
            if (c is not ('\u200C' or '\u200D') && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
                return true;
        }
        return false;
    }

    private static string? Clean(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        value = value.Trim();
        return value.Length <= MaxUtmLength && !HasControlCharacters(value, allowLineBreaks: false) ? value : null;
    }

    private static string? UserAgent(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        var cleaned = new string(value.Trim().Where(c => !char.IsControl(c)).ToArray());
        return cleaned.Length <= MaxUserAgentLength ? cleaned : cleaned[..MaxUserAgentLength];
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                continue;
            try
            {
                var key = Uri.UnescapeDataString(pair[..eq].Replace('+', ' '));
                var value = Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
                result.TryAdd(key, value);
            }
            catch (UriFormatException)
            {
                // A tag that cannot be decoded is context we do without.
            }
        }
        return result;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{8,64}$")]
    private static partial Regex VisitorIdPattern();
}
