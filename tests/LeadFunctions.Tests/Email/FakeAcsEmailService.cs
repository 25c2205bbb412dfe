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
/// </summary>
internal sealed class FakeAcsEmailService : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentQueue<Func<HttpResponse, Task>> _script = new();

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
    public void ThenAnswer(int status, params (string Name, string Value)[] headers) => _script.Enqueue(response =>
    {
        response.StatusCode = status;
        foreach (var (name, value) in headers)
            response.Headers[name] = value;
        return response.WriteAsync("""{"error":{"code":"TooManyRequests","message":"Throttled"}}""");
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
        if (status == 202 && _script.TryDequeue(out var scripted))
        {
            await scripted(context.Response);
            Requests.Enqueue(new ReceivedRequest(rawTarget, headers, Encoding.UTF8.GetString(body), context.Response.StatusCode, null));
            return;
        }

        Requests.Enqueue(new ReceivedRequest(rawTarget, headers, Encoding.UTF8.GetString(body), status, problem));
        context.Response.StatusCode = status;
        if (status == 202)
        {
            var operationId = headers.GetValueOrDefault("Operation-Id") ?? Guid.NewGuid().ToString();
            context.Response.Headers["Operation-Location"] = $"{Endpoint}emails/operations/{operationId}?api-version=2025-09-01";
            await context.Response.WriteAsync($$"""{"id":"{{operationId}}","status":"Running"}""");
        }
        else
        {
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { code = status.ToString(CultureInfo.InvariantCulture), message = problem } }));
        }
    }

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
