using System.Text.Json;
using Azure.Core;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Testing;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LeadFunctions.LocalHost.Configuration;

/// <summary>
/// Opt-in (off unless <see cref="FileSetting"/> names a file): every storage request of the process is counted by kind, the
/// app's own clients (<see cref="StoragePipelinePolicy"/>) and the WebJobs listener's (queue receive, delete, release: through
/// Microsoft.Extensions.Azure's client defaults, which the WebJobs storage extensions build their clients from). The counts are
/// written to the file as JSON every half second and at stop, so the load tool can take the requests per event of a run.
/// Production never registers it: the Functions app does not read this setting.
/// </summary>
public static class StorageRequestCounting
{
    public const string FileSetting = "LocalHost:StorageRequestCountFile";

    public static void AddIfConfigured(IServiceCollection services, IConfiguration configuration)
    {
        if (configuration[FileSetting] is not { Length: > 0 } file)
            return;
        var counter = new CountingPolicy();
        services.AddSingleton(counter);
        services.AddSingleton(new StoragePipelinePolicy(counter));
        services.AddAzureClients(clients => clients.ConfigureDefaults(options => options.AddPolicy(counter, HttpPipelinePosition.PerRetry)));
        services.AddHostedService(_ => new CountFileWriter(counter, Path.GetFullPath(file)));
    }

    private sealed class CountFileWriter(CountingPolicy counter, string file) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
            try
            {
                while (await timer.WaitForNextTickAsync(stoppingToken))
                    Write();
            }
            catch (OperationCanceledException)
            {
                // Stopping: the last counts are written below.
            }
            Write();
        }

        private void Write()
        {
            // Written beside and moved into place, so a reader never sees half a file.
            var temporary = file + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(counter.ByKind));
            File.Move(temporary, file, overwrite: true);
        }
    }
}
