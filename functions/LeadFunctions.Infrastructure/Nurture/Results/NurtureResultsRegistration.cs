using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture.Results;

public static class NurtureResultsRegistration
{
    /// <summary>
    /// Per-step results of nurture e-mails: the counting service the runner, tracker and delivery reports call, a projection the
    /// lead processor runs for goals, the report, and the marker cleanup. Needs the nurture state table (<c>AddNurture</c>).
    /// </summary>
    public static IServiceCollection AddNurtureResults(this IServiceCollection services)
    {
        services.AddOptions<NurtureResultsOptions>().BindConfiguration(NurtureResultsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new NurtureResultsTable(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<NurtureResultsOptions>>().Value.CountersTable)));
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<NurtureResultsOptions>>().Value.CountersTable));
        services.TryAddSingleton<NurtureResults>();
        services.TryAddSingleton<INurtureResults>(sp => sp.GetRequiredService<NurtureResults>());
        services.AddSingleton<ILeadProjection, NurtureGoalProjection>();
        services.TryAddSingleton<INurtureResultsReport, NurtureResultsReport>();
        services.TryAddSingleton<NurtureResultsMaintenance>();
        return services;
    }
}
