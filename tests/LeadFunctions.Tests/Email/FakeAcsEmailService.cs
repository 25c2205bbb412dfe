using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure.Core.Pipeline;
using LeadFunctions.Infrastructure.Email.Acs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Tests.Email;

/// <summary>
/// Stands in for ACS's <c>POST /emails:send</c> on 127.0.0.1 over HTTPS (the SDK's bearer policy refuses plain HTTP),
/// checking what the service checks: the HMAC signature recomputed from the received request with the same key (or the
/// bearer token), the body's SHA-256, the repeatability headers and the JSON shape. Answers are scripted per test.
/// Repeatable requests behave as ACS documents them ("Repeatable requests", REST API docs): a request whose
/// <c>Repeatability-First-Sent</c> is more than 5 minutes old (by <see cref="Time"/>) is refused with 412; a repeat of a
/// tracked request id within the window is not executed again (a 2xx or 4xx original is answered as before, a 5xx original
/// is executed again), and a repeat that does not match its original is refused with 400. <see cref="Sent"/> holds what
/// the service actually accepted for delivery.
/// </summary>
internal sealed class FakeAcsEmailService : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private static readonly TimeSpan TrackedFor = TimeSpan.FromMinutes(5);
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();
    private readonly Dictionary<string, Tracked> _tracked = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _executing = new(1, 1);

    private FakeAcsEmailService(WebApplication app, X509Certificate2 certificate)
    {
        _app = app;
        _certificate = certificate;
    }

    /// <summary>The access key the fake verifies signatures with (base64, as in a connection string).</summary>
    public string AccessKey { get; init; } = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    /// <summary>When set, the fake expects <c>Authorization: Bearer &lt;token&gt;</c> instead of an HMAC signature.</summary>
    public string? BearerToken { get; set; }

    public Uri Endpoint { get; private set; } = null!;

    public string ConnectionString => $"endpoint={Endpoint};accesskey={AccessKey}";

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>The e-mails the service accepted for delivery (executed requests answered 202), repeats not counted.</summary>
    public ConcurrentQueue<ReceivedRequest> Sent { get; } = new();

    /// <summary>The service's clock, for the repeatability window.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    public static async Task<FakeAcsEmailService> StartAsync()
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var fake = new FakeAcsEmailService(app, certificate);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        fake.Endpoint = new Uri(new Uri(address).GetLeftPart(UriPartial.Authority) + "/");
        return fake;
    }

    /// <summary>The next accepted request gets this answer instead of 202.</summary>
    public void ThenAnswer(int status, params (string Name, string Value)[] headers) => _script.Enqueue(context =>
    {
        var response = context.Response;
        response.StatusCode = status;
        foreach (var (name, value) in headers)
            response.Headers[name] = value;
        return response.WriteAsync("""{"error":{"code":"TooManyRequests","message":"Throttled"}}""");
    });

    /// <summary>The next request is accepted (the e-mail goes out) but the connection drops before the client sees the 202.</summary>
    public void ThenAcceptAndDropTheConnection() => _script.Enqueue(context =>
    {
        context.Response.StatusCode = 202;
        context.Abort();
        return Task.CompletedTask;
    });

    /// <summary>An Azure.Core transport that trusts this fake's self-signed certificate and nothing else.</summary>
    public AcsEmailClientOptions ClientOptions()
    {
        var thumbprint = _certificate.Thumbprint;
#pragma warning disable CA2000 // The transport owns the handler for the sender's lifetime.
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == thumbprint,
        };
