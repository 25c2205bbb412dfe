using LeadFunctions.Infrastructure.Privacy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Retention;

public static class RetentionRegistration
{
    /// <summary>
    /// The retention runner the timer calls. Off until a period is set; erasing inactive leads needs the erasure service
    /// (an <see cref="ILeadEraser"/>), and the app refuses to start if the setting asks for it without one.
    /// </summary>
    public static IServiceCollection AddRetention(this IServiceCollection services)
    {
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<RetentionOptions>>(sp => new EraserRequired(sp));
        services.TryAddSingleton<IRetentionRunner, RetentionRunner>();
        return services;
    }

    private sealed class EraserRequired(IServiceProvider services) : IValidateOptions<RetentionOptions>
    {
        public ValidateOptionsResult Validate(string? name, RetentionOptions options) =>
            options.EraseInactiveAfterDays > 0 && services.GetService<ILeadEraser>() is null
                ? ValidateOptionsResult.Fail("Retention:EraseInactiveAfterDays is set, but no erasure service (ILeadEraser) is registered to erase with.")
                : ValidateOptionsResult.Success;
    }
}
