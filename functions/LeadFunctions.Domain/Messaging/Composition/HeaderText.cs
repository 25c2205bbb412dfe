using System.Text;

namespace LeadFunctions.Domain.Messaging.Composition;

/// <summary>Makes text safe for a header (subject, display name): no CR, LF or other control character can survive to start a new header.</summary>
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
        var cleaned = builder.ToString().Trim();
        return cleaned.Length > maxLength ? cleaned[..maxLength].TrimEnd() : cleaned;
    }
}
