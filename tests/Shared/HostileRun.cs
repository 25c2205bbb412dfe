using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LeadFunctions.Testing.Hostile;

/// <summary>What the app answered one request (the body cut to its first bytes); <see cref="Error"/> when no answer came.</summary>
public sealed record HostileAnswer(HostileRequest Request, int Status, string? MediaType, string Body, string? Location, string? Error)
{
    /// <summary>Why the first attempt got no answer, when the answer is a resend's (see <see cref="HostileRunner.RunAsync"/>).</summary>
    public string? Resent { get; init; }
}

/// <summary>Sends a corpus over real HTTP, many in flight, and collects every answer.</summary>
public static class HostileRunner
{
    private const int KeptBodyChars = 4096;

    /// <summary>A client that follows no redirect and keeps no cookie: every answer is seen as the app gave it.</summary>
    public static HttpClient CreateClient(Uri baseAddress, int concurrency) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

    public static async Task<IReadOnlyList<HostileAnswer>> RunAsync(HttpClient client, IEnumerable<HostileRequest> requests, int concurrency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var answers = new ConcurrentBag<HostileAnswer>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (request, ct) =>
        {
            var answer = await SendAsync(client, request, ct);
            // A request that got no answer at all is sent once more, alone on its connection's turn: on a machine at a load
            // of 20-40 (the suite, other builds) a 60-second client timeout or a reset of an upload the server had stopped
            // reading was seen once on a busy machine and not again in reruns. What the app answers is the point here; a request
            // that gets no answer twice is still a violation, and the resend stays visible in Error.
            if (answer.Error is not null && !ct.IsCancellationRequested)
            {
                var again = await SendAsync(client, request, ct);
                answer = again.Error is null ? again with { Resent = answer.Error } : again;
            }
            answers.Add(answer);
        });
        return [.. answers.OrderBy(a => a.Request.Index)];
    }

    public static async Task<HostileAnswer> SendAsync(HttpClient client, HostileRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(request.PathAndQuery, UriKind.Relative));
            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(request.Body);
                if (request.ContentType is not null)
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
            else if (request.ContentType is not null)
            {
                message.Content = new ByteArrayContent([]);
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
            foreach (var (name, value) in request.Headers)
                message.Headers.TryAddWithoutValidation(name, value);
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var body = await ReadStartAsync(response.Content, cancellationToken);
            return new HostileAnswer(request, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body,
                response.Headers.Location?.OriginalString, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or InvalidOperationException or FormatException)
        {
            return new HostileAnswer(request, 0, null, "", null, ex.GetType().Name + ": " + ex.Message);
        }
    }

    private static async Task<string> ReadStartAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[KeptBodyChars];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
            read += n;
        // The rest is drained, so the connection goes back to the pool.
        await stream.CopyToAsync(Stream.Null, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }
}

/// <summary>
/// The rules every answer to the hostile corpus must keep (docs/performance.md, "Hostile corpus"):
/// no 5xx and no lost connection; a method a route does not take is a 404 from the host; a forged or expired credential is never
/// honoured; a redirect goes only where the app allows (a form's configured thank-you or error page, the URL signed into a
/// genuine click token when it is a web address, the workspace's sign-in); every other 4xx explains itself in the body its
/// endpoint promises: problem details with type, title and status for scripts and machines, an HTML page for a person's link.
/// </summary>
public sealed class HostileVerdicts(IReadOnlyCollection<string> formRedirects)
{
    /// <summary>Where the workspace page sends a person who is not signed in (ShowWorkspace.SignInPath).</summary>
    public const string WorkspaceSignInPath = "/.auth/login/aad?post_login_redirect_uri=/api/workspace";

