using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

public static class NurtureRegistration
{
    /// <summary>
    /// Nurture programmes, sales alerts with the SLA clock, tracking links and unsubscribe. Needs an <c>IEmailSender</c> and an
    /// <see cref="ILeadDirectory"/> from their own features; registers an <see cref="IStageChangeObserver"/> for the lead processor.
    /// </summary>
    public static IServiceCollection AddNurture(this IServiceCollection services)
    {
        services.AddOptions<NurtureOptions>().BindConfiguration(NurtureOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SalesAlertOptions>().BindConfiguration(SalesAlertOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TrackingOptions>().BindConfiguration(TrackingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<NurtureOptions>, NurtureFilesValidation>();
        services.AddSingleton<IValidateOptions<TrackingOptions>, TrackingOptionsValidation>();
        services.AddSingleton<IValidateOptions<SalesAlertOptions>, SlaLadderValidation>();

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NurtureOptions>>().Value;
            var tableService = sp.GetRequiredService<TableServiceClient>();
            return new NurtureTables(tableService.GetTableClient(options.DueTable), tableService.GetTableClient(options.StateTable));
        });
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<NurtureOptions>>().Value.DueTable));
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<NurtureOptions>>().Value.StateTable));

        services.TryAddSingleton(sp => new TrackingTokenSigner(sp.GetRequiredService<IOptions<TrackingOptions>>().Value.SigningKey));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrackingOptions>>().Value;
            return new BotDetector(TimeSpan.FromSeconds(options.MinimumHumanDelaySeconds), options.ScannerUserAgents);
        });
        services.TryAddSingleton<NurtureConfiguration>();
        services.TryAddSingleton<NurtureStore>();
        services.TryAddSingleton<LinkBuilder>();
        services.TryAddSingleton<NurtureMailComposer>();
        services.TryAddSingleton<INurtureRunner, NurtureRunner>();
        services.TryAddSingleton<IEngagementTracker, EngagementTracker>();
        services.TryAddSingleton<ISuppressionList, TableSuppressionList>();
        services.AddSingleton<IStageChangeObserver, NurtureStageObserver>();
        return services;
    }
}
