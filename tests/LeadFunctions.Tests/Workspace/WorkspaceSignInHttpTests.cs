using System.Net;
using System.Text.Json;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Workspace;

/// <summary>
/// Sign-in through the local host, which plays App Service Authentication: a principal a client sends never arrives, and the
/// configured development user is who <c>GET /api/workspace/me</c> sees.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkspaceSignInHttpTests(AzuriteFixture azurite)
{
    private static readonly Uri Me = new("/api/workspace/me", UriKind.Relative);

    [Fact]
    public async Task The_local_host_strips_a_forged_principal_and_signs_in_the_development_user()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, DevelopmentUser("sales,marketing,admin"));
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.Add(EasyAuthPrincipal.PrincipalHeader, Principals.Entra("admin"));
        request.Headers.Add(EasyAuthPrincipal.PrincipalIdHeader, Principals.DanaId);

        // Act
        using var response = await host.Client.SendAsync(request);

        // Assert: the development user, not the forged Dana.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("00000000-0000-0000-0000-000000000001", body.RootElement.GetProperty("id").GetString());
        Assert.Equal("Local Developer", body.RootElement.GetProperty("name").GetString());
        Assert.Equal(["sales", "marketing", "admin"], body.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Without_a_development_user_a_forged_principal_gets_a_401_saying_sign_in_is_not_configured()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.Add(EasyAuthPrincipal.PrincipalHeader, Principals.Entra("admin"));

        // Act
        using var response = await host.Client.SendAsync(request);

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("urn:leadfunctions:problem:workspace-sign-in-not-configured", problem.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task With_the_platform_flag_on_and_nobody_signed_in_a_forged_principal_is_stripped_before_the_function_sees_it()
    {
        // Arrange: as in Azure with Easy Auth on and an anonymous caller who sends a principal of their own.
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            [WorkspaceOptions.PlatformAuthEnabledSetting] = "True",
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.Add(EasyAuthPrincipal.PrincipalHeader.ToLowerInvariant(), Principals.Entra("admin"));

        // Act
        using var response = await host.Client.SendAsync(request);

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("urn:leadfunctions:problem:not-signed-in", problem.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_development_user_without_a_workspace_role_gets_a_403_problem()
    {
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, DevelopmentUser(""));

        using var response = await host.Client.GetAsync(Me);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_development_user_with_a_role_the_workspace_does_not_know_stops_the_host_naming_the_setting()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunningLocalHost.StartAsync(azurite, triggers: false, DevelopmentUser("sales,superuser")));

        Assert.Contains("LocalHost:DevelopmentUser:Roles", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> DevelopmentUser(string roles) => new()
    {
        ["LocalHost:DevelopmentUser:Id"] = "00000000-0000-0000-0000-000000000001",
        ["LocalHost:DevelopmentUser:Name"] = "Local Developer",
        ["LocalHost:DevelopmentUser:Roles"] = roles,
    };
}
