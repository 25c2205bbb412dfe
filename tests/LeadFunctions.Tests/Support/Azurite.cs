using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace LeadFunctions.Tests.Support;

/// <summary>
/// Real Azurite for storage tests. <c>./test.sh</c> starts one (in memory, free ports) and passes its connection string in
/// <c>LEADFUNCTIONS_TEST_STORAGE</c>; run from an IDE without it, the fixture starts its own from the repo's node_modules.
/// Tests isolate themselves with <see cref="UniqueName"/> tables and queues, so they can share one emulator.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string ConnectionStringVariable = "LEADFUNCTIONS_TEST_STORAGE";
    private const string DevAccount = "devstoreaccount1";
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var given = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(given))
        {
            ConnectionString = given;
            return;
        }

        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var azurite = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
            throw new InvalidOperationException($"Azurite is not installed ({azurite}). Run 'npm ci' at the repository root, or use ./test.sh.");

        var start = new ProcessStartInfo(azurite)
        {
            ArgumentList =
            {
                "--silent", "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck",
                "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(System.Globalization.CultureInfo.InvariantCulture),
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

        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={DevAccount};AccountKey={DevKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/{DevAccount};QueueEndpoint=http://127.0.0.1:{queue}/{DevAccount};TableEndpoint=http://127.0.0.1:{table}/{DevAccount};";
        await WaitForPortAsync(queue);
        await WaitForPortAsync(table);
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A name no other test uses: letters and digits only, valid for both tables and queues.</summary>
    public static string UniqueName(string prefix) => (prefix + Guid.NewGuid().ToString("N")[..12]).ToLowerInvariant();

    public TableServiceClient TableService() => new(ConnectionString);

    public QueueClient Queue(string name) => new(ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
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
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}

public static class RepoPaths
{
    /// <summary>The repository root: the nearest folder above the test binaries that holds LeadFunctions.sln.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LeadFunctions.sln")))
                return dir.FullName;
        }
        // Built with LF_ARTIFACTS outside the tree: fall back to the working directory's ancestors.
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LeadFunctions.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Cannot find the repository root (LeadFunctions.sln).");
    }
}
