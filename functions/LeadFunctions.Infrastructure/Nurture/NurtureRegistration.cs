using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture.Results;
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
    /// <summary>How long after its request expired a confirmation link still verifies, to answer "expired" (410) rather than "not valid".</summary>
    private const int ConsentConfirmationGraceDays = 30;

    public static IServiceCollection AddNurture(this IServiceCollection services)
    {
        services.AddOptions<NurtureOptions>().BindConfiguration(NurtureOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SalesAlertOptions>().BindConfiguration(SalesAlertOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TrackingOptions>().BindConfiguration(TrackingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<NurtureOptions>, NurtureFilesValidation>();
        services.AddSingleton<IValidateOptions<TrackingOptions>, TrackingOptionsValidation>();
        services.AddSingleton<IValidateOptions<SalesAlertOptions>, SlaLadderValidation>();
        services.AddLeadIds();

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NurtureOptions>>().Value;
            var tableService = sp.GetRequiredService<TableServiceClient>();
            return new NurtureTables(tableService.GetTableClient(options.DueTable), tableService.GetTableClient(options.StateTable));
        });
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<NurtureOptions>>().Value.DueTable));
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<NurtureOptions>>().Value.StateTable));

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrackingOptions>>().Value;
            var slaDeadline = sp.GetRequiredService<IOptions<SalesAlertOptions>>().Value.GetLadder().Deadline;
            var confirmationDays = sp.GetRequiredService<IOptions<NurtureOptions>>().Value.ConfirmationValidDays;
            List<TrackingSigningKey> keys = [new(options.SigningKeyId, options.SigningKey), .. options.PreviousSigningKeys.Select(k => new TrackingSigningKey(k.Id, k.Key))];
            var lifetimes = new TrackingLinkLifetimes
            {
                Unsubscribe = TimeSpan.FromDays(options.UnsubscribeLinkDays),
                // Nurture:ConfirmationValidDays decides; the signer keeps the link verifiable a while longer so the page can say "expired".
                ConfirmConsent = TimeSpan.FromDays(confirmationDays + ConsentConfirmationGraceDays),
                SalesDecision = slaDeadline + TimeSpan.FromHours(options.SalesLinkGraceHours),
            };
            return new TrackingTokenSigner(keys, lifetimes, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrackingOptions>>().Value;
            return new BotDetector(TimeSpan.FromSeconds(options.MinimumHumanDelaySeconds), options.ScannerUserAgents);
        });
        services.TryAddSingleton<NurtureConfiguration>();
        services.TryAddSingleton<NurtureStore>();
        services.AddMetrics();
        services.TryAddSingleton<OutboxMetrics>();
        services.TryAddSingleton<IParkedEmails, ParkedEmails>();
        services.TryAddSingleton<INurtureBacklog, NurtureBacklog>();
        services.TryAddSingleton<LinkBuilder>();
        services.TryAddSingleton<SalesReps>();
        services.TryAddSingleton<NurtureMailComposer>();
        services.TryAddSingleton<INurturePreview, NurturePreviewService>();
        services.TryAddSingleton<INurtureRunner, NurtureRunner>();
        services.TryAddSingleton<IEngagementTracker, EngagementTracker>();
        services.TryAddSingleton<IConsentConfirmations, ConsentConfirmations>();
        services.AddRateLimits();
        services.TryAddSingleton<ISuppressionList, TableSuppressionList>();
        services.TryAddSingleton<TableLeadEmails>();
        services.TryAddSingleton<ILeadEmails>(sp => sp.GetRequiredService<TableLeadEmails>());
        services.AddSingleton<IStageChangeObserver, NurtureStageObserver>();
        // Behaviour rows live in the lead's partition of the leads table (written in the lead's transaction).
        services.TryAddSingleton(sp => new Leads.LeadsTable(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<Storage.StorageOptions>>().Value.LeadsTable)));
        services.TryAddSingleton<NurtureProgrammeState>();
        services.AddSingleton<Leads.ILeadEventRecorder, NurtureBehaviourRecorder>();
        services.AddNurtureResults();
        return services;
    }
}
