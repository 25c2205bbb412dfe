using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Workspace;

/// <summary>
/// Every workspace answer (page, assets, JSON, errors) goes out through this wrapper, so the security headers are set in one
/// place and a new endpoint cannot forget them. The policy allows only the app's own scripts, styles and fetches: no inline
/// code, no CDN, no framing, no plugins, no form posts elsewhere.
/// </summary>
internal sealed class WorkspaceResult(IActionResult inner, string cacheControl) : IActionResult
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public const string NoStore = "no-store";

    /// <summary>For assets whose name carries their content hash: the bytes behind that name never change.</summary>
    public const string Immutable = "private, max-age=31536000, immutable";

    public IActionResult Inner => inner;

    public static WorkspaceResult Of(IActionResult inner) => new(inner, NoStore);

    public static WorkspaceResult Cached(IActionResult inner) => new(inner, Immutable);

    /// <summary>A 404 that says so in problem details, as every other workspace refusal does.</summary>
    public static WorkspaceResult NotFound() =>
        Of(WorkspaceRequests.Problem(new Infrastructure.Workspace.WorkspaceRefusal(StatusCodes.Status404NotFound, "not-found", "Not found.", "There is nothing at this address.")));

    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Apply(context.HttpContext.Response.Headers, cacheControl);
        return inner.ExecuteResultAsync(context);
    }

    internal static void Apply(IHeaderDictionary headers, string cacheControl)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = cacheControl;
        headers["Referrer-Policy"] = "no-referrer";
        // For browsers that predate frame-ancestors.
        headers.XFrameOptions = "DENY";
    }
}
