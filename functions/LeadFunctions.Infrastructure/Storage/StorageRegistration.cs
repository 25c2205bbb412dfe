using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Storage;

/// <summary>A table some feature needs; created at start when <see cref="StorageOptions.CreateIfMissing"/> is on.</summary>
public sealed record RequiredTable(Func<IServiceProvider, string> Name);

/// <summary>A queue some feature needs (its poison queue too, so a poisoned message always has somewhere to go).</summary>
public sealed record RequiredQueue(string Name);

/// <summary>An extra Azure.Core pipeline policy for the storage clients (tests count transactions with one).</summary>
public sealed record StoragePipelinePolicy(HttpPipelinePolicy Policy);

public static class StorageRegistration
{
    /// <summary>Registers the storage clients once, as singletons, as the Azure SDK recommends.</summary>
    public static IServiceCollection AddLeadStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(sp => StorageConnection.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
        services.TryAddSingleton(sp =>
        {
            var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
            foreach (var extra in sp.GetServices<StoragePipelinePolicy>())
                options.AddPolicy(extra.Policy, Azure.Core.HttpPipelinePosition.PerRetry);
            return sp.GetRequiredService<StorageConnection>().CreateQueueServiceClient(options);
        });
        services.TryAddSingleton(sp =>
        {
            var options = new TableClientOptions();
            foreach (var extra in sp.GetServices<StoragePipelinePolicy>())
                options.AddPolicy(extra.Policy, Azure.Core.HttpPipelinePosition.PerRetry);
            return sp.GetRequiredService<StorageConnection>().CreateTableServiceClient(options);
        });
        services.TryAddSingleton(sp => new LeadEventsQueue(sp.GetRequiredService<QueueServiceClient>().GetQueueClient(StorageOptions.LeadEventsQueue)));
        services.TryAddSingleton<Domain.Events.ILeadEventPublisher, QueueLeadEventPublisher>();

        services.AddSingleton(new RequiredQueue(StorageOptions.LeadEventsQueue));
        services.AddSingleton(new RequiredQueue(StorageOptions.LeadEventsQueue + "-poison"));
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.LeadsTable));
        services.AddHostedService<StorageProvisioner>();
        return services;
    }
}

/// <summary>The <c>lead-events</c> queue client, typed so it cannot be confused with another queue.</summary>
public sealed record LeadEventsQueue(QueueClient Client);
