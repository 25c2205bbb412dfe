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
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "leadfunctions-azurite-" + Guid.NewGuid().ToString("N"));
    private readonly AzuritePorts _ports = AzuritePorts.Free();
    private Process? _process;

    public string ConnectionString => _ports.ConnectionString;

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
        ReleasePorts();
        _process = AzuriteProcess.Start(_ports, "--location", _folder);
        await AzuriteProcess.WaitForPortAsync(_ports.Queue, TimeSpan.FromSeconds(60));
        await AzuriteProcess.WaitForPortAsync(_ports.Table, TimeSpan.FromSeconds(60));
        await AzuriteProcess.WaitForPortAsync(_ports.Blob, TimeSpan.FromSeconds(60));
        // Something else answering on our ports (Azurite then exits on EADDRINUSE) is not our storage coming back.
        await Task.Delay(500);
        if (_process.HasExited)
            throw new InvalidOperationException($"Azurite exited ({_process.ExitCode}) on restart: another process holds one of ports {_ports.Blob}, {_ports.Queue}, {_ports.Table}.");
    }

    /// <summary>
    /// Bound but not listening: while storage is "down" its ports refuse connections, as a stopped Azurite's do, but no other
    /// process can take them. Without this, an Azurite another test (or another test run on the machine) starts during the
    /// outage can be handed one of these ports as a free one, and the host under test then talks to that stranger's storage
    /// after the "restart": empty tables, none of its messages, the outage test waiting 5 minutes for nothing.
    /// </summary>
    private void HoldPorts()
    {
        foreach (var port in new[] { _ports.Blob, _ports.Queue, _ports.Table })
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                _held.Add(socket);
            }
            catch (SocketException)
            {
                socket.Dispose(); // already taken: StartAsync will say so
            }
        }
    }

    private void ReleasePorts()
    {
        foreach (var socket in _held)
            socket.Dispose();
        _held.Clear();
    }

    private readonly List<Socket> _held = [];

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
            // Generous: on a machine at a load of 30 a graceful close can take long, and a kill would lose what Azurite had not
            // saved yet (it saves every 5 s), which is a fault of the test rig, not an outage.
            using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await _process.WaitForExitAsync(graceful.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
                KilledAtLastStop = true;
            }
        }
        _process.Dispose();
        _process = null;
        await WaitForPortClosedAsync(_ports.Queue);
        await WaitForPortClosedAsync(_ports.Table);
        HoldPorts();
    }

    /// <summary>Whether the last <see cref="StopAsync"/> had to kill Azurite (it then lost up to its last 5 s of writes).</summary>
    public bool KilledAtLastStop { get; private set; }

    public TableServiceClient TableService() => new(ConnectionString);

    public QueueClient Queue(string name) => new(ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        ReleasePorts();
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
