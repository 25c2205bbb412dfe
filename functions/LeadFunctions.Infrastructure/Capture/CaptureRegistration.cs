using LeadFunctions.Domain.Capture;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Capture;

public static class CaptureRegistration
{
    /// <summary>The capture endpoints' services: the forms file (checked at start), the request reader, validators, rate limits and metrics.</summary>
    public static IServiceCollection AddLeadCapture(this IServiceCollection services)
    {
        services.AddOptions<CaptureOptions>().BindConfiguration(CaptureOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CaptureOptions>, CaptureOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        services.TryAddSingleton(sp => FormCatalog.Load(sp.GetRequiredService<IOptions<CaptureOptions>>().Value.ResolveFormsFile()));
        services.TryAddSingleton<CaptureRequestReader>();
        services.TryAddSingleton<FormSubmissionValidator>();
        services.TryAddSingleton<TrackedActivityValidator>();
        services.TryAddSingleton<CaptureMetrics>();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>());
        services.TryAddSingleton<CaptureRateLimiter>();
        services.TryAddSingleton<LeadCaptureService>();
        return services;
    }
}
