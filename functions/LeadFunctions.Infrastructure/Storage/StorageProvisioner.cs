using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Storage;

/// <summary>Creates every table and queue the features asked for before the first trigger fires.</summary>
internal sealed class StorageProvisioner(
    IServiceProvider services,
    IEnumerable<RequiredTable> tables,
    IEnumerable<RequiredQueue> queues,
    TableServiceClient tableService,
    QueueServiceClient queueService,
    IOptions<StorageOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.CreateIfMissing)
            return;
        foreach (var name in tables.Select(t => t.Name(services)).Distinct(StringComparer.OrdinalIgnoreCase))
            await tableService.CreateTableIfNotExistsAsync(name, cancellationToken);
        foreach (var name in queues.Select(q => q.Name).Distinct(StringComparer.Ordinal))
            await queueService.GetQueueClient(name).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
