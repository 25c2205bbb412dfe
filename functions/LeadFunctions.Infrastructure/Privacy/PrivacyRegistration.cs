using LeadFunctions.Infrastructure.Nurture;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Privacy;

public static class PrivacyRegistration
{
    /// <summary>Export and erasure of a lead (needs storage, scoring, e-mail delivery and nurture registered).</summary>
    public static IServiceCollection AddPrivacy(this IServiceCollection services)
    {
        // The due index is keyed by time, not by lead: its rows name the lead in LeadId.
        services.AddSingleton(new LeadReferencingTable(sp => sp.GetRequiredService<IOptions<NurtureOptions>>().Value.DueTable));
        services.TryAddSingleton<LeadRowCollector>();
        services.TryAddSingleton<SentMailFiles>();
        services.TryAddSingleton<ILeadExporter, LeadExporter>();
        services.TryAddSingleton<ILeadEraser, LeadEraser>();
        services.TryAddSingleton<IDataRequests, DataRequests>();
        return services;
    }
}
