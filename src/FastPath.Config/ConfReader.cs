// Lexer for ipsec.conf: turns files (and their includes) into raw sections of key=value lines,
// with the position of every key and value. Layout rules are FreeS/WAN's ipsec.conf(5):
//   - a section starts at column 1: `config setup`, `conn NAME`, (`ca NAME`: strongSwan/Libreswan)
//   - its parameters are the following lines that begin with white space: `  key=value`
//   - `#` after white space (or at the start of a line) starts a comment
//   - a value holds white space only when the whole value is "double quoted"; no embedded quote,
//     no continuation lines ({...} lists, Libreswan's leftsubnets, are kept together too)
//   - `include FILE` at column 1 splices FILE in; FILE may hold shell wildcards and is relative
//     to the directory of the including file; nesting is limited (10, like ipsec.secrets(5))
//   - `version 2` (FreeS/WAN, Libreswan) or `version 2.0` (strongSwan) at column 1
// Nothing here knows keywords; ConfLoader interprets the sections.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace FastPath.Config;

internal sealed record RawSetting(string Key, string Value, SourceLocation KeyLocation, SourceLocation ValueLocation);

internal sealed class RawSection
{
    public required string Type { get; init; }
    public required string Name { get; init; }
    public required SourceLocation Location { get; init; }
    public List<RawSetting> Settings { get; } = new();
}

internal sealed class RawConfig
{
    public List<RawSection> Sections { get; } = new();
    public string? Version { get; set; }
    public bool VersionSeen { get; set; }
    public SourceLocation VersionLocation { get; set; }
    public List<string> Files { get; } = new();
}

internal sealed class ConfReader
{
    public const int MaxIncludeDepth = 10;
    /// <summary>Bigger files are refused: an ipsec.conf is kilobytes, not megabytes.</summary>
    public const long MaxFileBytes = 4 << 20;

    private readonly DiagnosticBag _diag;
    private readonly string _baseDir;
    private readonly RawConfig _raw = new();
    private readonly Stack<string> _includeStack = new();
    private RawSection? _current;

    private ConfReader(DiagnosticBag diag, string baseDir)
    {
        _diag = diag;
        _baseDir = baseDir;
    }

    public static RawConfig Read(string path, string? text, DiagnosticBag diag)
    {
        string full = Path.GetFullPath(path);
        var r = new ConfReader(diag, Path.GetDirectoryName(full) ?? "/");
        r.ReadFile(full, text, new SourceLocation(Path.GetFileName(full), 0, 0), topLevel: true);
        return r._raw;
    }

