using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring.Publishing;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Scoring;

public static class ScoringRegistration
{
    /// <summary>
    /// The rescoring processor, the lead directory and poison replay. The model file is loaded and validated on start:
    /// an invalid model stops the app with every problem listed.
    /// </summary>
    public static IServiceCollection AddLeadScoring(this IServiceCollection services)
    {
        services.AddOptions<ScoringOptions>().BindConfiguration(ScoringOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ScoringOptions>, ScoringModelValidation>();
        services.AddLeadIds();

        services.TryAddSingleton(sp => ScoringModelLoader.LoadFile(sp.GetRequiredService<IOptions<ScoringOptions>>().Value.ResolvedModelPath));
        services.TryAddSingleton(sp => new ScoringEngine(sp.GetRequiredService<ScoringModel>()));
        services.TryAddSingleton(sp => new LeadsTable(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<StorageOptions>>().Value.LeadsTable)));
        services.AddOptions<LeadCacheOptions>().BindConfiguration(LeadCacheOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<LeadStateCache>();
        services.TryAddSingleton<LeadEventProcessor>();
        services.TryAddSingleton<TableLeadDirectory>();
        services.TryAddSingleton<ILeadDirectory>(sp => sp.GetRequiredService<TableLeadDirectory>());
        services.TryAddSingleton<ILeadDetailReader>(sp => sp.GetRequiredService<TableLeadDirectory>());
        services.TryAddSingleton<Domain.SalesAlerts.ILeadEventArchive, TableLeadEventArchive>();
        services.TryAddSingleton<LeadLookup>();
        services.TryAddSingleton<LeadPointsVersions>();
        services.TryAddSingleton<PoisonQueueReplayer>();
        services.TryAddSingleton<ScoringDryRunService>();
        services.AddScoringPublishing();
        return services;
    }

    /// <summary>Loads the model while options are validated, so a broken model fails the start with its errors.</summary>
    private sealed class ScoringModelValidation : IValidateOptions<ScoringOptions>
    {
        public ValidateOptionsResult Validate(string? name, ScoringOptions options)
        {
            if (string.IsNullOrWhiteSpace(options.ModelPath))
                return ValidateOptionsResult.Skip;
            try
            {
                ScoringModelLoader.LoadFile(options.ResolvedModelPath);
                return ValidateOptionsResult.Success;
            }
            catch (InvalidScoringModelException ex)
            {
                return ValidateOptionsResult.Fail(ex.Errors.Select(e => $"Scoring model {options.ResolvedModelPath}: {e}"));
            }
        }
    }
}
