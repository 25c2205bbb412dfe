using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Configuration;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Content;

/// <summary>The funnel stages a piece of content can belong to; the scoring model's <c>funnelStage</c> rules match these.</summary>
public static class FunnelStages
{
    public const string Top = "top";
    public const string Middle = "middle";
    public const string Bottom = "bottom";

    public static readonly IReadOnlyList<string> All = [Top, Middle, Bottom];
}

/// <summary>One downloadable asset or page: what it is called and which funnel stage it serves.</summary>
public sealed record ContentItem
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required string FunnelStage { get; init; }

    /// <summary>Globs over a page view's whole URL (<c>*</c> any characters, <c>?</c> one, ignoring case) that mean this content.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [];

    /// <summary>Sets what the server says this content is on an event's properties, over anything the request claimed.</summary>
    public void Describe(IDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties[LeadEventProperties.ContentId] = Id;
        properties[LeadEventProperties.FunnelStage] = FunnelStage;
        properties[LeadEventProperties.Title] = Title;
    }
}

/// <summary>
/// The content catalogue (<c>config/content.json</c>): the server's own list of what each download and page is. A visitor's
/// browser names content by id (or visits a URL); what that is worth (its funnel stage, and so its points) is decided here,
/// never by the request, so a beacon cannot promote a top-of-funnel blog post into a bottom-of-funnel pricing guide.
/// </summary>
public sealed partial class ContentCatalogue
{
    public const int MaxTitleLength = 200;
    public const int MaxUrlPatternLength = 2048;

    private readonly Dictionary<string, ContentItem> _byId;

    private ContentCatalogue(string version, IReadOnlyList<ContentItem> items)
    {
        Version = version;
        Items = items;
        _byId = items.ToDictionary(i => i.Id, StringComparer.Ordinal);
    }

    /// <summary>The file's own version: bump it with every change, so a change to what content is worth is reviewed.</summary>
    public string Version { get; }

    /// <summary>In file order, which is the order URL patterns are tried in.</summary>
    public IReadOnlyList<ContentItem> Items { get; }

    public bool TryGet(string contentId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ContentItem? item) =>
        _byId.TryGetValue(contentId, out item);

    /// <summary>The first item, in file order, one of whose URL patterns matches the whole URL; null when none does.</summary>
    public ContentItem? MatchUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        foreach (var item in Items)
        {
            foreach (var pattern in item.Urls)
            {
                if (Glob.IsMatch(url, pattern))
                    return item;
            }
        }
        return null;
    }

    public static ContentCatalogue Load(string path)
    {
        if (!File.Exists(path))
            throw new ContentCatalogueException([$"the content catalogue '{path}' does not exist"]);
        return Parse(File.ReadAllText(path));
    }

    /// <summary>Reads and checks a catalogue; throws <see cref="ContentCatalogueException"/> listing every problem found.</summary>
    public static ContentCatalogue Parse(string json)
    {
        var file = ConfigurationJson.Read<FileDto>(json, "content.json", problems => new ContentCatalogueException(problems));

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(file.Version))
            errors.Add("version: is required (bump it with every change to the catalogue)");
        if (file.Content is null || file.Content.Count == 0)
            errors.Add("content: must list at least one item");

        var items = new List<ContentItem>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var patterns = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (file.Content?.Count ?? 0); i++)
        {
            var dto = file.Content![i];
            var at = $"content[{i}]";
            if (dto is null)
            {
                errors.Add($"{at}: must be an object");
                continue;
            }
            var before = errors.Count;
            var item = ReadItem(dto, at, patterns, errors);
            if (item is not null && !ids.TryAdd(item.Id, i))
                errors.Add($"{at}.id: '{item.Id}' is already used by content[{ids[item.Id]}]");
            if (!string.IsNullOrWhiteSpace(dto.Id))
            {
                // The index finds the entry, the id tells a reviewer which content it is.
                for (var e = before; e < errors.Count; e++)
                    errors[e] += $" (content '{dto.Id}')";
            }
            if (item is not null)
                items.Add(item);
        }

        if (errors.Count > 0)
            throw new ContentCatalogueException(errors);
        return new ContentCatalogue(file.Version!.Trim(), items);
    }

    private static ContentItem? ReadItem(ItemDto dto, string at, Dictionary<string, string> patterns, List<string> errors)
    {
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(dto.Id))
            errors.Add($"{at}.id: is required");
        else if (!IdPattern().IsMatch(dto.Id))
            errors.Add($"{at}.id: must be 1-64 lower-case letters, digits or '-', starting with a letter or digit (pages and forms name it)");

        if (string.IsNullOrWhiteSpace(dto.Title))
            errors.Add($"{at}.title: is required (the name people see in the lead's history)");
        else if (dto.Title.Length > MaxTitleLength || dto.Title.Any(char.IsControl))
            errors.Add($"{at}.title: must be at most {MaxTitleLength} characters, without control characters");

        if (string.IsNullOrWhiteSpace(dto.FunnelStage))
            errors.Add($"{at}.funnelStage: is required (one of {string.Join(", ", FunnelStages.All)})");
        else if (!FunnelStages.All.Contains(dto.FunnelStage, StringComparer.Ordinal))
            errors.Add($"{at}.funnelStage: '{dto.FunnelStage}' is not one of {string.Join(", ", FunnelStages.All)}");

        var urls = new List<string>();
        for (var u = 0; u < (dto.Urls?.Count ?? 0); u++)
        {
            var pattern = dto.Urls![u];
            var where = $"{at}.urls[{u}]";
            if (string.IsNullOrWhiteSpace(pattern) || pattern.Length > MaxUrlPatternLength || pattern.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                errors.Add($"{where}: must be a URL glob of at most {MaxUrlPatternLength} characters without spaces, e.g. '*/pricing*'");
                continue;
            }
            // A pattern of wildcards only would make every page this content, which is never what a reviewer meant.
            if (pattern.All(c => c is '*' or '?'))
            {
                errors.Add($"{where}: '{pattern}' matches every URL; name a part of the address, e.g. '*/pricing*'");
                continue;
            }
            if (!patterns.TryAdd(pattern, where))
            {
                errors.Add($"{where}: '{pattern}' is already used by {patterns[pattern]}, which is tried first");
                continue;
            }
            urls.Add(pattern);
        }

        if (errors.Count > before)
            return null;
        return new ContentItem { Id = dto.Id!, Title = dto.Title!.Trim(), FunnelStage = dto.FunnelStage!, Urls = urls };
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex IdPattern();

    private sealed class FileDto
    {
        public string? Version { get; set; }
        public List<ItemDto?>? Content { get; set; }
        [JsonPropertyName("$schema")]
        public string? Schema { get; set; }
    }

    private sealed class ItemDto
    {
        public string? Id { get; set; }
        public string? Title { get; set; }
        public string? FunnelStage { get; set; }
        public string? Description { get; set; }
        public List<string?>? Urls { get; set; }
    }
}

/// <summary>The content catalogue is wrong; <see cref="Errors"/> names each problem as <c>content[i].field: what is wrong (content 'id')</c>.</summary>
public sealed class ContentCatalogueException : Exception
{
    public ContentCatalogueException(IReadOnlyList<string> errors)
        : base("The content catalogue is not valid:" + string.Concat(errors.Select(e => Environment.NewLine + "  - " + e)))
    {
        Errors = errors;
    }

    public IReadOnlyList<string> Errors { get; }
}
