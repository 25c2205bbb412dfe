using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Tests.Webhooks;

/// <summary>One request as the receiver got it: path, headers and the exact body bytes.</summary>
internal sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, int AnsweredWith)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>
/// A real HTTP receiver (Kestrel on 127.0.0.1, a free port) standing in for a CRM: it records every request and answers per path
/// from a script (<see cref="Answer"/>), 200 when the script has nothing for that path.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Func<HttpContext, Task<int>>>> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task<int>>> _always = new(StringComparer.Ordinal);

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public IReadOnlyList<ReceivedWebhook> At(string path) => [.. Received.Where(r => r.Path == path)];

    public Uri Url(string path) => new(BaseUrl, path);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver.BaseUrl = new Uri(new Uri(address).GetLeftPart(UriPartial.Authority) + "/");
        return receiver;
    }

    /// <summary>The next request to <paramref name="path"/> gets this status (with the headers).</summary>
    public void Answer(string path, int status, params (string Name, string Value)[] headers) =>
        _scripts.GetOrAdd(path, _ => new()).Enqueue(context =>
        {
            foreach (var (name, value) in headers)
                context.Response.Headers[name] = value;
            return Task.FromResult(status);
        });

    /// <summary>Every request to <paramref name="path"/> the script has nothing for gets this.</summary>
    public void AlwaysAnswer(string path, int status) => _always[path] = _ => Task.FromResult(status);

    /// <summary>Every request to <paramref name="path"/> hangs until the client gives up.</summary>
    public void AlwaysHang(string path) => _always[path] = async context =>
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(2), context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client gave up, as it should.
        }
        return 504;
    };

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var path = context.Request.Path.Value ?? "/";
        var answer = _scripts.TryGetValue(path, out var script) && script.TryDequeue(out var next) ? next
            : _always.TryGetValue(path, out var always) ? always
            : _ => Task.FromResult(200);
        var status = await answer(context);
        Received.Enqueue(new ReceivedWebhook(path,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), buffer.ToArray(), status));
        if (!context.RequestAborted.IsCancellationRequested)
            context.Response.StatusCode = status;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
