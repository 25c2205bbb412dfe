using System.Reflection;
using LeadFunctions.Infrastructure.Hosting;
using LeadFunctions.LocalHost.Configuration;
using LeadFunctions.LocalHost.Http;
using LeadFunctions.LocalHost.Triggers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.Timers;
using Microsoft.Azure.WebJobs.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.LocalHost;

/// <summary>
/// Runs the function classes of <c>functions/LeadFunctions</c> without Core Tools, with the registrations the Functions app uses
/// (<see cref="LeadPipelineRegistration.AddLeadPipeline{TBuilder}"/>): HTTP functions through ASP.NET Core, queue and timer
/// functions through the WebJobs SDK. Tests build it in-process with <see cref="Build"/>.
/// </summary>
public static class LocalHostApp
{
    public const int DefaultPort = 7071;

    /// <summary>Set to <c>true</c> to run only the HTTP side (no queue or timer listeners), e.g. to inspect what lands on a queue.</summary>
    public const string DisableTriggersSetting = "LocalHost:DisableTriggers";

    /// <summary>Where timer schedule status (last and next run) is kept between runs; relative to the app folder.</summary>
    public const string TimerStatusFolderSetting = "LocalHost:TimerStatusFolder";

    /// <summary>A file every log line is appended to as well as the console (empty: console only).</summary>
    public const string LogFileSetting = "LocalHost:LogFile";

    /// <summary>The assembly holding the function classes.</summary>
    public static Assembly FunctionsAssembly { get; } = Assembly.Load(new AssemblyName("LeadFunctions"));

    /// <summary>
    /// Builds the host. Configuration, lowest to highest precedence: local.settings.json Values (else the sample),
    /// environment variables, command-line <paramref name="args"/>, then <paramref name="overrides"/> (tests).
    /// It listens on 127.0.0.1 at <c>PORT</c> (default 7071; 0 picks a free port, see <see cref="BaseAddress"/>).
    /// </summary>
    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Development,
        });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging(logging =>
        {
            logging.AddSimpleConsole(o => o.SingleLine = true);
            foreach (var (category, level) in HostJson.LogLevels())
            {
                if (string.Equals(category, "default", StringComparison.OrdinalIgnoreCase))
                    logging.SetMinimumLevel(level);
                else
                    logging.AddFilter(category, level);
            }
            // Kestrel and routing chatter is not part of what the Functions host shows either.
            logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        });

        var settingsFile = LocalSettings.Locate();
        if (settingsFile is not null)
            builder.Configuration.AddInMemoryCollection(LocalSettings.ReadValues(settingsFile));
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["LocalHost:SettingsFile"] = settingsFile });
        // Playing App Service Authentication: with a development user signed in, the platform's "auth is on" flag is set too,
        // so the functions trust the principal header the local host injects (and nothing a client sends: it is stripped).
        var developmentUser = DevelopmentSignIn.From(builder.Configuration);
        if (developmentUser is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [Infrastructure.Workspace.WorkspaceOptions.PlatformAuthEnabledSetting] = "True",
            });
        }
        // Lowest precedence of all: only where no setting gave the connection a retry of its own.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = StorageRetry.For(builder.Configuration, Infrastructure.Storage.StorageOptions.ConnectionName, "AzureWebJobsStorage").ToList(),
        });

        if (builder.Configuration[LogFileSetting] is { Length: > 0 } logFile)
            builder.Logging.AddProvider(new FileLoggerProvider(Path.GetFullPath(logFile)));

        var port = builder.Configuration.GetValue("PORT", DefaultPort);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");

        // The same registrations as the Functions app, then every function class so endpoints and adapters resolve them.
        builder.AddLeadPipeline();
        StorageRequestCounting.AddIfConfigured(builder.Services, builder.Configuration);
        builder.Services.AddMvcCore();
        foreach (var functionClass in HttpFunction.FunctionClasses(FunctionsAssembly))
            builder.Services.AddTransient(functionClass);

        AddTriggers(builder);

        var app = builder.Build();
        app.UseDevelopmentSignIn(developmentUser);
        var wwwroot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(wwwroot))
        {
            var files = new PhysicalFileProvider(wwwroot);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        app.Use(AnswerWrongMethodsAsNotFound);
        app.UseRouting();
        app.MapHttpFunctions(HttpFunction.Discover(FunctionsAssembly));
        return app;
    }

    /// <summary>
    /// The Functions host answers a route asked with a method it does not take with a 404 (no 405, no Allow header); ASP.NET Core
    /// routing would say 405, so the local host says what Azure says.
    /// </summary>
    private static async Task AnswerWrongMethodsAsNotFound(HttpContext context, RequestDelegate next)
    {
        await next(context);
        if (context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.Headers.Remove("Allow");
        }
    }

    /// <summary>The address the started host listens on (the real port when <c>PORT</c> was 0).</summary>
    public static Uri BaseAddress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The local host is not listening yet; call StartAsync first.");
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    private static void AddTriggers(WebApplicationBuilder builder)
    {
        var adapters = builder.Configuration.GetValue<bool>(DisableTriggersSetting) ? [] : TriggerAdapters.All;
        builder.Services.AddWebJobs(_ => { })
            .AddAzureStorageCoreServices()
            .AddAzureStorageQueues(options => HostJson.ApplyQueueSettings(options, configuration: builder.Configuration))
            .AddTimers();

        // The timer extension's blob schedule monitor targets an older storage SDK; a file keeps "last/next run"
        // between local runs instead, which is all past-due detection needs on one machine.
        var statusFolder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, builder.Configuration[TimerStatusFolderSetting] ?? ".timer-status"));
        builder.Services.RemoveAll<ScheduleMonitor>();
        builder.Services.AddSingleton<ScheduleMonitor>(new FileSystemScheduleMonitor(statusFolder));
        builder.Services.AddSingleton<ITypeLocator>(new AdapterTypeLocator(adapters));
        builder.Services.AddSingleton<StopHostExceptionHandler>();
        builder.Services.AddSingleton<Microsoft.Azure.WebJobs.Host.Timers.IWebJobsExceptionHandler>(sp => sp.GetRequiredService<StopHostExceptionHandler>());
        builder.Services.AddSingleton<Microsoft.Azure.WebJobs.Host.Timers.IWebJobsExceptionHandlerFactory>(sp => sp.GetRequiredService<StopHostExceptionHandler>());
        // Registered after the pipeline's hosted services, so tables and queues exist before the first listener polls.
        builder.Services.AddSingleton<IHostedService, JobHostService>();
    }
}
