using LeadFunctions.LocalHost.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Hosting;

public sealed class FunctionKeyTests
{
    private const string Key = "local-test-key";

    [Fact]
    public void A_function_level_endpoint_answers_without_a_key_locally_as_func_start_does()
    {
        var context = Request(query: null, header: null);

        Assert.True(FunctionKeys.Authorize(context, AuthorizationLevel.Function));
    }

    [Theory]
    [InlineData("?code=" + Key, null)]
    [InlineData(null, Key)]
    public void The_configured_key_is_accepted_in_the_code_query_or_the_functions_key_header(string? query, string? header)
    {
        var context = Request(query, header);

        Assert.True(FunctionKeys.Authorize(context, AuthorizationLevel.Function));
    }

    [Theory]
    [InlineData("?code=wrong", null)]
    [InlineData(null, "wrong")]
    public void A_wrong_key_is_refused_so_client_code_that_sends_keys_is_exercised(string? query, string? header)
    {
        var context = Request(query, header);

        Assert.False(FunctionKeys.Authorize(context, AuthorizationLevel.Function));
        Assert.False(FunctionKeys.Authorize(context, AuthorizationLevel.Admin));
    }

    [Fact]
    public void Any_key_passes_when_no_local_key_is_configured_as_with_func_start()
    {
        var context = Request("?code=anything", header: null, configuredKey: null);

        Assert.True(FunctionKeys.Authorize(context, AuthorizationLevel.Function));
    }

    [Fact]
    public void A_key_is_required_when_the_local_settings_ask_for_it_as_in_Azure()
    {
        var context = Request(query: null, header: null, require: true);

        Assert.False(FunctionKeys.Authorize(context, AuthorizationLevel.Function));
    }

    [Fact]
    public void An_anonymous_endpoint_ignores_keys_entirely()
    {
        var context = Request("?code=wrong", header: null, require: true);

        Assert.True(FunctionKeys.Authorize(context, AuthorizationLevel.Anonymous));
    }

    private static DefaultHttpContext Request(string? query, string? header, bool require = false, string? configuredKey = Key)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [FunctionKeys.KeySetting] = configuredKey,
            [FunctionKeys.RequireSetting] = require ? "true" : "false",
        }).Build();
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddSingleton<IConfiguration>(configuration).BuildServiceProvider(),
        };
        if (query is not null)
            context.Request.QueryString = new QueryString(query);
        if (header is not null)
            context.Request.Headers[FunctionKeys.HeaderName] = header;
        return context;
    }
}
