using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;

namespace LeadFunctions.Telemetry;

/// <summary>
/// Drops the query string from every request and dependency the worker reports to Application Insights. Query strings are where
/// signed link tokens and, from old clients, lookup parameters travel; telemetry keeps the path, which carries ids only.
/// Bodies are never collected (the SDK does not, and nothing here adds them).
/// </summary>
public sealed class RedactQueryStrings : ITelemetryInitializer
{
    public void Initialize(ITelemetry telemetry)
    {
        switch (telemetry)
        {
            case RequestTelemetry request:
                if (request.Url is { } url)
                    request.Url = WithoutQuery(url);
                request.Name = WithoutQuery(request.Name);
                break;
            case DependencyTelemetry dependency:
                dependency.Data = WithoutQuery(dependency.Data);
                dependency.Name = WithoutQuery(dependency.Name);
                break;
        }
    }

    public static Uri WithoutQuery(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri)
            return new Uri(WithoutQuery(url.OriginalString)!, UriKind.Relative);
        return string.IsNullOrEmpty(url.Query) && string.IsNullOrEmpty(url.Fragment) ? url : new Uri(url.GetLeftPart(UriPartial.Path));
    }

    public static string? WithoutQuery(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text;
        var cut = text.IndexOfAny(['?', '#']);
        return cut < 0 ? text : text[..cut];
    }
}
