using Microsoft.Extensions.Logging;

namespace LeadFunctions.Tests.Email;

/// <summary>Keeps what a component logged, with its structured values, so tests can assert on them.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<LogEntry> _entries = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_entries)
                return [.. _entries];
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
        lock (_entries)
            _entries.Add(new LogEntry(logLevel, eventId, formatter(state, exception), values.ToDictionary(kv => kv.Key, kv => kv.Value)));
    }
}

internal sealed record LogEntry(LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> Values);
