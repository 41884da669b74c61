using System;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using FastPath.Gateway.Tests.Netns;

namespace FastPath.Gateway.Tests.Cli;

/// <summary>Runs the real `fastpath` command (the CLI built next to the tests), optionally in a namespace.</summary>
internal static partial class CliRunner
{
    public static (int Exit, string Out, string Err) Run(string args, string? ns = null, int timeoutMs = 90_000)
    {
        string cmd = (ns is null ? "" : $"ip netns exec {ns} ") + Testbed.FastPathCommand + " " + args;
        var psi = new ProcessStartInfo("bash", ["-c", cmd]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs)) { p.Kill(true); throw new TimeoutException($"{cmd}: no exit in {timeoutMs} ms"); }
        p.WaitForExit();
        return (p.ExitCode, so.Result, se.Result);
    }

    /// <summary>Counters, sequence numbers and times replaced by placeholders, for golden comparisons.</summary>
    public static string Normalise(string text)
    {
        text = LeadingCount().Replace(text, "N          ");
        text = Since().Replace(text, "up since TIME");
        text = Counts().Replace(text, "N ${unit}");
        text = Current().Replace(text, "current: N(bytes), N(packets), N(drops)");
        text = Seq().Replace(text, "seq 0xSEQ");
        return text;
    }

    [GeneratedRegex(@"(?m)^\d+ {1,10}(?=\S)")]
    private static partial Regex LeadingCount();
    [GeneratedRegex(@"up since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")]
    private static partial Regex Since();
    [GeneratedRegex(@"\b\d+ (?<unit>bytes|packets)\b")]
    private static partial Regex Counts();
    [GeneratedRegex(@"current: \d+\(bytes\), \d+\(packets\), \d+\(drops\)")]
    private static partial Regex Current();
    [GeneratedRegex(@"seq 0x[0-9a-f]{8}")]
    private static partial Regex Seq();
}
