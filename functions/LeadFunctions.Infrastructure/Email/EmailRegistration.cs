using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email.Acs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Email;

public static class EmailRegistration
{
    /// <summary>
    /// Registers <see cref="IEmailSender"/> as the sender <c>Email:Sender</c> names (Folder, Smtp or Acs), validated at start.
    /// SMTP and ACS are wrapped in the per-process rate limit; the folder sender is not, since it only writes files.
    /// </summary>
    public static IServiceCollection AddEmailDelivery(this IServiceCollection services)
    {
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<EmailOptions>>().Value;
            return new EmailRateLimiter(options.MaxPerMinute, options.MaxPerHour, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EmailRateLimiter>>(), options.ReservedPerHour);
        });
        services.TryAddSingleton(CreateSender);
        return services;
    }

    private static IEmailSender CreateSender(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<EmailOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        return options.Sender switch
        {
            EmailSenderKind.Smtp => Throttled(services, new SmtpEmailSender(options.Smtp, time, services.GetRequiredService<ILogger<SmtpEmailSender>>())),
            EmailSenderKind.Acs => Throttled(services, new AcsEmailSender(
                options.Acs,
                time,
                services.GetRequiredService<ILogger<AcsEmailSender>>(),
                clientOptions: services.GetService<AcsEmailClientOptions>())),
            _ => new FolderEmailSender(FolderPath(services, options.Folder.Path), time, services.GetRequiredService<ILogger<FolderEmailSender>>()),
        };
    }

    private static ThrottledEmailSender Throttled(IServiceProvider services, IEmailSender inner) =>
        new(inner, services.GetRequiredService<EmailRateLimiter>());

    /// <summary>A relative folder is under the content root (the app's folder), not wherever the process was started from.</summary>
    private static string FolderPath(IServiceProvider services, string path)
    {
        if (Path.IsPathRooted(path))
            return path;
        var root = services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
        return Path.Combine(root, path);
    }
}
