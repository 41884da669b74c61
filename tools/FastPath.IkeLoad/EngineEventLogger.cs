using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace FastPath.IkeLoad;

// ILogger for the engine in this tool. Warnings and errors go to stderr (at most MaxLines, then
// only counted, so a failing run cannot flood the terminal). When an IkeSaDeleted handler is set,
// Information is enabled too and the engine's "IKE SA deleted: {Reason}" event (IkeEngine.Log.cs,
// event 11) is handed over with its structured values: the load generator learns there how and why
// each of its IKE SAs ended (the engine's observer only reports SAs that were established).
internal sealed class EngineEventLogger(Action<string, string>? ikeSaDeleted = null) : ILogger
{
    private const int IkeSaDeletedEvent = 11;
    private const int MaxLines = 20;
    private int _lines;
    private long _warnings;

    public long Warnings => Interlocked.Read(ref _warnings);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning || (ikeSaDeleted is not null && logLevel == LogLevel.Information);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.Information)
        {
            if (eventId.Id != IkeSaDeletedEvent || ikeSaDeleted is null || state is not IReadOnlyList<KeyValuePair<string, object?>> values) return;
            string? connection = null, reason = null;
            foreach (var kv in values)
            {
                if (kv.Key == "Connection") connection = kv.Value as string;
                else if (kv.Key == "Reason") reason = kv.Value as string;
            }
            if (connection is not null) ikeSaDeleted(connection, reason ?? "");
            return;
        }
        if (logLevel < LogLevel.Warning) return;
        Interlocked.Increment(ref _warnings);
        if (Interlocked.Increment(ref _lines) <= MaxLines)
            Console.Error.WriteLine($"[{logLevel}] {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
    }
}
