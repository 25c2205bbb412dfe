using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Stages;

public static class StageRegistration
{
    /// <summary>Stage moves by people (<c>POST /api/leads/{id}/stage</c>) and by the CRM (<c>POST /api/crm/events</c>). Needs the lead storage.</summary>
    public static IServiceCollection AddStageChanges(this IServiceCollection services)
    {
        services.AddOptions<CrmOptions>().BindConfiguration(CrmOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CrmOptions>, CrmOptionsValidation>();
        services.AddLeadIds();
        services.AddRateLimits();
        services.TryAddSingleton<LeadStageReader>();
        services.TryAddSingleton<LeadStageService>();
        services.TryAddSingleton<CrmWebhook>();
        return services;
    }
}
