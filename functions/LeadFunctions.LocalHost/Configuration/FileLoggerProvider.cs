using System.Text;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.LocalHost.Configuration;

/// <summary>
/// Appends every log line that passes the host's filters, with its scopes and exception, to a file (<c>LocalHost:LogFile</c>),
/// so what the pipeline logs can be read back whole, e.g. by the test that no personal data reaches the logs.
/// </summary>
internal sealed class FileLoggerProvider(string path) : ILoggerProvider, ISupportExternalScope
{
    private readonly Lock _gate = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (_gate)
            File.AppendAllText(path, line + Environment.NewLine, Encoding.UTF8);
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            var line = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            // Structured values too: a template can drop an argument from the text that telemetry would still record.
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
                foreach (var (key, value) in values)
                    line.Append(" |").Append(key).Append('=').Append(value);
            provider._scopes.ForEachScope((scope, builder) => builder.Append(" => ").Append(scope), line);
            if (exception is not null)
                line.Append(Environment.NewLine).Append(exception);
            provider.Write(line.ToString());
        }
    }
}
