using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;

namespace LeadFunctions.Domain.Messaging.Composition;

public sealed record RenderedEmail(string Subject, string HtmlBody, string TextBody);

public sealed class EmailTemplateException(IReadOnlyList<string> errors)
    : Exception("The e-mail templates are not valid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Liquid templates (Fluid): each e-mail is a pair <c>name.html.liquid</c> + <c>name.txt.liquid</c>, parsed once at start.
/// The HTML part is rendered through an HTML encoder, so every value a lead typed is escaped; the subject is rendered without
/// encoding and then stripped of line breaks, so nothing a lead typed can add a header.
/// </summary>
public sealed class EmailTemplates
{
    public const string HtmlSuffix = ".html.liquid";
    public const string TextSuffix = ".txt.liquid";

    // All of Unicode passes through (accented names stay readable); markup characters and quotes are always encoded.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = CreateOptions();

    private readonly IReadOnlyDictionary<string, (IFluidTemplate Html, IFluidTemplate Text)> _templates;
    private readonly ConcurrentDictionary<string, IFluidTemplate> _subjects = new(StringComparer.Ordinal);

    private EmailTemplates(IReadOnlyDictionary<string, (IFluidTemplate, IFluidTemplate)> templates) => _templates = templates;

    public IEnumerable<string> Names => _templates.Keys;

    public bool Exists(string name) => _templates.ContainsKey(name);

    /// <summary>Parses every template pair in <paramref name="directory"/>; reports every missing half and syntax error at once.</summary>
    public static EmailTemplates Load(string directory)
    {
        if (!Directory.Exists(directory))
            throw new EmailTemplateException([$"the template folder '{directory}' does not exist."]);
        var sources = new Dictionary<string, (string? Html, string? Text)>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var file = Path.GetFileName(path);
            if (file.EndsWith(HtmlSuffix, StringComparison.Ordinal))
            {
                var name = file[..^HtmlSuffix.Length];
                sources[name] = (File.ReadAllText(path), sources.GetValueOrDefault(name).Text);
            }
            else if (file.EndsWith(TextSuffix, StringComparison.Ordinal))
            {
                var name = file[..^TextSuffix.Length];
                sources[name] = (sources.GetValueOrDefault(name).Html, File.ReadAllText(path));
            }
        }
        return FromSources(sources);
    }

    public static EmailTemplates FromSources(IReadOnlyDictionary<string, (string? Html, string? Text)> sources)
    {
        var errors = new List<string>();
        var templates = new Dictionary<string, (IFluidTemplate, IFluidTemplate)>(StringComparer.Ordinal);
        foreach (var (name, (html, text)) in sources.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (html is null)
                errors.Add($"template '{name}': {name}{HtmlSuffix} is missing.");
            if (text is null)
                errors.Add($"template '{name}': {name}{TextSuffix} is missing.");
            if (html is null || text is null)
                continue;
            var htmlTemplate = TryParse(name + HtmlSuffix, html, errors);
            var textTemplate = TryParse(name + TextSuffix, text, errors);
            if (htmlTemplate is not null && textTemplate is not null)
                templates[name] = (htmlTemplate, textTemplate);
        }
        if (errors.Count > 0)
            throw new EmailTemplateException(errors);
        return new EmailTemplates(templates);
    }

    /// <summary>Checks a subject line parses; returns the error or null.</summary>
    public static string? SubjectError(string subject) =>
        Parser.TryParse(subject, out _, out var error) ? null : error;

    /// <param name="missing">When given, receives each variable the subject or a body uses that <paramref name="model"/> lacks
    /// (as <c>file: path</c>), which Liquid would render as nothing (<see cref="TemplateVariables"/>).</param>
    public RenderedEmail Render(string name, string subject, IReadOnlyDictionary<string, object?> model, ICollection<string>? missing = null)
    {
        if (!_templates.TryGetValue(name, out var pair))
            throw new InvalidOperationException($"There is no e-mail template '{name}'.");
        var subjectTemplate = _subjects.GetOrAdd(subject, s =>
            Parser.TryParse(s, out var parsed, out var error) ? parsed : throw new EmailTemplateException([$"subject '{s}': {error}"]));
        if (missing is not null)
        {
            foreach (var (part, template) in new[] { ("subject", subjectTemplate), (name + HtmlSuffix, pair.Html), (name + TextSuffix, pair.Text) })
            {
                foreach (var path in TemplateVariables.Missing(template, model))
                    missing.Add($"{part}: {path}");
            }
        }

        var context = CreateContext(model);
        return new RenderedEmail(
            HeaderText.Clean(subjectTemplate.Render(context, NullEncoder.Default)),
            pair.Html.Render(context, Html),
            pair.Text.Render(context, NullEncoder.Default));
    }

    private static TemplateContext CreateContext(IReadOnlyDictionary<string, object?> model)
    {
        var context = new TemplateContext(Options);
        foreach (var (key, value) in model)
            context.SetValue(key, value);
        return context;
    }

    private static IFluidTemplate? TryParse(string file, string source, List<string> errors)
    {
        if (Parser.TryParse(source, out var template, out var error))
            return template;
        errors.Add($"{file}: {error}");
        return null;
    }

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions();
        options.MemberAccessStrategy.IgnoreCasing = true;
        return options;
    }
}
