using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Daemon;

// The last N log lines of a daemon, for `fastpath barf` (the daemon's file log may be elsewhere or
// rotated). A logger provider: add it to the daemon's ILoggerFactory next to the console/file logger.

/// <summary>A bounded buffer of recent log lines (also an <see cref="ILoggerProvider"/>).</summary>
public sealed class RecentLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly int _capacity;

    public RecentLog(int capacity = 500) => _capacity = capacity;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > _capacity && _lines.TryDequeue(out _)) { }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(RecentLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            owner.Add(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel.ToString()[..4].ToLowerInvariant()} {category}: {formatter(state, exception)}"));
        }
    }
}