    internal static string Display(string baseDir, string full)
    {
        string rel = Path.GetRelativePath(baseDir, full);
        return rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel) ? full : rel;
    }

    /// <summary>Reads a file as UTF-8 with a size limit; null (and a diagnostic) if it cannot.</summary>
    internal static string? ReadText(string full, SourceLocation from, DiagnosticBag diag, string what, string? display = null)
    {
        display ??= full;
        try
        {
            var info = new FileInfo(full);
            if (!info.Exists) { diag.Error(from, $"{what} \"{display}\" not found"); return null; }
            if (info.Length > MaxFileBytes) { diag.Error(from, $"{what} \"{display}\" is {info.Length} bytes; more than the limit of {MaxFileBytes}"); return null; }
            return Encoding.UTF8.GetString(File.ReadAllBytes(full));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diag.Error(from, $"cannot read {what} \"{display}\": {e.Message}");
            return null;
        }
    }

    private void ReadFile(string full, string? text, SourceLocation from, bool topLevel)
    {
        string display = Display(_baseDir, full);
        if (_includeStack.Contains(full))
        {
            var chain = _includeStack.Reverse().Select(f => Display(_baseDir, f)).Append(display);
            _diag.Error(from, $"include cycle: {string.Join(" -> ", chain)}");
            return;
        }
        if (_includeStack.Count > MaxIncludeDepth)
        {
            _diag.Error(from, $"includes nested more than {MaxIncludeDepth} deep");
            return;
        }
        text ??= ReadText(full, from, _diag, topLevel ? "config file" : "include file", display);
        if (text == null) return;
        _raw.Files.Add(full);
        _includeStack.Push(full);
        try
        {
            int lineNo = 0;
            foreach (string rawLine in text.Split('\n'))
            {
                lineNo++;
                string line = rawLine.EndsWith('\r') ? rawLine[..^1] : rawLine;
                ProcessLine(line, display, lineNo, full, topLevel);
            }
        }
        finally { _includeStack.Pop(); }
    }

    private void ProcessLine(string line, string file, int lineNo, string full, bool topLevel)
    {
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if ((c < ' ' && c != '\t') || c == '\x7f' || c == '\uFFFD')
            {
                _diag.Error(new SourceLocation(file, lineNo, i + 1), c == '\uFFFD' ? "invalid UTF-8 byte sequence" : $"invalid control character U+{(int)c:X4}");
                return;
            }
        }
        int first = 0;
        while (first < line.Length && (line[first] == ' ' || line[first] == '\t')) first++;
        if (first == line.Length || line[first] == '#') return; // blank or comment
        var at = new SourceLocation(file, lineNo, first + 1);
        if (first > 0)
        {
            if (_current == null)
            {
                _diag.Error(at, "parameter outside of a section; sections start at column 1 with \"config setup\" or \"conn NAME\"");
                return;
            }
            ParseSetting(line, first, file, lineNo);
            return;
        }

        // Column 1: a directive or a section header.
        List<(string Token, int Column)> tokens = Tokens(line, file, lineNo, out bool bad);
        if (bad) return;
        string head = tokens[0].Token;
        switch (head)
        {
            case "version":
                _raw.VersionSeen = true;
                if (tokens.Count != 2) { _diag.Error(at, "expected \"version 2\" (FreeS/WAN, Libreswan) or \"version 2.0\" (strongSwan)"); return; }
                if (tokens[1].Token is not ("2" or "2.0"))
                {
                    _diag.Error(new SourceLocation(file, lineNo, tokens[1].Column), $"unsupported version \"{tokens[1].Token}\"; allowed: 2 (FreeS/WAN 2.x, Libreswan), 2.0 (strongSwan)");
                    return;
                }
                if (_raw.Version != null && _raw.Version != tokens[1].Token)
                    _diag.Error(at, $"conflicting version lines: \"{tokens[1].Token}\" here, \"{_raw.Version}\" at {_raw.VersionLocation}");
                if (_raw.Version == null) { _raw.Version = tokens[1].Token; _raw.VersionLocation = at; }
                _current = null;
                return;
            case "include":
                if (tokens.Count != 2) { _diag.Error(at, "include takes exactly one file name (no white space; wildcards allowed)"); return; }
                Include(tokens[1].Token, full, new SourceLocation(file, lineNo, tokens[1].Column));
                return;
            case "config":
            case "conn":
            case "ca":
                if (tokens.Count != 2)
                {
                    _diag.Error(at, tokens.Count == 1 ? $"section \"{head}\" needs a name" : $"section header \"{head} {tokens[1].Token}\" has extra text \"{tokens[2].Token}\"");
                    _current = Swallow(at);
                    return;
                }
                string name = tokens[1].Token;
                var nameAt = new SourceLocation(file, lineNo, tokens[1].Column);
                if (head == "config" && name != "setup")
                {
                    _diag.Error(nameAt, $"unknown config section \"{name}\"; only \"config setup\" exists");
                    _current = Swallow(at);
                    return;
                }
                if (!(name == "%default" && head != "config") && !ValidName(name))
                {
                    _diag.Error(nameAt, $"invalid {head} name \"{name}\": names start with a letter and hold only letters, digits, '.', '_' and '-'");
                    _current = Swallow(at);
                    return;
                }
                _current = new RawSection { Type = head, Name = name, Location = at };
                _raw.Sections.Add(_current);
                return;
            default:
                if (head.Contains('=', StringComparison.Ordinal) && _current != null)
                {
                    // Recover: report, then read it as the parameter it obviously is, so the
                    // rest of the section does not cascade into more errors.
                    _diag.Error(at, $"unexpected \"{head}\" at column 1; parameters must be indented (start the line with white space)");
                    ParseSetting(line, 0, file, lineNo);
                    return;
                }
                string hint = head.Contains('=', StringComparison.Ordinal)
                    ? "; parameters must be indented (start the line with white space)"
                    : "; allowed at column 1: version, include, config setup, conn NAME, ca NAME" + Suggest.DidYouMean(head, new[] { "version", "include", "config", "conn" });
                _diag.Error(at, $"unexpected \"{head}\" at column 1{hint}");
                _current = Swallow(at);
                return;
        }
    }

    /// <summary>A section that is not kept: after a bad header its parameters are skipped silently, not reported one by one.</summary>
    private static RawSection Swallow(SourceLocation at) => new() { Type = "ignored", Name = "", Location = at };

    /// <summary>White-space separated tokens up to a comment; a token may be "quoted".</summary>
    private List<(string, int)> Tokens(string line, string file, int lineNo, out bool bad)
    {
        bad = false;
        var list = new List<(string, int)>();
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && (line[i] == ' ' || line[i] == '\t')) i++;
            if (i >= line.Length || (line[i] == '#' && (i == 0 || line[i - 1] is ' ' or '\t'))) break;
            int start = i;
            if (line[i] == '"')
            {
                int close = line.IndexOf('"', i + 1);
                if (close < 0) { _diag.Error(new SourceLocation(file, lineNo, i + 1), "unterminated quoted string"); bad = true; return list; }
                list.Add((line[(i + 1)..close], start + 1));
                i = close + 1;
                continue;
            }
            while (i < line.Length && line[i] != ' ' && line[i] != '\t') i++;
            list.Add((line[start..i], start + 1));
        }
        return list;
    }

    internal static bool ValidName(string name)
    {
        if (name.Length == 0 || name.Length > 128 || !char.IsAsciiLetter(name[0])) return false;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        return true;
    }

    private void ParseSetting(string line, int first, string file, int lineNo)
    {
        int i = first;
        while (i < line.Length && line[i] != '=' && line[i] != ' ' && line[i] != '\t') i++;
        string key = line[first..i];
        var keyAt = new SourceLocation(file, lineNo, first + 1);
        int j = i;
        while (j < line.Length && (line[j] == ' ' || line[j] == '\t')) j++;
        if (j >= line.Length || line[j] != '=')
        {
            _diag.Error(keyAt, key.Length > 0 && (j >= line.Length || line[j] == '#')
                ? $"expected parameter=value, found \"{key}\" without '='"
                : $"expected parameter=value, found \"{line[first..].Trim()}\"");
            return;
        }
        if (key.Length == 0) { _diag.Error(keyAt, "missing parameter name before '='"); return; }
        if (!ValidName(key))
        {
            _diag.Error(keyAt, $"invalid parameter name \"{key}\": names start with a letter and hold only letters, digits, '.', '_' and '-'");
            return;
        }
        j++;
        while (j < line.Length && (line[j] == ' ' || line[j] == '\t')) j++;
        var valueAt = new SourceLocation(file, lineNo, j + 1);
        string value;
        int rest;
        if (j < line.Length && line[j] == '"')
        {
            int close = line.IndexOf('"', j + 1);
            if (close < 0) { _diag.Error(valueAt, $"unterminated quoted value for \"{key}\" (a value cannot continue on the next line)"); return; }
            value = line[(j + 1)..close];
            rest = close + 1;
        }
        else if (j < line.Length && line[j] == '{')
        {
            int close = line.IndexOf('}', j + 1);
            if (close < 0) { _diag.Error(valueAt, $"unterminated {{ list for \"{key}\"; close it with '}}' on the same line"); return; }
            value = line[j..(close + 1)];
            rest = close + 1;
        }
        else
        {
            int end = j;
            while (end < line.Length && line[end] != ' ' && line[end] != '\t') end++;
            value = line[j..end];
            if (value.StartsWith('#')) value = ""; // key= # comment: an empty value
            rest = end;
        }
        int k = rest;
        while (k < line.Length && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k < line.Length && line[k] != '#' && !value.StartsWith('#'))
        {
            if (rest < line.Length && (line[rest] != ' ' && line[rest] != '\t'))
                _diag.Error(new SourceLocation(file, lineNo, rest + 1), $"unexpected text after the value of \"{key}\"");
            else
                _diag.Error(valueAt, $"value of \"{key}\" contains white space; quote the whole value: {key}=\"{line[j..].Split('#')[0].Trim()}\"");
            return;
        }
        _current!.Settings.Add(new RawSetting(key, value, keyAt, valueAt));
    }

    private void Include(string pattern, string includingFile, SourceLocation at)
    {
        string dir = Path.GetDirectoryName(includingFile) ?? "/";
        string full = Path.IsPathRooted(pattern) ? pattern : Path.Combine(dir, pattern);
        if (!Glob.HasWildcards(full))
        {
            ReadFile(Path.GetFullPath(full), null, at, topLevel: false);
            return;
        }
        IReadOnlyList<string> matches;
        try { matches = Glob.Expand(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            _diag.Error(at, $"cannot expand include pattern \"{pattern}\": {e.Message}");
            return;
        }
        if (matches.Count == 0) { _diag.Warning(at, $"include pattern \"{pattern}\" matches no file"); return; }
        foreach (string m in matches) ReadFile(Path.GetFullPath(m), null, at, topLevel: false);
    }
}

