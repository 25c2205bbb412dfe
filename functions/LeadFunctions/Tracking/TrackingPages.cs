using Microsoft.AspNetCore.Http;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Tracking;

/// <summary>The few small HTML pages the e-mail links lead to. Every dynamic value is HTML-encoded.</summary>
internal static class TrackingPages
{
    /// <summary>The smallest transparent GIF (1×1), answered to every open-pixel request.</summary>
    public static readonly byte[] TransparentGif = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    public static ContentResult Page(string title, string bodyHtml, int status = 200) => new()
    {
        StatusCode = status,
        ContentType = "text/html; charset=utf-8",
        Content = $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <meta name="robots" content="noindex"><title>{{Encode(title)}}</title>
            <style>body{font-family:system-ui,Arial,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}button{padding:.6rem 1.2rem;font-size:1rem}textarea,select{width:100%;font-size:1rem;margin:.3rem 0 1rem}</style>
            </head><body><h1>{{Encode(title)}}</h1>{{bodyHtml}}</body></html>
            """,
    };

    public static ContentResult NotFound() =>
        Page("Link not valid", "<p>This link is not valid. It may have expired, or have been copied incompletely.</p>", 404);

    /// <summary>For the open pixel, which no person reads: a 404 in problem details rather than a page.</summary>
    public static ObjectResult LinkNotValidProblem()
    {
        var result = new ObjectResult(new ProblemDetails
        {
            Type = Domain.ProblemTypes.Of("link-not-valid"),
            Title = "This link is not valid.",
            Status = StatusCodes.Status404NotFound,
            Detail = "The token is missing, forged, edited or of another kind of link.",
        })
        { StatusCode = StatusCodes.Status404NotFound };
        result.ContentTypes.Add(Infrastructure.Capture.CaptureResults.ProblemContentType);
        return result;
    }

    public static string Encode(string? value) => WebUtility.HtmlEncode(value ?? "");

    /// <summary>
    /// The form a link's page posted back; null when the body is no form we can read (another content type, a charset .NET refuses
    /// such as UTF-7, bytes that are not in the charset, a broken multipart boundary, over the form limits). Those are the
    /// sender's mistake, answered with the page's 400, never a 500.
    /// </summary>
    public static async Task<IFormCollection?> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.HasFormContentType)
            return null;
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or ArgumentException or System.Text.DecoderFallbackException or BadHttpRequestException)
        {
            return null;
        }
    }

    /// <summary>A form that posts back to the same signed URL.</summary>
    public static string Form(string action, string fieldsHtml, string button)
    {
        var builder = new StringBuilder();
        builder.Append("<form method=\"post\" action=\"").Append(Encode(action)).Append("\">");
        builder.Append(fieldsHtml);
        builder.Append("<button type=\"submit\">").Append(Encode(button)).Append("</button></form>");
        return builder.ToString();
    }
}
