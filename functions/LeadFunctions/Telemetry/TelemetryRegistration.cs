using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Telemetry;

public static class TelemetryRegistration
{
    /// <summary>
    /// The worker's Application Insights: requests and dependencies without query strings (<see cref="RedactQueryStrings"/>).
    /// The host's own telemetry is configured in host.json (logging.applicationInsights); see docs/privacy.md.
    /// </summary>
    public static IServiceCollection AddLeadTelemetry(this IServiceCollection services)
    {
        services.AddApplicationInsightsTelemetryWorkerService().ConfigureFunctionsApplicationInsights();
        services.AddSingleton<ITelemetryInitializer, RedactQueryStrings>();
        return services;
    }
}
