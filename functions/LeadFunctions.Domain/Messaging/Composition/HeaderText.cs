using System.Globalization;
using System.Text;

namespace LeadFunctions.Domain.Messaging.Composition;

/// <summary>
/// Makes text safe for a header (subject, display name). No CR, LF or other control character survives to start a new
/// header; no format character (bidi overrides and isolates, LRM/RLM, zero-width characters) survives to reorder or hide
/// what the reader sees; and no RFC 2047 encoded word (<c>=?utf-8?q?…?=</c>) survives for a mail reader to decode into a
/// line that looks like a header of ours.
/// </summary>
public static class HeaderText
{
    public static string Clean(string? value, int maxLength = 200)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        var builder = new StringBuilder(value.Length);
        var lastWasSpace = false;
        foreach (var c in value)
        {
            if (IsInvisibleFormat(c))
                continue;
            var isSpace = char.IsWhiteSpace(c) || char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085';
            if (isSpace)
            {
                if (!lastWasSpace && builder.Length > 0)
                    builder.Append(' ');
                lastWasSpace = true;
            }
            else
            {
                builder.Append(c);
                lastWasSpace = false;
            }
        }
        var cleaned = BreakEncodedWords(builder.ToString().Trim());
        return cleaned.Length > maxLength ? cleaned[..maxLength].TrimEnd() : cleaned;
    }

    /// <summary>True when the text still holds something <see cref="Clean"/> would neutralise (the send-time check).</summary>
    public static bool NeedsCleaning(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return false;
        foreach (var c in value)
        {
            if (IsInvisibleFormat(c) || char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085')
                return true;
        }
        return value.Contains(EncodedWordStart, StringComparison.Ordinal);
    }

    /// <summary>Unicode category Cf: U+202A–U+202E, U+2066–U+2069, U+200B–U+200F, U+061C, U+FEFF, soft hyphen and the rest.</summary>
    public static bool IsInvisibleFormat(char c) => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;

    private const string EncodedWordStart = "=?";

    /// <summary>
    /// Every encoded word starts with <c>=?</c> and may hold no space, so a space after the <c>=</c> leaves the text as
    /// typed but no longer decodable. Done after format characters are dropped, so <c>=&#x200B;?</c> cannot rejoin later.
    /// </summary>
    private static string BreakEncodedWords(string value) =>
        value.Contains(EncodedWordStart, StringComparison.Ordinal) ? value.Replace(EncodedWordStart, "= ?", StringComparison.Ordinal) : value;
}