#pragma warning restore CA2000
        return new AcsEmailClientOptions { Transport = new HttpClientTransport(handler) };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
        _executing.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var bodyBuffer = new MemoryStream();
        await request.Body.CopyToAsync(bodyBuffer);
        var body = bodyBuffer.ToArray();
        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);

        var (status, problem) = Check(request.Method, rawTarget, request.Headers.Host.ToString(), headers, body, request.Path, request.Query);
        var received = new ReceivedRequest(rawTarget, headers, Encoding.UTF8.GetString(body), status, problem);
        if (status != 202)
        {
            Requests.Enqueue(received);
            await WriteAsync(context, status, problem);
            return;
        }

        // One request at a time, as the service serialises repeats of one id (it answers 409 to a repeat still in progress).
        await _executing.WaitAsync();
        try
        {
            await ExecuteRepeatableAsync(context, received, body);
        }
        finally
        {
            _executing.Release();
        }
    }

    private async Task ExecuteRepeatableAsync(HttpContext context, ReceivedRequest received, byte[] body)
    {
        var now = Time.GetUtcNow();
        var requestId = received.Headers["Repeatability-Request-Id"];
        DateTimeOffset.TryParseExact(received.Headers["Repeatability-First-Sent"], "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var firstSent);
        context.Response.Headers["Repeatability-Result"] = "rejected";
        if (now - firstSent > TrackedFor)
        {
            Requests.Enqueue(received with { Status = 412, Problem = "Repeatability-First-Sent header not within 5 minute window." });
            await WriteAsync(context, 412, "Repeatability-First-Sent header not within 5 minute window.");
            return;
        }

        // The service forgets a request once its first-sent time leaves the window.
        foreach (var expired in _tracked.Where(t => now - t.Value.FirstSent > TrackedFor).Select(t => t.Key).ToList())
            _tracked.Remove(expired);

        var hash = Convert.ToBase64String(SHA256.HashData(body));
        if (_tracked.TryGetValue(requestId, out var original))
        {
            if (original.BodyHash != hash || original.FirstSent != firstSent)
            {
                Requests.Enqueue(received with { Status = 400, Problem = "Repeated request does not match the original." });
                await WriteAsync(context, 400, "Repeated request does not match the original.");
                return;
            }
            if (original.Status < 500)
            {
                context.Response.Headers["Repeatability-Result"] = "accepted";
                Requests.Enqueue(received with { Status = original.Status, Problem = "repeat: answered as the original" });
                await WriteAsync(context, original.Status, null);
                return;
            }
        }

        context.Response.Headers["Repeatability-Result"] = "accepted";
        if (_script.TryDequeue(out var scripted))
        {
            await scripted(context);
            var scriptedStatus = context.Response.StatusCode;
            // Throttling (429) and a request timeout (408) turn the request away before it runs, so there is nothing to track.
            if (scriptedStatus is not (408 or 429))
                _tracked[requestId] = new Tracked(hash, firstSent, scriptedStatus);
            Requests.Enqueue(received with { Status = scriptedStatus });
            if (scriptedStatus == 202)
                Sent.Enqueue(received);
            return;
        }

        _tracked[requestId] = new Tracked(hash, firstSent, 202);
        Requests.Enqueue(received);
        Sent.Enqueue(received);
        await WriteAsync(context, 202, null);
    }

    private async Task WriteAsync(HttpContext context, int status, string? problem)
    {
        context.Response.StatusCode = status;
        if (status == 202)
        {
            var operationId = context.Request.Headers["Operation-Id"].ToString() is { Length: > 0 } id ? id : Guid.NewGuid().ToString();
            context.Response.Headers["Operation-Location"] = $"{Endpoint}emails/operations/{operationId}?api-version=2025-09-01";
            await context.Response.WriteAsync($$"""{"id":"{{operationId}}","status":"Running"}""");
        }
        else
        {
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { code = status.ToString(CultureInfo.InvariantCulture), message = problem } }));
        }
    }

    private sealed record Tracked(string BodyHash, DateTimeOffset FirstSent, int Status);

    private (int Status, string? Problem) Check(string method, string rawTarget, string host, Dictionary<string, string> headers, byte[] body, PathString path, IQueryCollection query)
    {
        if (method != "POST" || path != "/emails:send")
            return (404, $"No operation at {method} {path}");
        if (string.IsNullOrEmpty(query["api-version"]))
            return (400, "api-version is required");

        var authorization = headers.GetValueOrDefault("Authorization") ?? "";
        if (BearerToken is not null)
        {
            if (authorization != $"Bearer {BearerToken}")
                return (401, "Bearer token missing or wrong");
        }
        else
        {
            var contentHash = Convert.ToBase64String(SHA256.HashData(body));
            if (headers.GetValueOrDefault("x-ms-content-sha256") != contentHash)
                return (401, "x-ms-content-sha256 does not match the body");
            var date = headers.GetValueOrDefault("x-ms-date");
            if (date is null || !DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                return (401, "x-ms-date missing or not RFC 1123");
            // The documented recipe, recomputed here from what arrived on the wire.
            var stringToSign = $"{method}\n{rawTarget}\n{date};{host};{contentHash}";
            var signature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(AccessKey), Encoding.UTF8.GetBytes(stringToSign)));
            if (authorization != $"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}")
                return (401, "HMAC signature mismatch");
        }

        if (!Guid.TryParse(headers.GetValueOrDefault("Repeatability-Request-Id"), out _))
            return (400, "Repeatability-Request-Id must be a GUID");
        if (!DateTimeOffset.TryParseExact(headers.GetValueOrDefault("Repeatability-First-Sent"), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            return (400, "Repeatability-First-Sent must be an RFC 1123 date");
        if (headers.TryGetValue("Operation-Id", out var operationId) && !Guid.TryParse(operationId, out _))
            return (400, "Operation-Id must be a GUID");
        if (!(headers.GetValueOrDefault("Content-Type") ?? "").StartsWith("application/json", StringComparison.Ordinal))
            return (415, "Content-Type must be application/json");

        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.GetProperty("senderAddress").GetString() is not { Length: > 0 })
                return (400, "senderAddress is required");
            var to = root.GetProperty("recipients").GetProperty("to");
            if (to.GetArrayLength() == 0 || to.EnumerateArray().Any(r => r.GetProperty("address").GetString() is not { Length: > 0 }))
                return (400, "recipients.to needs addresses");
            if (root.GetProperty("content").GetProperty("subject").ValueKind != JsonValueKind.String)
                return (400, "content.subject is required");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (400, "Body is not a valid EmailMessage: " + ex.Message);
        }

        return (202, null);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}

internal sealed record ReceivedRequest(string Target, IReadOnlyDictionary<string, string> Headers, string Body, int Status, string? Problem);
