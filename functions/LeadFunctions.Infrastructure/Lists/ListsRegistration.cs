using System.ComponentModel.DataAnnotations;
using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>Lead lists (section <c>Lists</c>).</summary>
public sealed class LeadListOptions
{
    public const string SectionName = "Lists";

    /// <summary>The lead index the processor keeps and <c>GET /api/leads</c> reads.</summary>
    [Required, RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Lists:IndexTable must be a valid table name (letters and digits, 3-63, starting with a letter).")]
    public string IndexTable { get; set; } = "LeadIndex";
}

public static class ListsRegistration
{
    /// <summary>The lead index (a projection the processor runs) and the list service over it.</summary>
    public static IServiceCollection AddLeadLists(this IServiceCollection services)
    {
        services.AddOptions<LeadListOptions>().BindConfiguration(LeadListOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new LeadIndexTable(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<LeadListOptions>>().Value.IndexTable)));
        services.AddSingleton<ILeadProjection, LeadIndexProjection>();
        services.TryAddSingleton<LeadListService>();
        // An erasure marks the index instead of only emptying it, so projection work in flight cannot write the person back.
        services.AddSingleton<ILeadErasureGuard, LeadIndexErasureGuard>();
        services.TryAddSingleton<LeadIndexMaintenance>();
        services.TryAddSingleton<LeadIndexBackfill>();
        services.AddSingleton(new RequiredTable(sp => sp.GetRequiredService<IOptions<LeadListOptions>>().Value.IndexTable));
        // Index rows carry the name and company a list shows, in stage partitions: export and erasure find them by LeadId.
        services.AddSingleton(new LeadReferencingTable(sp => sp.GetRequiredService<IOptions<LeadListOptions>>().Value.IndexTable, RowKinds.LeadIndex));
        return services;
    }
}
