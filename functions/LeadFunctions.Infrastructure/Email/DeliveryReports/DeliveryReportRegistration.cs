using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

public static class DeliveryReportRegistration
{
    /// <summary>The ACS delivery-report webhook. Needs the nurture feature's state table and suppression (<c>AddNurture</c>).</summary>
    public static IServiceCollection AddDeliveryReports(this IServiceCollection services)
    {
        services.AddOptions<DeliveryReportOptions>().BindConfiguration(DeliveryReportOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeliveryReportOptions>, DeliveryReportOptionsValidation>();
        services.AddLeadIds();
        services.TryAddSingleton<DeliveryReportRecorder>();
        services.TryAddSingleton<IDeliveryReportWebhook, DeliveryReportWebhook>();
        return services;
    }
}
