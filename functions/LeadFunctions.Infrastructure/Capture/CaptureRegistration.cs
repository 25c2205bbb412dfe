using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Content;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Capture;

public static class CaptureRegistration
{
    /// <summary>The capture endpoints' services: the forms file and the content catalogue (checked at start), the request reader, validators, rate limits and metrics.</summary>
    public static IServiceCollection AddLeadCapture(this IServiceCollection services)
    {
        services.AddOptions<CaptureOptions>().BindConfiguration(CaptureOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CaptureOptions>, CaptureOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        services.TryAddSingleton(sp =>
        {
            var capture = sp.GetRequiredService<IOptions<CaptureOptions>>().Value;
            return FormCatalog.Load(capture.ResolveFormsFile(), capture.ResolveSiteBaseUrl());
        });
        services.AddOptions<ContentOptions>().BindConfiguration(ContentOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ContentOptions>, ContentOptionsValidator>());
        services.TryAddSingleton(sp => ContentCatalogue.Load(sp.GetRequiredService<IOptions<ContentOptions>>().Value.ResolveCatalogueFile()));
        services.TryAddSingleton<CaptureRequestReader>();
        services.TryAddSingleton<FormSubmissionValidator>();
        services.TryAddSingleton<TrackedActivityValidator>();
        services.TryAddSingleton<CaptureMetrics>();
        services.AddRateLimits();
        services.TryAddSingleton<LeadCaptureService>();
        return services;
    }

    /// <summary>The per-client and per-address limits of every anonymous endpoint; the link endpoints register it too, so either feature alone has it.</summary>
    public static IServiceCollection AddRateLimits(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>());
        services.TryAddSingleton<CaptureRateLimiter>();
        return services;
    }
}
