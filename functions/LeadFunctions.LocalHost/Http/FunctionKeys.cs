using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.LocalHost.Http;

/// <summary>
/// Function keys, locally. Like <c>func start</c>, a request without a key is let through, so a browser can use the endpoints;
/// when <c>LocalHost:FunctionKey</c> is set, a request that does send one (<c>?code=</c> or <c>x-functions-key</c>) must send
/// that key, so client code that passes keys is exercised. <c>LocalHost:RequireFunctionKey=true</c> makes the key mandatory, as in Azure.
/// </summary>
internal static class FunctionKeys
{
    public const string KeySetting = "LocalHost:FunctionKey";
    public const string RequireSetting = "LocalHost:RequireFunctionKey";
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";

    public static bool Authorize(HttpContext context, AuthorizationLevel level)
    {
        if (level == AuthorizationLevel.Anonymous)
            return true;

        var configuration = context.RequestServices.GetRequiredService<IConfiguration>();
        var expected = configuration[KeySetting];
        var sent = context.Request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrEmpty(header)
            ? header.ToString()
            : context.Request.Query.TryGetValue(QueryName, out var code) ? code.ToString() : null;

        if (string.IsNullOrEmpty(sent))
            return !configuration.GetValue<bool>(RequireSetting);
        // With no key configured, any key passes, as with func start; configure one to have wrong keys refused.
        return string.IsNullOrEmpty(expected)
            || CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), Encoding.UTF8.GetBytes(expected));
    }
}
