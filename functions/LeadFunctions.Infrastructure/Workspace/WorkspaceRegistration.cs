using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Workspace;

public static class WorkspaceRegistration
{
    /// <summary>The workspace's sign-in check (<see cref="WorkspaceAccess"/>) and its access log (needs storage registered).</summary>
    public static IServiceCollection AddWorkspace(this IServiceCollection services)
    {
        services.AddOptions<WorkspaceOptions>()
            .BindConfiguration(WorkspaceOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) => options.PlatformAuthenticationEnabled =
                string.Equals(configuration[WorkspaceOptions.PlatformAuthEnabledSetting], "True", StringComparison.OrdinalIgnoreCase))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<WorkspaceAccess>();
        services.TryAddSingleton(sp => new AccessLogTable(sp.GetRequiredService<TableServiceClient>().GetTableClient(
            sp.GetRequiredService<IOptions<WorkspaceOptions>>().Value.AccessLogTable)));
        services.TryAddSingleton<IAccessLog, AccessLog>();
        services.TryAddSingleton<IAccessLogRetention, AccessLogRetention>();
        // Keyed by lead id: export and erasure read and delete the lead's partition here like in every registered table.
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<WorkspaceOptions>>().Value.AccessLogTable));
        return services;
    }
}
