using LeadFunctions.Domain.Leads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Leads;

public static class LeadIdRegistration
{
    /// <summary>
    /// The keyed <see cref="LeadIdentity"/>, its options and their start-up checks. Every feature that derives ids calls it;
    /// registering twice is a no-op.
    /// </summary>
    public static IServiceCollection AddLeadIds(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(LeadIdentity)))
            return services;
        services.AddOptions<LeadIdOptions>().BindConfiguration(LeadIdOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<LeadIdOptions>, LeadIdOptionsValidation>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LeadIdOptions>>().Value;
            return new LeadIdentity(options.KeyId, options.Key);
        });
        return services;
    }
}
