using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LeadFunctions.Tests.Support;

/// <summary>The three 127.0.0.1 ports an Azurite listens on, and the connection string that reaches it.</summary>
internal sealed record AzuritePorts(int Blob, int Queue, int Table)
{
    private const string DevAccount = "devstoreaccount1";

    // Azurite's well-known development key (public, documented by Microsoft; it only opens the local emulator).
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static AzuritePorts Free() => new(AzuriteProcess.FreePort(), AzuriteProcess.FreePort(), AzuriteProcess.FreePort());

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={DevAccount};AccountKey={DevKey};" +
        $"BlobEndpoint=http://127.0.0.1:{Blob}/{DevAccount};QueueEndpoint=http://127.0.0.1:{Queue}/{DevAccount};TableEndpoint=http://127.0.0.1:{Table}/{DevAccount};";
}

/// <summary>
/// Starts Azurite from the repository's node_modules, the one way <see cref="AzuriteFixture"/> and
/// <see cref="RestartableAzurite"/> both do it; they differ only in where it keeps its data.
/// </summary>
internal static class AzuriteProcess
{
    /// <param name="ports">Where it listens.</param>
    /// <param name="storage">Where it keeps its data: <c>--inMemoryPersistence</c>, or <c>--location</c> and a folder.</param>
    public static Process Start(AzuritePorts ports, params string[] storage)
    {
        var executable = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
            throw new InvalidOperationException($"Azurite is not installed ({executable}). Run 'npm ci' at the repository root, or use ./test.sh.");

        string[] arguments =
        [
            "--silent", .. storage, "--disableTelemetry", "--skipApiVersionCheck",
            "--blobHost", "127.0.0.1", "--blobPort", Port(ports.Blob),
            "--queueHost", "127.0.0.1", "--queuePort", Port(ports.Queue),
            "--tableHost", "127.0.0.1", "--tablePort", Port(ports.Table),
        ];
        var start = new ProcessStartInfo(executable, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        // Its output is read and dropped, so a full pipe never blocks it.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts connections on the port; past <paramref name="timeout"/> the connection error is thrown.</summary>
    public static async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
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

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