/// <summary>sh(1)-style wildcards (*, ?, [...]) in any path component; results sorted like sh.</summary>
internal static class Glob
{
    public const int MaxVisited = 10000;

    public static bool HasWildcards(string s) => s.IndexOfAny(new[] { '*', '?', '[' }) >= 0;

    public static IReadOnlyList<string> Expand(string pattern)
    {
        string root = Path.GetPathRoot(pattern) ?? "";
        string[] parts = pattern[root.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { root.Length == 0 ? "." : root };
        int visited = 0;
        for (int p = 0; p < parts.Length; p++)
        {
            bool last = p == parts.Length - 1;
            var next = new List<string>();
            foreach (string dir in current)
            {
                if (!HasWildcards(parts[p]))
                {
                    string candidate = Path.Combine(dir, parts[p]);
                    if (last ? File.Exists(candidate) : Directory.Exists(candidate)) next.Add(candidate);
                    continue;
                }
                if (!Directory.Exists(dir)) continue;
                IEnumerable<string> entries = last ? Directory.EnumerateFiles(dir) : Directory.EnumerateDirectories(dir);
                foreach (string e in entries)
                {
                    // `include /*/*/*/...` must not walk the whole file system.
                    if (++visited > MaxVisited) throw new IOException($"the pattern visits more than {MaxVisited} paths");
                    if (Match(parts[p], Path.GetFileName(e))) next.Add(e);
                }
            }
            next.Sort(StringComparer.Ordinal);
            current = next;
        }
        return current;
    }

    /// <summary>Matches one path component; a leading '.' must be matched explicitly (sh rule).</summary>
    public static bool Match(string pattern, string name)
    {
        if (name.StartsWith('.') && !pattern.StartsWith('.')) return false;
        return MatchAt(pattern, 0, name, 0, 0);
    }

    private static bool MatchAt(string p, int pi, string s, int si, int depth)
    {
        if (depth > 64) return false;
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                while (pi < p.Length && p[pi] == '*') pi++;
                if (pi == p.Length) return true;
                for (int k = si; k <= s.Length; k++)
                    if (MatchAt(p, pi, s, k, depth + 1)) return true;
                return false;
            }
            if (si >= s.Length) return false;
            if (c == '?') { pi++; si++; continue; }
            if (c == '[')
            {
                int close = p.IndexOf(']', pi + 2);
                if (close < 0) { if (s[si] != '[') return false; pi++; si++; continue; }
                bool negate = p[pi + 1] is '!' or '^';
                int start = pi + (negate ? 2 : 1);
                bool hit = false;
                for (int k = start; k < close; k++)
                {
                    if (k + 2 < close && p[k + 1] == '-') { if (s[si] >= p[k] && s[si] <= p[k + 2]) hit = true; k += 2; }
                    else if (p[k] == s[si]) hit = true;
                }
                if (hit == negate) return false;
                pi = close + 1;
                si++;
                continue;
            }
            if (c != s[si]) return false;
            pi++;
            si++;
        }
        return si == s.Length;
    }
}
