using System.Runtime.ExceptionServices;
using Microsoft.Azure.WebJobs.Host.Timers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.LocalHost.Triggers;

/// <summary>
/// What happens when a WebJobs listener fails outside a function (storage unreachable even after the client's retries): the
/// Functions host logs it and restarts its job host; the SDK's default would crash the process. Here the local host logs it and
/// stops, as a host restart would, so <c>run.sh</c> ends with a message instead of a stack dump and a test fails instead of
/// taking the test run down. Messages are not lost either way: one that was being processed becomes visible again when its
/// lease expires.
/// </summary>
internal sealed partial class StopHostExceptionHandler(IHostApplicationLifetime lifetime, ILogger<StopHostExceptionHandler> logger)
    : IWebJobsExceptionHandler, IWebJobsExceptionHandlerFactory
{
    public void Initialize(Microsoft.Azure.WebJobs.JobHost host)
    {
    }

    public IWebJobsExceptionHandler Create(IHost jobHost) => this;

    public Task OnTimeoutExceptionAsync(ExceptionDispatchInfo exceptionInfo, TimeSpan timeoutGracePeriod)
    {
        ArgumentNullException.ThrowIfNull(exceptionInfo);
        LogTimeout(logger, exceptionInfo.SourceException);
        lifetime.StopApplication();
        return Task.CompletedTask;
    }

    public Task OnUnhandledExceptionAsync(ExceptionDispatchInfo exceptionInfo)
    {
        ArgumentNullException.ThrowIfNull(exceptionInfo);
        LogUnhandled(logger, exceptionInfo.SourceException);
        lifetime.StopApplication();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "A trigger listener failed outside any function; the local host is stopping (the Functions host would restart)")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "A function exceeded its timeout; the local host is stopping (the Functions host would restart)")]
    private static partial void LogTimeout(ILogger logger, Exception exception);
}
