using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;
using LeadFunctions.Infrastructure.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Workspace;

/// <summary>
/// <c>GET /api/workspace</c>: the sales and marketing dashboard. The page is a static shell from a Liquid template holding only
/// the hashed asset URLs; every lead value arrives later as JSON and is put on screen as text by <c>workspace.js</c>.
/// </summary>
public sealed class ShowWorkspace(WorkspaceAccess access)
{
    /// <summary>Where App Service Authentication signs a person in with Microsoft Entra ID, coming back to the dashboard.</summary>
    public const string SignInPath = "/.auth/login/aad?post_login_redirect_uri=/api/workspace";

    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly IFluidTemplate Template = new FluidParser().Parse(WorkspaceAssets.Embedded.PageTemplateText);
    private static readonly Lazy<string> Page = new(Render);

    // Anonymous at the host: the workspace principal decides (docs/workspace.md).
    [Function(nameof(ShowWorkspace))]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workspace")] HttpRequest request)
    {
        var check = access.Authorize(request);
        if (check.Refused)
        {
            // A person who is not signed in yet is sent to sign in, as any web app does; a refusal for any other reason is shown.
            return WorkspaceResult.Of(check.NotSignedIn ? new RedirectResult(SignInPath) : check.Refusal);
        }
        return WorkspaceResult.Of(new ContentResult { StatusCode = StatusCodes.Status200OK, ContentType = "text/html; charset=utf-8", Content = Page.Value });
    }

    private static string Render()
    {
        var assets = WorkspaceAssets.Embedded;
        var context = new TemplateContext(new TemplateOptions());
        context.SetValue("script", assets[WorkspaceAssets.Script].Url);
        context.SetValue("style", assets[WorkspaceAssets.Style].Url);
        context.SetValue("chart", assets[WorkspaceAssets.ChartLibrary].Url);
        return Template.Render(context, Html);
    }
}
