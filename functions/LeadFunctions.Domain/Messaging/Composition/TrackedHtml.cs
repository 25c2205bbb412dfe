using System.Net;
using System.Text.RegularExpressions;

namespace LeadFunctions.Domain.Messaging.Composition;

/// <summary>
/// Adds tracking to a rendered HTML part: each <c>href</c> the template wrote to an http(s) URL goes through the click endpoint,
/// and a 1×1 pixel is added before <c>&lt;/body&gt;</c>. Values a lead typed were HTML-encoded when rendered, so they cannot form an
/// <c>href</c> attribute here and never become a tracked (signed) redirect.
/// </summary>
public static partial class TrackedHtml
{
    public static string Rewrite(string html, Func<string, string?> trackUrl, string pixelUrl)
    {
        var rewritten = HrefPattern().Replace(html, match =>
        {
            var original = WebUtility.HtmlDecode(match.Groups["url"].Value);
            var tracked = trackUrl(original);
            return tracked is null
                ? match.Value
                : $"{match.Groups["prefix"].Value}{WebUtility.HtmlEncode(tracked)}{match.Groups["quote"].Value}";
        });

        var pixel = $"<img src=\"{WebUtility.HtmlEncode(pixelUrl)}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\" />";
        var bodyEnd = rewritten.LastIndexOf("</body>", StringComparison.OrdinalIgnoreCase);
        return bodyEnd >= 0 ? rewritten.Insert(bodyEnd, pixel) : rewritten + pixel;
    }

    [GeneratedRegex("""(?<prefix>\bhref\s*=\s*(?<quote>["']))(?<url>https?://[^"'<>\s]+)\k<quote>""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HrefPattern();
}
