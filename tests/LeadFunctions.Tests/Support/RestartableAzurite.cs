using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace LeadFunctions.Tests.Support;

/// <summary>
/// An Azurite of one test's own that the test can stop and start again on the same ports, to play a storage outage.
/// It keeps its data in a temporary folder (<c>--location</c>), not in memory, so queues and tables survive the restart
/// as they survive an outage in Azure.
/// </summary>
public sealed class RestartableAzurite : IAsyncDisposable
{
    private const string DevAccount = "devstoreaccount1";
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "leadfunctions-azurite-" + Guid.NewGuid().ToString("N"));
    private readonly int _blob = FreePort();
    private readonly int _queue = FreePort();
    private readonly int _table = FreePort();
    private Process? _process;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={DevAccount};AccountKey={DevKey};" +
        $"BlobEndpoint=http://127.0.0.1:{_blob}/{DevAccount};QueueEndpoint=http://127.0.0.1:{_queue}/{DevAccount};TableEndpoint=http://127.0.0.1:{_table}/{DevAccount};";

    public bool IsRunning => _process is { HasExited: false };

    public static async Task<RestartableAzurite> StartNewAsync()
    {
        var azurite = new RestartableAzurite();
        await azurite.StartAsync();
        return azurite;
    }

    public async Task StartAsync()
    {
        if (IsRunning)
            return;
        Directory.CreateDirectory(_folder);
        var executable = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
            throw new InvalidOperationException($"Azurite is not installed ({executable}). Run 'npm ci' at the repository root, or use ./test.sh.");

        var start = new ProcessStartInfo(executable)
        {
            ArgumentList =
            {
                "--silent", "--location", _folder, "--disableTelemetry", "--skipApiVersionCheck",
                "--blobHost", "127.0.0.1", "--blobPort", Port(_blob),
                "--queueHost", "127.0.0.1", "--queuePort", Port(_queue),
                "--tableHost", "127.0.0.1", "--tablePort", Port(_table),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitForPortAsync(_queue);
        await WaitForPortAsync(_table);
        await WaitForPortAsync(_blob);
    }

    /// <summary>
    /// Takes storage away and waits until its ports refuse connections. Azurite is asked to stop (SIGTERM) rather than killed:
    /// killed, it loses the writes it acknowledged in its last seconds (it saves to disk periodically), which no real outage does.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        if (!_process.HasExited)
        {
            using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
                await term!.WaitForExitAsync();
            using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(graceful.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        _process = null;
        await WaitForPortClosedAsync(_queue);
        await WaitForPortClosedAsync(_table);
    }

    public TableServiceClient TableService() => new(ConnectionString);

    public QueueClient Queue(string name) => new(ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            if (Directory.Exists(_folder))
                Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task WaitForPortClosedAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"Azurite still accepts connections on port {port} after it was stopped.");
    }
}
