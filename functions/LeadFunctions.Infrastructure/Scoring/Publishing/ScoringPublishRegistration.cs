using Azure.Data.Tables;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Scoring.Publishing;

public static class ScoringPublishRegistration
{
    /// <summary>
    /// Published models (<see cref="IActiveScoringModel"/>, the publisher) and the re-score runner. Needs storage and the model
    /// file (<c>AddLeadScoring</c>, which calls this).
    /// </summary>
    public static IServiceCollection AddScoringPublishing(this IServiceCollection services)
    {
        services.AddOptions<ScoringPublishOptions>().BindConfiguration(ScoringPublishOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new ScoringModelsTable(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<ScoringPublishOptions>>().Value.ModelsTable)));
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<ScoringPublishOptions>>().Value.ModelsTable));
        services.TryAddSingleton<IActiveScoringModel>(sp => ActivatorUtilities.CreateInstance<ActiveScoringModel>(sp, sp.GetRequiredService<ScoringModel>()));
        services.TryAddSingleton<ScoringModelPublisher>();
        services.TryAddSingleton<ScoringRescoreRunner>();
        return services;
    }
}
