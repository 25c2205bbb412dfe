using System.Reflection;
using Microsoft.Azure.WebJobs;

namespace LeadFunctions.LocalHost.Triggers;

/// <summary>
/// The WebJobs side of the local host: one small adapter class per queue or timer function, carrying the same trigger
/// (queue name and connection, schedule expression) as the function class and calling its <c>Run</c>.
/// The WebJobs SDK, the engine the Functions host is built on, runs their listeners: polling, retries, poison queues, timers.
/// </summary>
public static class TriggerAdapters
{
    /// <summary>Every adapter in this assembly: a class in this namespace with a <c>[FunctionName]</c> method.</summary>
    public static IReadOnlyList<Type> All { get; } = typeof(TriggerAdapters).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(TriggerAdapters).Namespace && t is { IsClass: true, IsAbstract: false }
            && t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Any(m => m.GetCustomAttribute<FunctionNameAttribute>() is not null))
        .ToArray();
}

/// <summary>Hands WebJobs exactly the adapters (or none, when triggers are switched off), instead of scanning every loaded assembly.</summary>
internal sealed class AdapterTypeLocator(IReadOnlyList<Type> types) : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => types;
}
