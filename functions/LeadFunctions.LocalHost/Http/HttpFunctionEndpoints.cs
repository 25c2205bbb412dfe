using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.LocalHost.Http;

/// <summary>
/// Maps every HTTP-triggered function to an ASP.NET Core endpoint with the route and methods its attribute declares,
/// binds the parameters the ASP.NET Core integration binds (the request, route values, the cancellation token),
/// and executes the returned <see cref="IActionResult"/>. A new HTTP function therefore runs here without any change.
/// </summary>
internal static class HttpFunctionEndpoints
{
    public static IReadOnlyList<HttpFunction> MapHttpFunctions(this WebApplication app, IReadOnlyList<HttpFunction> functions)
    {
        foreach (var function in functions)
        {
            var binders = function.Method.GetParameters().Select(p => CreateBinder(function, p)).ToArray();
            var invoke = CreateInvoker(function, binders);
            var builder = function.Methods.Count == 0
                ? app.Map(function.RouteTemplate, invoke)
                : app.MapMethods(function.RouteTemplate, function.Methods, invoke);
            builder.WithDisplayName(function.Name).WithMetadata(function);
        }
        return functions;
    }

    private static RequestDelegate CreateInvoker(HttpFunction function, Func<HttpContext, object?>[] binders) => async context =>
    {
        if (!FunctionKeys.Authorize(context, function.AuthLevel))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        var instance = function.Method.IsStatic ? null : context.RequestServices.GetRequiredService(function.FunctionClass);
        var arguments = binders.Select(b => b(context)).ToArray();
        object? result;
        try
        {
            result = function.Method.Invoke(instance, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
        result = await UnwrapAsync(result);
        await WriteResultAsync(context, function, result);
    };

    private static Func<HttpContext, object?> CreateBinder(HttpFunction function, ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        if (type == typeof(HttpRequest))
            return context => context.Request;
        if (type == typeof(HttpContext))
            return context => context;
        if (type == typeof(CancellationToken))
            return context => context.RequestAborted;
        if (parameter.GetCustomAttribute<HttpTriggerAttribute>() is not null)
        {
            throw new NotSupportedException(
                $"Function {function.Name}: the local host binds the HTTP trigger to {nameof(HttpRequest)} (ASP.NET Core integration), not {type.Name}.");
        }
        var converter = TypeDescriptor.GetConverter(type);
        if (type == typeof(string) || converter.CanConvertFrom(typeof(string)))
        {
            var name = parameter.Name!;
            return context =>
            {
                // Route values first, then the query string, as the Functions binding data offers both.
                var raw = context.GetRouteValue(name)?.ToString() ?? (context.Request.Query.TryGetValue(name, out var q) ? q.ToString() : null);
                if (raw is null)
                    return parameter.HasDefaultValue ? parameter.DefaultValue : null;
                return type == typeof(string) ? raw : converter.ConvertFromInvariantString(raw);
            };
        }
        throw new NotSupportedException(
            $"Function {function.Name}: parameter '{parameter.Name}' of type {type.Name} cannot be bound by the local host " +
            "(supported: HttpRequest, CancellationToken, and route values by name). Inject services through the constructor instead.");
    }

    private static async Task<object?> UnwrapAsync(object? result)
    {
        switch (result)
        {
            case Task task:
                await task;
                var type = task.GetType();
                return type.IsGenericType && type.GetProperty("Result") is { } property && property.PropertyType.Name != "VoidTaskResult"
                    ? property.GetValue(task)
                    : null;
            case ValueTask valueTask:
                await valueTask;
                return null;
            default:
                if (result?.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(ValueTask<>))
                    return await (Task<object?>)typeof(HttpFunctionEndpoints).GetMethod(nameof(AwaitValueTask), BindingFlags.NonPublic | BindingFlags.Static)!
                        .MakeGenericMethod(t.GetGenericArguments()[0]).Invoke(null, [result])!;
                return result;
        }
    }

    private static async Task<object?> AwaitValueTask<T>(ValueTask<T> task) => await task;

    private static async Task WriteResultAsync(HttpContext context, HttpFunction function, object? result)
    {
        // A multi-output return type carries the HTTP answer in its [HttpResult] property.
        if (result is not null and not IActionResult and not IResult
            && result.GetType().GetProperties().FirstOrDefault(p => p.GetCustomAttribute<HttpResultAttribute>() is not null) is { } httpResult)
        {
            result = httpResult.GetValue(result);
        }

        switch (result)
        {
            case null:
                return;
            case IActionResult actionResult:
                await actionResult.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
                return;
            case IResult httpResultValue:
                await httpResultValue.ExecuteAsync(context);
                return;
            case string text:
                context.Response.ContentType ??= "text/plain; charset=utf-8";
                await context.Response.WriteAsync(text, context.RequestAborted);
                return;
            default:
                throw new NotSupportedException(
                    $"Function {function.Name} returned {result.GetType().Name}; the local host executes IActionResult, IResult or an [HttpResult] property.");
        }
    }
}
