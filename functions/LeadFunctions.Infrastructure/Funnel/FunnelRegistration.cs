using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Funnel;

public static class FunnelRegistration
{
    /// <summary>
    /// The funnel: a projection the lead processor runs after each commit to keep the counters, the report over them, and the
    /// marker cleanup the retention timer runs. Needs the storage clients (<see cref="StorageRegistration.AddLeadStorage"/>) and
    /// the sales-alert options for the SLA deadline (<c>AddNurture</c>).
    /// </summary>
    public static IServiceCollection AddFunnel(this IServiceCollection services)
    {
        services.AddOptions<FunnelOptions>().BindConfiguration(FunnelOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new FunnelCountersTable(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<FunnelOptions>>().Value.CountersTable)));
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<FunnelOptions>>().Value.CountersTable));
        services.AddSingleton<ILeadProjection, FunnelProjection>();
        services.TryAddSingleton<FunnelReport>();
        services.TryAddSingleton<FunnelMaintenance>();
        return services;
    }
}
