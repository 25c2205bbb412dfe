using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Webhooks;

public static class WebhookRegistration
{
    /// <summary>
    /// Outgoing webhooks: an <see cref="IStageChangeObserver"/> that writes deliveries for the processor, the delivery timer's
    /// runner and the operators' list and replay. Needs storage, scoring (the leads table) and nurture (the SLA ladder) registered.
    /// </summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidation>();

        services.TryAddSingleton(sp => new WebhookTable(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.DeliveriesTable)));
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<WebhookOptions>>().Value.DeliveriesTable));
        // The due and dead rows are keyed by subscription and time, not by lead: they name the lead in LeadId, so erasure finds them.
        services.AddSingleton(new LeadReferencingTable(sp => sp.GetRequiredService<IOptions<WebhookOptions>>().Value.DeliveriesTable));

        // Redirects are not followed (a receiver's redirect could point the signed body anywhere), and nothing logs the URLs.
        services.AddHttpClient(WebhookDeliverer.HttpClientName, (sp, client) =>
            {
                client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.TimeoutSeconds);
                client.DefaultRequestHeaders.UserAgent.ParseAdd("LeadFunctions-Webhooks/1");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .RemoveAllLoggers();

        services.AddMetrics();
        services.TryAddSingleton<WebhookMetrics>();
        services.TryAddSingleton<WebhookConfiguration>();
        services.TryAddSingleton<WebhookStore>();
        services.TryAddSingleton<IWebhookDeliverer, WebhookDeliverer>();
        services.TryAddSingleton<IWebhookDeliveries, WebhookDeliveries>();
        services.AddSingleton<IStageChangeObserver, WebhookStageObserver>();
        return services;
    }
}
