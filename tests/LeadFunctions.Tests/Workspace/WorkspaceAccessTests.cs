using System.Text.Json;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Workspace;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Workspace;

/// <summary>
/// The workspace check as a function meets it: the principal header counts only when App Service Authentication is on, and the
/// roles an endpoint accepts decide between the user, a 401 and a 403.
/// </summary>
public sealed class WorkspaceAccessTests
{
    [Fact]
    public void A_forged_principal_is_refused_with_401_when_app_service_authentication_is_off()
    {
        // Arrange: an attacker's own admin principal, sent straight to an app without Easy Auth.
        var function = new GetWorkspaceUser(Access(authEnabled: false));
        var request = Request(Principals.Entra("admin"));

        // Act
        var result = function.Run(request);

        // Assert
        var problem = AssertProblem(result, StatusCodes.Status401Unauthorized);
        Assert.Equal("urn:leadfunctions:problem:workspace-sign-in-not-configured", problem.Type);
        Assert.Contains("not configured", problem.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void With_authentication_on_the_signed_in_user_is_returned_as_the_contract_shape()
    {
        var function = new GetWorkspaceUser(Access(authEnabled: true));
        var request = Request(Principals.Entra("sales"));

        var result = Assert.IsType<OkObjectResult>(function.Run(request));

        var json = JsonSerializer.Serialize(result.Value, JsonSerializerOptions.Web);
        Assert.Equal($$"""{"id":"{{Principals.DanaId}}","name":"{{Principals.DanaName}}","roles":["sales"]}""", json);
        Assert.Equal("no-store", request.HttpContext.Response.Headers.CacheControl.ToString());
    }

    [Fact]
    public void With_authentication_on_and_no_principal_the_answer_is_401_not_signed_in()
    {
        var result = new GetWorkspaceUser(Access(authEnabled: true)).Run(Request(null));

        Assert.Equal("urn:leadfunctions:problem:not-signed-in", AssertProblem(result, StatusCodes.Status401Unauthorized).Type);
    }

    [Fact]
    public void A_malformed_principal_is_a_401_never_a_5xx()
    {
        var result = new GetWorkspaceUser(Access(authEnabled: true)).Run(Request("%%%not-base64%%%"));

        AssertProblem(result, StatusCodes.Status401Unauthorized);
    }

    [Fact]
    public void A_user_without_the_role_an_endpoint_needs_is_refused_with_403()
    {
        // Arrange: marketing may read, not move leads.
        var access = Access(authEnabled: true);
        var request = Request(Principals.Entra("marketing"));

        // Act
        var check = access.Authorize(request, WorkspaceRoles.Sales);

        // Assert
        Assert.True(check.Refused);
        var problem = AssertProblem(check.Refusal, StatusCodes.Status403Forbidden);
        Assert.Equal("urn:leadfunctions:problem:workspace-role-required", problem.Type);
        Assert.Contains("sales", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_in_user_with_no_workspace_role_is_refused_with_403_even_where_any_role_will_do()
    {
        var result = new GetWorkspaceUser(Access(authEnabled: true)).Run(Request(Principals.Entra("Reports.Reader")));

        AssertProblem(result, StatusCodes.Status403Forbidden);
    }

    [Theory]
    [InlineData("sales", true)]
    [InlineData("admin", true)]
    [InlineData("marketing", false)]
    public void Admin_passes_every_check_and_sales_passes_a_sales_check(string role, bool allowed)
    {
        var check = Access(authEnabled: true).Authorize(Request(Principals.Entra(role)), WorkspaceRoles.Sales);

        Assert.Equal(!allowed, check.Refused);
        if (allowed)
            Assert.Equal(Principals.DanaId, check.User!.Id);
    }

    private static WorkspaceAccess Access(bool authEnabled) =>
        new(Options.Create(new WorkspaceOptions { PlatformAuthenticationEnabled = authEnabled }), NullLogger<WorkspaceAccess>.Instance);

    private static HttpRequest Request(string? principal)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        if (principal is not null)
            context.Request.Headers[EasyAuthPrincipal.PrincipalHeader] = principal;
        return context.Request;
    }

    private static ProblemDetails AssertProblem(IActionResult result, int status)
    {
        var objectResult = Assert.IsType<ObjectResult>(result);
        Assert.Equal(status, objectResult.StatusCode);
        var problem = Assert.IsType<ProblemDetails>(objectResult.Value);
        Assert.Equal(status, problem.Status);
        return problem;
    }
}

public sealed class WorkspacePageSignInTests
{
    [Fact]
    public void A_person_not_signed_in_is_sent_to_sign_in_and_comes_back_to_the_dashboard()
    {
        var request = new Microsoft.AspNetCore.Http.DefaultHttpContext().Request;

        var result = LeadFunctions.Tests.Support.SignedIn.Unwrap(new LeadFunctions.Workspace.ShowWorkspace(LeadFunctions.Tests.Support.SignedIn.Access).Run(request));

        var redirect = Assert.IsType<Microsoft.AspNetCore.Mvc.RedirectResult>(result);
        Assert.Equal(LeadFunctions.Workspace.ShowWorkspace.SignInPath, redirect.Url);
    }

    [Fact]
    public void A_signed_in_person_without_a_workspace_role_is_refused_not_sent_round_again()
    {
        var request = LeadFunctions.Tests.Support.SignedIn.As(new Microsoft.AspNetCore.Http.DefaultHttpContext().Request, "Reports.Reader");

        var result = LeadFunctions.Tests.Support.SignedIn.Unwrap(new LeadFunctions.Workspace.ShowWorkspace(LeadFunctions.Tests.Support.SignedIn.Access).Run(request));

        Assert.Equal(403, Assert.IsType<Microsoft.AspNetCore.Mvc.ObjectResult>(result).StatusCode);
    }
}
