using System.Diagnostics;
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

        var ports = AzuritePorts.Free();
        _process = AzuriteProcess.Start(ports, "--inMemoryPersistence");
        ConnectionString = ports.ConnectionString;
        await AzuriteProcess.WaitForPortAsync(ports.Queue, TimeSpan.FromSeconds(30));
        await AzuriteProcess.WaitForPortAsync(ports.Table, TimeSpan.FromSeconds(30));
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