    /// <summary>The thank-you and error URLs of every form in a forms.json: the only places a capture may send a browser.</summary>
    public static IReadOnlyCollection<string> FormRedirectsFrom(string formsJsonPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(formsJsonPath));
        var urls = new List<string>();
        foreach (var form in document.RootElement.GetProperty("forms").EnumerateArray())
        {
            foreach (var name in new[] { "thankYouUrl", "errorUrl" })
            {
                if (form.TryGetProperty(name, out var url) && url.GetString() is { Length: > 0 } value)
                    urls.Add(value);
            }
        }
        return urls;
    }

    /// <summary>Null when the answer keeps every rule; otherwise what it broke.</summary>
    public string? Check(HostileAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var request = answer.Request;
        var status = answer.Status;
        // A link page answers a POST without reading a body it has no use for; Kestrel then closes the connection rather than
        // drain a megabyte, so the client sees its upload cut. The app did answer; nothing of ours failed.
        if (answer.Error is not null && request.Body is { Length: > 1024 * 1024 } && request.Endpoint.Refusal == RefusalBody.Html)
            return null;
        if (answer.Error is not null)
            return "no answer: " + answer.Error;
        if (status >= 500)
            return $"{status} server error: {Cut(answer.Body)}";
        // Kestrel refuses a request line or header block over its limits, and a path with a NUL, before any function runs.
        if (answer.Body.Length == 0 && answer.MediaType is null && (status is 414 or 431 || (status == 400 && request.PathAndQuery.Split('?')[0].Contains("%00", StringComparison.Ordinal))))
            return null;
        if (request.WrongMethod)
            return status == 404 ? null : $"{request.Method} is not a method of this route, yet the answer was {status} (the host says 404)";
        if (!RouteMatches(request))
            return status == 404 ? null : $"the path no longer matches the route once the client normalised it, yet the answer was {status} (the host says 404)";
        if (request.MustBeRefused && status < 400)
            return $"a forged, expired or wrong-kind credential ({request.Attack}) was honoured with {status}";
        if (status is >= 300 and < 400)
            return CheckRedirect(request, status, answer.Location);
        if (status < 400)
            return null;
        if (request.Method == "HEAD")
            return null; // A HEAD answer has no body by definition.
        return ExpectedBody(request) switch
        {
            RefusalBody.Html => IsPage(answer) ? null : $"{status} without the HTML page a person's link gets ({answer.MediaType ?? "no content type"})",
            // The capture tells a browser's form post from a script's by Accept and Content-Type; either answer explains itself.
            RefusalBody.Form => IsPage(answer) ? null : CheckProblem(answer),
            _ => CheckProblem(answer),
        };
    }

    /// <summary>
    /// Whether the path, as the client sends it (dot segments removed, escapes normalised), still matches the endpoint's route:
    /// an id of "..", say, leaves <c>/api/leads/..</c> as <c>/api/</c>, which no function serves.
    /// </summary>
    public static bool RouteMatches(HostileRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = new Uri(new Uri("http://host/"), request.PathAndQuery).AbsolutePath;
        var segments = path.Split('/');
        var route = ("api/" + request.Endpoint.Route).Split('/');
        if (segments.Length != route.Length + 1 || segments[0].Length != 0)
            return false;
        for (var i = 0; i < route.Length; i++)
        {
            var segment = segments[i + 1];
            var matches = route[i].StartsWith('{') ? segment.Length > 0 : string.Equals(segment, route[i], StringComparison.OrdinalIgnoreCase);
            if (!matches)
                return false;
        }
        return true;
    }

    /// <summary>What a refusal's body must be: the endpoint's kind, except that a CORS preflight is never a form post.</summary>
    public static RefusalBody ExpectedBody(HostileRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Endpoint.Refusal == RefusalBody.Form && request.Method == "OPTIONS" ? RefusalBody.Problem : request.Endpoint.Refusal;
    }

    private static bool IsPage(HostileAnswer answer) => answer.MediaType == "text/html" && answer.Body.Length > 0;

    private string? CheckRedirect(HostileRequest request, int status, string? location)
    {
        if (location is null)
            return $"{status} without a Location";
        var allowed = request.Endpoint.Route switch
        {
            "forms/{formId}" => status == 303 && formRedirects.Any(url => location == url || location.StartsWith(url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?"), StringComparison.Ordinal)),
            "track/click" => HostileCorpus.SignedClickUrls.Contains(location),
            "workspace" => location == WorkspaceSignInPath,
            _ => false,
        };
        return allowed ? null : $"{status} redirect to '{Cut(location)}', which is not on the allow-list of {request.Endpoint.Name}";
    }

    private static string? CheckProblem(HostileAnswer answer)
    {
        if (answer.MediaType != "application/problem+json")
            return $"{answer.Status} without problem details ({answer.MediaType ?? "no content type"}, {answer.Body.Length} body chars: {Cut(answer.Body)})";
        try
        {
            using var problem = JsonDocument.Parse(answer.Body);
            var root = problem.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("status", out var status) || !status.TryGetInt32(out var code) || code != answer.Status)
            {
                return $"{answer.Status} problem details without type, title and a matching status: {Cut(answer.Body)}";
            }
            return null;
        }
        catch (JsonException)
        {
            return $"{answer.Status} problem details that are not JSON (or longer than we keep): {Cut(answer.Body)}";
        }
    }

    private static string Cut(string text) => text.Length > 300 ? text[..300] + "…" : text;
}

/// <summary>Counts of answers by endpoint and status, for the report of a run.</summary>
public static class HostileSummary
{
    public static string Table(IReadOnlyList<HostileAnswer> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        var text = new StringBuilder();
        foreach (var endpoint in answers.GroupBy(a => a.Request.Endpoint.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var statuses = endpoint.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key}×{g.Count()}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"{endpoint.Key,-24} {endpoint.Count(),6}  {string.Join(" ", statuses)}");
        }
        foreach (var resent in answers.Where(a => a.Resent is not null))
            text.AppendLine(CultureInfo.InvariantCulture, $"resent after no answer ({resent.Resent}): {resent.Request}");
        return text.ToString();
    }

    /// <summary>The broken rules grouped by endpoint, status and rule, each with a few of its requests.</summary>
    public static string Violations(IReadOnlyList<(HostileAnswer Answer, string Broken)> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        var text = new StringBuilder();
        foreach (var group in violations.GroupBy(v => (v.Answer.Request.Endpoint.Name, v.Answer.Status, Rule: v.Broken.Split(':', '(')[0])).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{group.Key.Name} {group.Key.Status} ×{group.Count()}: {group.Key.Rule}");
            foreach (var (answer, broken) in group.Take(3))
                text.AppendLine(CultureInfo.InvariantCulture, $"    {answer.Request}\n        -> {broken}");
        }
        return text.ToString();
    }

    /// <summary>Answers that may have put something on the lead-events queue: everything the app accepted (2xx, 3xx).</summary>
    public static int Accepted(IEnumerable<HostileAnswer> answers) => answers.Count(a => a.Status is >= 200 and < 400 && a.Request.Method != "OPTIONS");
}
