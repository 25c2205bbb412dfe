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
    public static string Rewrite(string html, Func<string, string?> trackUrl, string pixelUrl) =>
        Rewrite(html, (url, _) => trackUrl(url), pixelUrl);

    /// <summary>
    /// As above, also telling <paramref name="trackUrl"/> the link's name: the <c>data-link</c> attribute of the same tag
    /// (lower-case letters, digits and dashes, up to 40), or null.
    /// </summary>
    public static string Rewrite(string html, Func<string, string?, string?> trackUrl, string pixelUrl)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(trackUrl);
        var rewritten = HrefPattern().Replace(html, match =>
        {
            var original = WebUtility.HtmlDecode(match.Groups["url"].Value);
            var tracked = trackUrl(original, LinkName(html, match.Index));
            return tracked is null
                ? match.Value
                : $"{match.Groups["prefix"].Value}{WebUtility.HtmlEncode(tracked)}{match.Groups["quote"].Value}";
        });

        var pixel = $"<img src=\"{WebUtility.HtmlEncode(pixelUrl)}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\" />";
        var bodyEnd = rewritten.LastIndexOf("</body>", StringComparison.OrdinalIgnoreCase);
        return bodyEnd >= 0 ? rewritten.Insert(bodyEnd, pixel) : rewritten + pixel;
    }

    /// <summary>The <c>data-link</c> of the tag the href at <paramref name="at"/> is in: between the last '&lt;' before it and the next '&gt;'.</summary>
    private static string? LinkName(string html, int at)
    {
        var open = html.LastIndexOf('<', at);
        var close = html.IndexOf('>', at);
        if (open < 0 || close < 0)
            return null;
        var name = LinkNamePattern().Match(html, open, close - open);
        return name.Success ? name.Groups["name"].Value : null;
    }

    [GeneratedRegex("""\bdata-link\s*=\s*["'](?<name>[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)["']""", RegexOptions.CultureInvariant)]
    private static partial Regex LinkNamePattern();

    [GeneratedRegex("""(?<prefix>\bhref\s*=\s*(?<quote>["']))(?<url>https?://[^"'<>\s]+)\k<quote>""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HrefPattern();
}
