using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using LeadFunctions.Infrastructure.Funnel;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Lists;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Infrastructure.Retention;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Stages;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Infrastructure.Workspace;
using LeadFunctions.Infrastructure.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LeadFunctions.Infrastructure.Hosting;

/// <summary>
/// Every registration of the pipeline, in one place, used by the Functions app and the local host alike.
/// Each feature keeps its own <c>AddX</c> next to its code; this only lists them.
/// </summary>
public static class LeadPipelineRegistration
{
    public static TBuilder AddLeadPipeline<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddLeadStorage();
        builder.Services.AddLeadIds();
        builder.Services.AddLeadScoring();
        builder.Services.AddLeadLists();
        builder.Services.AddLeadCapture();
        builder.Services.AddEmailDelivery();
        builder.Services.AddNurture();
        builder.Services.AddDeliveryReports();
        builder.Services.AddRetention();
        builder.Services.AddPrivacy();
        builder.Services.AddWorkspace();
        builder.Services.AddWebhooks();
        builder.Services.AddFunnel();
        builder.Services.AddCalibration();
        builder.Services.AddStageChanges();
        return builder;
    }
}
