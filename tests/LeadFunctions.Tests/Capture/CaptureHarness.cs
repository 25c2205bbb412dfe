using System.Diagnostics.Metrics;
using System.Text;
using Azure.Storage.Queues;
using LeadFunctions.Capture;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Capture;

/// <summary>
/// The capture functions with their real registrations (storage + capture, the shipped forms file) against Azurite,
/// on a unique queue standing in for <c>lead-events</c>. Requests are DefaultHttpContexts; results are executed for real.
/// </summary>
internal sealed class CaptureHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);

    private readonly IHost _host;
    private readonly MeterListener _listener = new();
    private long _honeypots;

    private CaptureHarness(IHost host, QueueClient queue)
    {
        _host = host;
        Queue = queue;
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meterFactory && instrument.Name == CaptureMetrics.HoneypotCounterName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _honeypots, value));
        _listener.Start();
    }

    public QueueClient Queue { get; }

    public IServiceProvider Services => _host.Services;

    public long HoneypotCount => Interlocked.Read(ref _honeypots);

    public CaptureLead CaptureLead => ActivatorUtilities.CreateInstance<CaptureLead>(Services);

    public TrackEvent TrackEvent => ActivatorUtilities.CreateInstance<TrackEvent>(Services);

    /// <param name="createQueue">False leaves the queue missing, so every enqueue fails as it would with storage down.</param>
    public static async Task<CaptureHarness> StartAsync(AzuriteFixture azurite, bool createQueue = true, IDictionary<string, string?>? settings = null)
    {
        var queue = azurite.Queue(AzuriteFixture.UniqueName("capture"));
        if (createQueue)
            await queue.CreateAsync();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageOptions.ConnectionName] = azurite.ConnectionString,
            ["Storage:CreateIfMissing"] = "false",
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddMvcCore();
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        builder.Services.AddSingleton(new LeadEventsQueue(queue));
        builder.Services.AddLeadStorage();
        builder.Services.AddLeadCapture();
        var host = builder.Build();
        await host.StartAsync();
        return new CaptureHarness(host, queue);
    }

    public HttpContext Request(string method, string path, string? contentType, byte[] body, Action<HttpRequest>? configure = null)
    {
        var context = new DefaultHttpContext { RequestServices = Services };
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 7071);
        context.Request.Path = path;
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Response.Body = new MemoryStream();
        configure?.Invoke(context.Request);
        return context;
    }

    public HttpContext Form(string path, IEnumerable<KeyValuePair<string, string>> fields, Action<HttpRequest>? configure = null)
    {
        using var content = new FormUrlEncodedContent(fields);
        var body = content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        return Request("POST", path, "application/x-www-form-urlencoded", body, r =>
        {
            // What a browser sends with a form navigation.
            r.Headers.Accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
            configure?.Invoke(r);
        });
    }

    public HttpContext Json(string path, string json, Action<HttpRequest>? configure = null) =>
        Request("POST", path, "application/json", Encoding.UTF8.GetBytes(json), configure);

    public HttpContext Preflight(string path, string origin, string method = "POST") =>
        Request("OPTIONS", path, null, [], r =>
        {
            r.Headers.Origin = origin;
            r.Headers.AccessControlRequestMethod = method;
            r.Headers.AccessControlRequestHeaders = "content-type,idempotency-key";
        });

    public async Task<CapturedResponse> PostFormAsync(string formId, HttpContext context)
    {
        var result = await CaptureLead.Run(context.Request, formId, CancellationToken.None);
        return await ExecuteAsync(result, context);
    }

    public async Task<CapturedResponse> PostEventAsync(HttpContext context)
    {
        var result = await TrackEvent.Run(context.Request, CancellationToken.None);
        return await ExecuteAsync(result, context);
    }

    /// <summary>Runs the result as the Functions host would, and reads back what went on the wire.</summary>
    public static async Task<CapturedResponse> ExecuteAsync(IActionResult result, HttpContext context)
    {
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        context.Response.Body.Position = 0;
        using var reader = new StreamReader(context.Response.Body);
        return new CapturedResponse(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType, await reader.ReadToEndAsync());
    }

    public async Task<IReadOnlyList<LeadEvent>> MessagesAsync()
    {
        var messages = (await Queue.ReceiveMessagesAsync(maxMessages: 32)).Value;
        return messages.Select(m => LeadEventJson.Deserialize(m.Body.ToString())).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _host.StopAsync();
        _host.Dispose();
    }
}

internal sealed record CapturedResponse(int Status, IHeaderDictionary Headers, string? ContentType, string Body)
{
    public System.Text.Json.JsonElement JsonBody() => System.Text.Json.JsonDocument.Parse(Body).RootElement.Clone();

    public string ProblemType() => JsonBody().GetProperty("type").GetString()!;

    public IReadOnlyList<string> ErrorFields() =>
        JsonBody().TryGetProperty("errors", out var errors) ? errors.EnumerateObject().Select(p => p.Name).ToList() : [];
}

/// <summary>Form fields that pass the shipped demo-request form; tests change one thing.</summary>
internal static class DemoRequest
{
    public const string FormId = "demo-request";
    public const string ThankYouUrl = "/thanks.html?form=demo";
    public const string AllowedOrigin = "http://127.0.0.1:7071";

    public static Dictionary<string, string> Fields() => new()
    {
        ["email"] = "Grace.Hopper@Example.com",
        ["firstName"] = "Grace",
        ["lastName"] = "Hopper",
        ["company"] = "Compilers Inc",
        ["role"] = "executive",
        ["companySize"] = "201-1000",
        ["consent"] = "on",
        ["website"] = "",
    };

    public static string Json(Action<Dictionary<string, string>>? change = null)
    {
        var fields = Fields();
        change?.Invoke(fields);
        return System.Text.Json.JsonSerializer.Serialize(fields);
    }
}
