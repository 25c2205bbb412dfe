using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>The body of a 202 to a script: the id the submission will carry through the pipeline.</summary>
public sealed record SubmissionAccepted(string SubmissionId);

/// <summary>Maps a <see cref="CaptureOutcome"/> to the HTTP answer, setting CORS and Retry-After headers on the response.</summary>
public static class CaptureResults
{
    public const string ProblemContentType = "application/problem+json";

    public static IActionResult ToActionResult(CaptureOutcome outcome, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(request);
        var response = request.HttpContext.Response;

        switch (outcome.Kind)
        {
            case CaptureOutcomeKind.PreflightAllowed:
                CaptureCors.ApplyToPreflight(response, outcome.AllowedOrigin!);
                return new NoContentResult();
            case CaptureOutcomeKind.PreflightDenied:
                // No CORS headers: the browser refuses the real request, which is the point. The body says why, for whoever debugs it.
                return Problem(request, new CaptureProblem(StatusCodes.Status403Forbidden, CaptureProblemCodes.OriginNotAllowed, "This origin may not call this endpoint.",
                    "The preflight's origin, method or headers are not allowed here."));
        }

        if (outcome.AllowedOrigin is not null)
            CaptureCors.ApplyToResponse(response, outcome.AllowedOrigin);

        if (outcome.Kind == CaptureOutcomeKind.Accepted)
        {
            if (outcome.BrowserForm && outcome.Form is not null)
                return SeeOther(response, RedirectTarget(outcome.Form.ThankYouUrl));
            return new ObjectResult(new SubmissionAccepted(outcome.SubmissionId!)) { StatusCode = StatusCodes.Status202Accepted };
        }

        var problem = outcome.Problem!;
        if (outcome.RetryAfterSeconds is { } retryAfter)
            response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);

        if (outcome.BrowserForm)
        {
            if (problem.Status == StatusCodes.Status400BadRequest && outcome.Form?.ErrorUrl is { } errorUrl)
                return SeeOther(response, QueryHelpers.AddQueryString(RedirectTarget(errorUrl), new Dictionary<string, string?> { ["form"] = outcome.Form.Id, ["errors"] = ErrorCodes(problem) }));
            return new ContentResult { StatusCode = problem.Status, ContentType = "text/html; charset=utf-8", Content = ErrorPage(problem) };
        }

        return Problem(request, problem);
    }

    private static ObjectResult Problem(HttpRequest request, CaptureProblem problem)
    {
        var details = new ProblemDetails
        {
            Type = problem.Type,
            Title = problem.Title,
            Status = problem.Status,
            Detail = problem.Detail,
            Instance = request.Path.HasValue ? request.Path.Value : null,
        };
        if (problem.Errors.Count > 0)
            details.Extensions["errors"] = problem.Errors;
        var result = new ObjectResult(details) { StatusCode = problem.Status };
        result.ContentTypes.Add(ProblemContentType);
        return result;
    }

    /// <summary>
    /// The 429 (problem details, <c>Retry-After</c>) for an endpoint outside the capture service, e.g. a tracking link:
    /// <c>if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } d) return CaptureResults.TooManyRequests(d, request);</c>
    /// </summary>
    public static IActionResult TooManyRequests(RateLimitDecision decision, HttpRequest request) =>
        ToActionResult(LeadCaptureService.RateLimited(decision, form: null, browser: false, origin: null), request);

    /// <summary>
    /// A configured URL as a <c>Location</c>. With <c>Capture:SiteBaseUrl</c> set every form's URLs are already absolute (the
    /// catalog resolved paths against the site when it loaded). Without it (locally) a path on this app stays relative, so it
    /// resolves against the host the browser used, which serves wwwroot.
    /// </summary>
    private static string RedirectTarget(Uri configured) => configured.IsAbsoluteUri ? configured.AbsoluteUri : configured.OriginalString;

    /// <summary><c>email:required,consent:consent-required</c>, or the problem code when no field is to blame.</summary>
    public static string ErrorCodes(CaptureProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return problem.ErrorCodes.Count == 0
            ? problem.Code
            : string.Join(",", problem.ErrorCodes.SelectMany(e => e.Value.Select(code => $"{e.Key}:{code}")));
    }

    private static StatusCodeResult SeeOther(HttpResponse response, string url)
    {
        response.Headers.Location = url;
        return new StatusCodeResult(StatusCodes.Status303SeeOther);
    }

    private static string ErrorPage(CaptureProblem problem)
    {
        var items = new StringBuilder();
        foreach (var (field, messages) in problem.Errors)
        {
            foreach (var message in messages)
                items.Append(CultureInfo.InvariantCulture, $"<li><strong>{WebUtility.HtmlEncode(field)}</strong>: {WebUtility.HtmlEncode(message)}</li>");
        }
        var list = items.Length > 0 ? $"<ul>{items}</ul>" : "";
        return $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{WebUtility.HtmlEncode(problem.Title)}}</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}li{margin:.3rem 0}</style>
            </head>
            <body>
            <h1>{{WebUtility.HtmlEncode(problem.Title)}}</h1>
            <p>{{WebUtility.HtmlEncode(problem.Detail)}}</p>
            {{list}}
            <p><a href="javascript:history.back()">Go back to the form</a></p>
            </body>
            </html>
            """;
    }
}
