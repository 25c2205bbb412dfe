using System.Net;
using System.Text.RegularExpressions;

namespace LeadFunctions.Tests.Hosting;

/// <summary>
/// The first capture form of the sample landing page, filled in the way a person and a browser would: every named field is sent
/// with its value (an untouched honeypot stays empty), each required field gets an answer, checkboxes a person ticks are sent.
/// </summary>
public sealed partial record SampleForm(string Action, IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    public static SampleForm FromLandingPage(string html, string email)
    {
        var form = FormElement().Match(html);
        Assert.True(form.Success, "The landing page has no <form> posting to /api/forms/{formId}.");
        var body = form.Groups["body"].Value;
        var fields = new List<KeyValuePair<string, string>>();

        foreach (Match input in InputElement().Matches(body))
        {
            var tag = input.Value;
            var name = Attribute(tag, "name");
            if (name is null)
                continue;
            var type = (Attribute(tag, "type") ?? "text").ToLowerInvariant();
            var required = HasFlag(tag, "required");
            switch (type)
            {
                case "submit" or "button" or "reset" or "image" or "file":
                    break;
                case "checkbox" or "radio":
                    // A person ticks what the form requires and the consent box; other boxes keep their default.
                    if (required || HasFlag(tag, "checked") || name.Contains("consent", StringComparison.OrdinalIgnoreCase))
                        fields.Add(new(name, Attribute(tag, "value") ?? "on"));
                    break;
                case "email":
                    fields.Add(new(name, email));
                    break;
                default:
                    var value = Attribute(tag, "value") ?? "";
                    fields.Add(new(name, value.Length == 0 && required ? "Ada" : value));
                    break;
            }
        }
        foreach (Match select in SelectElement().Matches(body))
        {
            var name = Attribute(select.Groups["open"].Value, "name");
            var option = OptionValue().Matches(select.Groups["options"].Value).Select(m => m.Groups["value"].Value).FirstOrDefault(v => v.Length > 0);
            if (name is not null && option is not null)
                fields.Add(new(name, option));
        }
        foreach (Match area in TextAreaElement().Matches(body))
        {
            var name = Attribute(area.Groups["open"].Value, "name");
            if (name is not null)
                fields.Add(new(name, HasFlag(area.Groups["open"].Value, "required") ? "Hello" : WebUtility.HtmlDecode(area.Groups["text"].Value)));
        }
        return new SampleForm(WebUtility.HtmlDecode(Attribute(form.Groups["open"].Value, "action")!), fields);
    }

    public string? Value(string name) => Fields.FirstOrDefault(f => f.Key == name).Value;

    private static string? Attribute(string tag, string name)
    {
        var match = Regex.Match(tag, $"""\s{name}\s*=\s*(?:"(?<v>[^"]*)"|'(?<v>[^']*)'|(?<v>[^\s>]+))""", RegexOptions.IgnoreCase);
        return match.Success ? WebUtility.HtmlDecode(match.Groups["v"].Value) : null;
    }

    private static bool HasFlag(string tag, string name) => Regex.IsMatch(tag, $"""\s{name}(\s|=|/?>)""", RegexOptions.IgnoreCase);

    [GeneratedRegex("""(?<open><form\b[^>]*action\s*=\s*["']?[^"'>]*/api/forms/[^>]*>)(?<body>.*?)</form>""", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex FormElement();

    [GeneratedRegex("""<input\b[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex InputElement();

    [GeneratedRegex("""(?<open><select\b[^>]*>)(?<options>.*?)</select>""", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex SelectElement();

    [GeneratedRegex("""<option\b[^>]*value\s*=\s*["'](?<value>[^"']*)["']""", RegexOptions.IgnoreCase)]
    private static partial Regex OptionValue();

    [GeneratedRegex("""(?<open><textarea\b[^>]*>)(?<text>.*?)</textarea>""", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex TextAreaElement();
}
