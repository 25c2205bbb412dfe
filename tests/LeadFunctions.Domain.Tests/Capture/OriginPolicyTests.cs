using LeadFunctions.Domain.Capture;

namespace LeadFunctions.Domain.Tests.Capture;

public sealed class OriginPolicyTests
{
    [Theory]
    [InlineData("null")]
    [InlineData("NULL")]
    [InlineData(" null ")]
    [InlineData("")]
    public void An_opaque_or_empty_origin_is_never_allowed_whatever_the_list_says(string origin)
    {
        Assert.False(OriginPolicy.Allows(["null", OriginPolicy.Self, "https://www.example.com"], origin, "null"));
    }

    [Fact]
    public void A_listed_origin_and_a_page_on_this_app_are_allowed()
    {
        Assert.True(OriginPolicy.Allows(["https://www.example.com"], "https://www.example.com", "app.example.net"));
        Assert.True(OriginPolicy.Allows([OriginPolicy.Self], "http://127.0.0.1:7071", "127.0.0.1:7071"));
        Assert.False(OriginPolicy.Allows([OriginPolicy.Self], "http://127.0.0.1:7072", "127.0.0.1:7071"));
    }
}
