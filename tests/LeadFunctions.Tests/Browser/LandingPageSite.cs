using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.LocalHost;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Browser;

/// <summary>
/// The local host serving the sample landing page on a free port, HTTP only (no queue listener), so what the page sends
/// stays on <c>lead-events</c> to be read. It runs the shipped forms file as it is: the sample forms allow <c>self</c> and
/// send visitors to a path on the app, so they work on the test's port with the production checks unchanged. A test that
/// needs a variant (a form that requires consent) gets a copy through the ordinary <c>Capture:FormsFile</c> setting.
/// </summary>
public sealed class LandingPageSite : IAsyncDisposable
{
    private readonly RunningLocalHost _host;
    private readonly string _folder;

    private LandingPageSite(RunningLocalHost host, string folder, JsonObject forms)
    {
        _host = host;
        _folder = folder;
        Forms = forms;
    }

    public Uri BaseAddress => _host.App.BaseAddress();

    /// <summary>The host's services, to process what the page put on <c>lead-events</c> (the site runs no queue listener).</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>The forms file the host runs with (the shipped one, with any adjustment applied).</summary>
    public JsonObject Forms { get; }

    /// <param name="adjust">A change to the copied forms file (e.g. a form that requires consent), applied before the host starts.</param>
    public static async Task<LandingPageSite> StartAsync(AzuriteFixture azurite, Action<JsonObject>? adjust = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "leadfunctions-browser-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        // A port freed a moment ago can be taken by someone else before Kestrel binds it; try another then.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var forms = ShippedForms();
            adjust?.Invoke(forms);
            var formsFile = Path.Combine(folder, $"forms-{port.ToString(CultureInfo.InvariantCulture)}.json");
            await File.WriteAllTextAsync(formsFile, forms.ToJsonString());
            try
            {
                var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
                {
                    ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
                    ["Capture:FormsFile"] = formsFile,
                });
                return new LandingPageSite(host, folder, forms);
            }
            catch (IOException) when (attempt < 3)
            {
                // Address in use: pick another port.
            }
        }
    }

    public JsonObject Form(string id) =>
        Forms["forms"]!.AsArray().Select(f => f!.AsObject()).Single(f => (string?)f["id"] == id);

    /// <summary>Empties <c>lead-events</c>, so what a test reads afterwards was sent during the test (the Azurite collection runs one test at a time).</summary>
    public static async Task ClearLeadEventsAsync(AzuriteFixture azurite)
    {
        var queue = azurite.Queue(StorageOptions.LeadEventsQueue);
        await queue.CreateIfNotExistsAsync();
        await queue.ClearMessagesAsync();
    }

    /// <summary>Every event on <c>lead-events</c>, left in place.</summary>
    public static async Task<IReadOnlyList<LeadEvent>> LeadEventsAsync(AzuriteFixture azurite)
    {
        var messages = (await azurite.Queue(StorageOptions.LeadEventsQueue).PeekMessagesAsync(maxMessages: 32)).Value;
        Assert.True(messages.Length < 32, "More events than one peek shows: the queue was not cleared before the test.");
        return messages.Select(m => LeadEventJson.Deserialize(m.Body.ToString())).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        ScratchFolder.Delete(_folder);
    }

    private static JsonObject ShippedForms() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "forms.json")))!.AsObject();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
