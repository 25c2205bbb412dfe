using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Workspace;

/// <summary>One file the dashboard loads, served under a name that carries its content hash (<c>workspace.1a2b3c4d5e6f7a8b.js</c>).</summary>
internal sealed record WorkspaceAsset(string Name, string HashedName, string ContentType, byte[] Content)
{
    public string Url => WorkspaceAssets.RoutePrefix + HashedName;
}

/// <summary>
/// The allow-list of files the dashboard may load, read once from the assembly's embedded resources. Only these names are
/// served; anything else, a path included, is a 404. A hashed name never changes its bytes, so browsers may keep it for good.
/// </summary>
internal sealed class WorkspaceAssets
{
    public const string RoutePrefix = "/api/workspace/assets/";
    public const string Script = "workspace.js";
    public const string Style = "workspace.css";
    public const string ChartLibrary = "chart.umd.min.js";
    public const string PageTemplate = "workspace.liquid";

    private const string ResourcePrefix = "workspace/";

    private static readonly (string Name, string ContentType)[] Served =
    [
        (Script, "text/javascript; charset=utf-8"),
        (Style, "text/css; charset=utf-8"),
        (ChartLibrary, "text/javascript; charset=utf-8"),
    ];

    public static readonly WorkspaceAssets Embedded = Load(typeof(WorkspaceAssets).Assembly);

    private readonly FrozenDictionary<string, WorkspaceAsset> _byHashedName;
    private readonly FrozenDictionary<string, WorkspaceAsset> _byName;

    private WorkspaceAssets(IEnumerable<WorkspaceAsset> assets, string pageTemplate)
    {
        var list = assets.ToList();
        _byHashedName = list.ToFrozenDictionary(a => a.HashedName, StringComparer.Ordinal);
        _byName = list.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);
        PageTemplateText = pageTemplate;
    }

    public string PageTemplateText { get; }

    public WorkspaceAsset this[string name] => _byName[name];

    public WorkspaceAsset? Find(string? hashedName) =>
        hashedName is not null && _byHashedName.TryGetValue(hashedName, out var asset) ? asset : null;

    private static WorkspaceAssets Load(Assembly assembly)
    {
        var assets = Served.Select(s =>
        {
            var content = Read(assembly, s.Name);
            var hash = Convert.ToHexStringLower(SHA256.HashData(content))[..16];
            var dot = s.Name.LastIndexOf('.');
            return new WorkspaceAsset(s.Name, s.Name[..dot] + "." + hash + s.Name[dot..], s.ContentType, content);
        });
        return new WorkspaceAssets(assets, System.Text.Encoding.UTF8.GetString(Read(assembly, PageTemplate)));
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The dashboard file {name} is not embedded in {assembly.GetName().Name}; see LeadFunctions.csproj.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

/// <summary><c>GET /api/workspace/assets/{name}</c>: the dashboard's script, style and the vendored Chart.js, by hashed name only.</summary>
public sealed class ShowWorkspaceAsset
{
    // Anonymous and unchecked: the script, style and chart library hold no data, and the sign-in page must load them too.
    [Function(nameof(ShowWorkspaceAsset))]
    public IActionResult Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace/assets/{name}")] HttpRequest request,
        string name)
    {
        var asset = WorkspaceAssets.Embedded.Find(name);
        return asset is null
            ? WorkspaceResult.NotFound()
            : WorkspaceResult.Cached(new FileContentResult(asset.Content, asset.ContentType));
    }
}
