// The processes the demo starts, and only those: each is started by us, remembered by PID, and
// ended by that PID (SIGTERM, a grace period, then SIGKILL to its own process group). Background
// processes run under setsid, so a Ctrl-C in the terminal reaches the demo alone and the demo stops
// them in order (gateways print their final counters on SIGTERM). setsid does not fork when its
// caller is not a group leader (a fresh child never is), and `ip netns exec` and `sh -c 'exec …'`
// exec in place, so the PID we hold is the gateway's / iperf3's own.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace FastPath.Cli.Demo;

/// <summary>A background process started by the demo (in its own session).</summary>
internal sealed class DemoProcess : IDisposable
{
    private readonly Process _process;
    private bool _disposed;
    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string? LogFile { get; }

    private DemoProcess(string name, Process p, string? logFile)
    {
        Name = name; _process = p; LogFile = logFile;
    }

    /// <summary>Starts <paramref name="argv"/> under setsid with stdout+stderr to <paramref name="logFile"/>
    /// (a file, not a pipe: a gateway kept with --keep outlives the demo).</summary>
    public static DemoProcess StartLogged(string name, IReadOnlyList<string> argv, string logFile)
    {
        var sb = new StringBuilder("exec");
        foreach (string a in argv) sb.Append(' ').Append(DemoShell.Quote(a));
        sb.Append(" >").Append(DemoShell.Quote(logFile)).Append(" 2>&1 </dev/null");
        var psi = new ProcessStartInfo("setsid", ["sh", "-c", sb.ToString()]) { UseShellExecute = false };
        var p = Process.Start(psi) ?? throw new DemoException($"cannot start {name}");
        return new DemoProcess(name, p, logFile);
    }

    /// <summary>Starts <paramref name="argv"/> under setsid; each stdout line goes to <paramref name="onLine"/>.</summary>
    public static DemoProcess StartPiped(string name, IReadOnlyList<string> argv, Action<string> onLine)
    {
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in argv) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new DemoException($"cannot start {name}");
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new DemoProcess(name, p, null);
    }

    public Task WaitAsync(CancellationToken cancel) => _process.WaitForExitAsync(cancel);

    /// <summary>SIGTERM, up to <paramref name="graceMs"/> to exit, then SIGKILL to its process group.</summary>
    public void Stop(int graceMs = 5000)
    {
        if (_disposed || _process.HasExited) return;
        _ = Libc.kill(Pid, Libc.SIGTERM);
        if (!_process.WaitForExit(graceMs))
        {
            _ = Libc.kill(-Pid, Libc.SIGKILL); // its own group (setsid made it the leader)
            _ = Libc.kill(Pid, Libc.SIGKILL);
            _process.WaitForExit(3000);
        }
        else _process.WaitForExit(); // drains the redirected output
    }

    public void Dispose()
    {
        _disposed = true;
        _process.Dispose();
    }
}

/// <summary>Runs short commands to completion (ip, ping, the fastpath status verbs).</summary>
internal static class DemoShell
{
    public static async Task<(int Code, string Output)> RunAsync(IReadOnlyList<string> argv, int timeoutMs, CancellationToken cancel)
    {
        var psi = new ProcessStartInfo(argv[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        for (int i = 1; i < argv.Count; i++) psi.ArgumentList.Add(argv[i]);
        using var p = Process.Start(psi) ?? throw new DemoException($"cannot start {argv[0]}");
        p.StandardInput.Close();
        Task<string> so = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> se = p.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(timeoutMs);
        try { await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit(3000);
            cancel.ThrowIfCancellationRequested();
            throw new DemoException($"{string.Join(' ', argv)}: no exit within {timeoutMs / 1000.0:F0} s");
        }
        return (p.ExitCode, await so.ConfigureAwait(false) + await se.ConfigureAwait(false));
    }

    /// <summary>Runs and throws <see cref="DemoException"/> with the output on a non-zero exit.</summary>
    public static async Task<string> CheckAsync(IReadOnlyList<string> argv, CancellationToken cancel, int timeoutMs = 20_000)
    {
        var (code, output) = await RunAsync(argv, timeoutMs, cancel).ConfigureAwait(false);
        if (code != 0) throw new DemoException($"{string.Join(' ', argv)}: exit {code}: {output.Trim()}");
        return output;
    }

    /// <summary>Single-quotes for sh.</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The directory on PATH holding <paramref name="tool"/>, or null.</summary>
    public static string? Which(string tool)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string f = Path.Combine(dir, tool);
            if (File.Exists(f)) return f;
        }
        foreach (string dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
            if (File.Exists(Path.Combine(dir, tool))) return Path.Combine(dir, tool);
        return null;
    }
}

/// <summary>A demo step failed: the message says what and why; the demo tears down and exits 1.</summary>
public sealed class DemoException : Exception
{
    public DemoException(string message) : base(message) { }
    public DemoException(string message, Exception inner) : base(message, inner) { }
    public DemoException() { }
}

internal static partial class Libc
{
    public const int SIGKILL = 9, SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint geteuid();
}
