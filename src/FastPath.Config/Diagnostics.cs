// Diagnostics: every configuration problem is a (file, line, column, message) so an operator can
// jump straight to it. FreeS/WAN printed `unknown parameter name "rightcert"` (seed 002:2539);
// we keep that wording and add the place, what is allowed and a typo suggestion.
using System;
using System.Collections.Generic;
using System.Linq;

namespace FastPath.Config;

/// <summary>Where a value came from: file (display path), 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public static readonly SourceLocation None = new("<built-in>", 0, 0);
    public override string ToString() => Line == 0 ? File : $"{File}:{Line}:{Column}";
}

public enum DiagnosticSeverity { Warning, Error }

/// <summary>One problem found while reading configuration.</summary>
public sealed record ConfigDiagnostic(DiagnosticSeverity Severity, SourceLocation Location, string Message)
{
    /// <summary>`file:line:column: message` (warnings carry a `warning: ` prefix after the place).</summary>
    public override string ToString() =>
        Severity == DiagnosticSeverity.Error ? $"{Location}: {Message}" : $"{Location}: warning: {Message}";
}

/// <summary>Thrown by the loaders when at least one error was found; carries every diagnostic.</summary>
public sealed class ConfigException : Exception
{
    public IReadOnlyList<ConfigDiagnostic> Diagnostics { get; }
    public IEnumerable<ConfigDiagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    public ConfigException(IReadOnlyList<ConfigDiagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)))
    {
        Diagnostics = diagnostics;
    }

    public ConfigException() : base("configuration error") { Diagnostics = Array.Empty<ConfigDiagnostic>(); }
    public ConfigException(string message) : base(message) { Diagnostics = Array.Empty<ConfigDiagnostic>(); }
    public ConfigException(string message, Exception inner) : base(message, inner) { Diagnostics = Array.Empty<ConfigDiagnostic>(); }
}

/// <summary>Collects diagnostics; the parsers keep going after an error so one run reports many.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<ConfigDiagnostic> _items = new();
    private readonly HashSet<(SourceLocation, string)> _seen = new();
    public IReadOnlyList<ConfigDiagnostic> Items => _items;
    public bool HasErrors { get; private set; }

    /// <summary>Upper bound: a binary file fed as config must not produce millions of lines.</summary>
    public const int MaxDiagnostics = 200;

    public void Error(SourceLocation at, string message)
    {
        HasErrors = true;
        // The same value inherited by several conns is reported once.
        if (_items.Count < MaxDiagnostics && _seen.Add((at, message))) _items.Add(new ConfigDiagnostic(DiagnosticSeverity.Error, at, message));
    }

    public void Warning(SourceLocation at, string message)
    {
        if (_items.Count < MaxDiagnostics && _seen.Add((at, message))) _items.Add(new ConfigDiagnostic(DiagnosticSeverity.Warning, at, message));
    }

    /// <summary>In file order: by file (first seen first), line, column; file-level ones first.</summary>
    public IReadOnlyList<ConfigDiagnostic> Sorted()
    {
        var fileOrder = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ConfigDiagnostic d in _items) fileOrder.TryAdd(d.Location.File, fileOrder.Count);
        return _items.Select((d, i) => (d, i))
            .OrderBy(x => fileOrder[x.d.Location.File]).ThenBy(x => x.d.Location.Line).ThenBy(x => x.d.Location.Column).ThenBy(x => x.i)
            .Select(x => x.d).ToList();
    }
    public IReadOnlyList<ConfigDiagnostic> Warnings => _items.Where(d => d.Severity == DiagnosticSeverity.Warning).ToList();
}

/// <summary>Typo suggestions by edit distance (Levenshtein, unit costs).</summary>
internal static class Suggest
{
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        int limit = word.Length <= 4 ? 1 : word.Length <= 8 ? 2 : 3;
        foreach (string c in candidates)
        {
            int d = Distance(word.ToLowerInvariant(), c.ToLowerInvariant(), limit);
            if (d < bestDistance || (d == bestDistance && best != null && string.CompareOrdinal(c, best) < 0))
            {
                bestDistance = d;
                best = c;
            }
        }
        return bestDistance <= limit && best != null && !string.Equals(best, word, StringComparison.Ordinal) ? best : null;
    }

    public static string DidYouMean(string word, IEnumerable<string> candidates)
    {
        string? c = Closest(word, candidates);
        return c == null ? "" : $"; did you mean \"{c}\"?";
    }

    /// <summary>Optimal string alignment distance: insert, delete, substitute, swap of neighbours (PKS → PSK is 1).</summary>
    internal static int Distance(string a, string b, int limit)
    {
        if (Math.Abs(a.Length - b.Length) > limit) return limit + 1;
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, d[i - 2, j - 2] + 1);
                d[i, j] = v;
            }
        return d[a.Length, b.Length];
    }
}
