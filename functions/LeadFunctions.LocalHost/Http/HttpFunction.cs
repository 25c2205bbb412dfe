using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.LocalHost.Http;

/// <summary>One HTTP-triggered function as its attributes declare it: what the generated functions.metadata says, read by reflection.</summary>
public sealed record HttpFunction(string Name, Type FunctionClass, MethodInfo Method, string Route, IReadOnlyList<string> Methods, AuthorizationLevel AuthLevel)
{
    /// <summary>host.json's <c>extensions.http.routePrefix</c>.</summary>
    public const string RoutePrefix = "api";

    public string RouteTemplate => RoutePrefix + "/" + Route;

    /// <summary>Every <c>[Function]</c> method with an <c>[HttpTrigger]</c> parameter in the functions assembly.</summary>
    public static IReadOnlyList<HttpFunction> Discover(Assembly functionsAssembly)
    {
        ArgumentNullException.ThrowIfNull(functionsAssembly);
        var found = new List<HttpFunction>();
        foreach (var type in FunctionClasses(functionsAssembly))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                var function = method.GetCustomAttribute<FunctionAttribute>();
                if (function is null)
                    continue;
                var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null);
                if (trigger is null)
                    continue;
                var methods = trigger.Methods is { Length: > 0 }
                    ? trigger.Methods.Select(m => m.ToUpperInvariant()).ToArray()
                    : [];
                found.Add(new HttpFunction(function.Name, type, method, trigger.Route ?? function.Name, methods, trigger.AuthLevel));
            }
        }
        return found;
    }

    /// <summary>Classes that declare at least one <c>[Function]</c> method, whatever the trigger; all are registered in DI.</summary>
    public static IEnumerable<Type> FunctionClasses(Assembly functionsAssembly)
    {
        ArgumentNullException.ThrowIfNull(functionsAssembly);
        return functionsAssembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }
            && t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Any(m => m.GetCustomAttribute<FunctionAttribute>() is not null));
    }
}
