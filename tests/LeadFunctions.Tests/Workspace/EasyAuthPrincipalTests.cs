using System.Text.Json.Nodes;
using LeadFunctions.Infrastructure.Workspace;

namespace LeadFunctions.Tests.Workspace;

/// <summary>Reading the Easy Auth principal: what a real Entra sign-in gives, and nothing at all from anything malformed.</summary>
public sealed class EasyAuthPrincipalTests
{
    [Fact]
    public void An_entra_sign_in_gives_the_object_id_the_display_name_and_only_the_workspace_roles()
    {
        // Arrange
        var header = Principals.Entra("sales", "Marketing", "Reports.Reader", "sales");

        // Act
        var user = EasyAuthPrincipal.Read(header);

        // Assert
        Assert.NotNull(user);
        Assert.Equal(Principals.DanaId, user.Id);
        Assert.Equal(Principals.DanaName, user.Name);
        Assert.Equal(["sales", "marketing"], user.Roles);
        Assert.Equal(Principals.DanaName, user.ActorName);
    }

    [Fact]
    public void Roles_are_read_from_the_role_type_the_principal_names_as_well_as_from_roles()
    {
        // Arrange
        var payload = Principals.EntraJson("marketing");
        payload["role_typ"] = "http://example.com/role";
        payload["claims"]!.AsArray().Add(Principals.Claim("http://example.com/role", "admin"));

        // Act
        var user = EasyAuthPrincipal.Read(Principals.Encode(payload));

        // Assert
        Assert.Equal(["marketing", "admin"], user!.Roles);
    }

    [Fact]
    public void A_client_credentials_token_without_a_name_is_the_object_id_and_acts_under_it()
    {
        // Arrange: what Easy Auth passes on for an app-only token (a machine client with an app role).
        var payload = new JsonObject
        {
            ["auth_typ"] = "aad",
            ["claims"] = new JsonArray
            {
                Principals.Claim("appid", "9a8b7c6d-3333-4e5f-8a9b-0c1d2e3f4a5b"),
                Principals.Claim("roles", "admin"),
            },
            ["name_typ"] = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            ["role_typ"] = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
        };

        // Act: the object id comes from X-MS-CLIENT-PRINCIPAL-ID when the claims carry none.
        var user = EasyAuthPrincipal.Read(Principals.Encode(payload), "5e4d3c2b-4444-4a1b-9c8d-7e6f5a4b3c2d");

        // Assert
        Assert.Equal("5e4d3c2b-4444-4a1b-9c8d-7e6f5a4b3c2d", user!.Id);
        Assert.Null(user.Name);
        Assert.Equal(user.Id, user.ActorName);
        Assert.Equal(["admin"], user.Roles);
    }

    [Fact]
    public void A_claim_value_that_is_not_a_string_is_skipped_not_fatal()
    {
        var payload = Principals.EntraJson("sales");
        payload["claims"]!.AsArray().Add(new JsonObject { ["typ"] = "SeriesId", ["val"] = 10000 });

        Assert.Equal(Principals.DanaId, EasyAuthPrincipal.Read(Principals.Encode(payload))!.Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64 at all!")]
    [InlineData("bm90IGpzb24=")] // "not json"
    [InlineData("W10=")] // "[]"
    [InlineData("eyJjbGFpbXMiOjF9")] // {"claims":1}
    [InlineData("eyJjbGFpbXMiOltdfQ==")] // {"claims":[]}: no id
    public void A_malformed_principal_is_nobody_signed_in(string header)
    {
        Assert.Null(EasyAuthPrincipal.Read(header));
    }

    [Fact]
    public void An_oversized_principal_is_refused_before_it_is_decoded()
    {
        // Arrange: a valid principal padded with claims beyond the header bound.
        var payload = Principals.EntraJson("sales");
        var claims = payload["claims"]!.AsArray();
        while (Principals.Encode(payload).Length <= EasyAuthPrincipal.MaxHeaderChars)
            claims.Add(Principals.Claim("groups", Guid.NewGuid().ToString()));

        // Act + Assert
        Assert.Null(EasyAuthPrincipal.Read(Principals.Encode(payload)));
    }

    [Fact]
    public void An_object_id_that_could_not_be_one_is_refused()
    {
        var payload = Principals.EntraJson("sales");
        payload["claims"] = new JsonArray { Principals.Claim(EasyAuthPrincipal.ObjectIdClaim, "a|b\r\nc"), Principals.Claim("roles", "sales") };

        Assert.Null(EasyAuthPrincipal.Read(Principals.Encode(payload)));
    }

    [Fact]
    public void A_principal_the_local_host_encodes_reads_back_as_the_same_user()
    {
        var user = new WorkspaceUser("00000000-0000-0000-0000-000000000001", "Local Developer", ["sales", "marketing", "admin"]);

        var read = EasyAuthPrincipal.Read(EasyAuthPrincipal.Encode(user));

        Assert.Equal(user.Id, read!.Id);
        Assert.Equal(user.Name, read.Name);
        Assert.Equal(user.Roles, read.Roles);
    }
}
