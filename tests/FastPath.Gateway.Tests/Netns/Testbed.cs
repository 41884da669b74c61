using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;

namespace FastPath.Gateway.Tests.Netns;

/// <summary>
/// The West/East/Sunset/Sunrise topology (perf-scripts/lib/topology.sh, docs/netns-testbed.md) for
/// one test, with a unique tag; the FastPath gateways are the real `fastpath manual` command started
/// by perf-scripts/lib/fastpath.sh. Dispose stops the gateways (by PID) and deletes the namespaces,
/// also when the test failed. Missing tools (ip, iperf3, tcpdump, tshark, scapy, nft) make the test
/// fail, never skip.
/// </summary>
public sealed partial class Testbed : IDisposable
{
    public static readonly string RepoRoot = FindRoot();
    public string Tag { get; }
    public string Sunset => $"fp-{Tag}-sunset";
    public string West => $"fp-{Tag}-west";
    public string East => $"fp-{Tag}-east";
    public string Sunrise => $"fp-{Tag}-sunrise";
    public string GatewayDir => $"/tmp/fp-gw-{Tag}";
    private readonly List<Process> _background = [];
    private bool _gateways;

    public Testbed(string mode = "gateway")
    {
        // FASTPATH_NETNS_TAG: a prefix for the namespace names (parallel runs on one host keep apart by it).
        Tag = (Environment.GetEnvironmentVariable("FASTPATH_NETNS_TAG") ?? "t") + Random.Shared.Next(0x10000, 0xFFFFF).ToString("x5", CultureInfo.InvariantCulture);
        try
        {
            Sh($"{Lib("topology.sh")} up {Tag} {mode}", timeoutMs: 60_000);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private static string Lib(string name) => Path.Combine(RepoRoot, "perf-scripts", "lib", name);

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FastPath.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root (FastPath.sln) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The fastpath command the gateways run: the CLI built next to these tests.</summary>
    public static string FastPathCommand => "dotnet " + Path.Combine(AppContext.BaseDirectory, "fastpath.dll");

    /// <summary>Starts both gateways (SUITE, raw|udp, esp|pass) and waits until they are ready.</summary>
    public void StartGateways(string suite = "aes128gcm16", string encap = "raw", string mode = "esp", string extra = "")
    {
        _gateways = true;
        Sh($"FASTPATH='{FastPathCommand}' {Lib("fastpath.sh")} up {Tag} {suite} {encap} {mode} {extra}", timeoutMs: 90_000);
    }

    public void StopGateways()
    {
        if (!_gateways) return;
        Sh($"{Lib("fastpath.sh")} down {Tag}", check: false, timeoutMs: 30_000);
        _gateways = false;
    }

    /// <summary>The gateway's counters.json (written every second and at exit).</summary>
    public JsonDocument Counters(string side) => JsonDocument.Parse(File.ReadAllText(Path.Combine(GatewayDir, side, "counters.json")));

    public long Drop(string side, string reason)
    {
        using var d = Counters(side);
        return d.RootElement.GetProperty("drops").TryGetProperty(reason, out var v) ? v.GetInt64() : 0;
    }

    public long Total(string side, string name)
    {
        using var d = Counters(side);
        return d.RootElement.GetProperty("totals").GetProperty(name).GetInt64();
    }

    /// <summary>Waits until the next counters.json write (at most ~2 s).</summary>
    public void WaitForCounters(string side)
    {
        string f = Path.Combine(GatewayDir, side, "counters.json");
        DateTime before = File.GetLastWriteTimeUtc(f);
        for (int i = 0; i < 40 && File.GetLastWriteTimeUtc(f) == before; i++) Thread.Sleep(100);
    }

    /// <summary>Pings from <paramref name="ns"/>; returns (sent, received, output).</summary>
    public (int Sent, int Received, string Output) Ping(string ns, string target, int count = 5, string options = "", int timeoutMs = 30_000)
    {
        string v6 = target.Contains(':', StringComparison.Ordinal) ? "-6 " : "";
        string output = Sh($"ip netns exec {ns} ping {v6}-n -c {count} -i 0.2 -W 1 {options} {target}", check: false, timeoutMs: timeoutMs);
        var m = PingStats().Match(output);
        return m.Success ? (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), output) : (0, 0, output);
    }

    /// <summary>Pings until one reply arrives (next hops are resolved on the first packets), at most ~6 s.</summary>
    public bool Warm(string target)
    {
        for (int i = 0; i < 6; i++)
            if (Ping(Sunset, target, count: 2).Received > 0) return true;
        return false;
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) (?:packets )?received")]
    private static partial Regex PingStats();

    /// <summary>Runs iperf3 sunset → sunrise (server started and stopped here); returns the JSON.</summary>
    public JsonDocument Iperf(string target, string args, int seconds = 2)
    {
        int port = 5201 + Random.Shared.Next(0, 500);
        var server = Background($"ip netns exec {Sunrise} timeout {seconds + 20} iperf3 -s -1 -p {port}");
        Thread.Sleep(400);
        try
        {
            string json = Sh($"ip netns exec {Sunset} timeout {seconds + 15} iperf3 -c {target} -p {port} -t {seconds} -J {args}", check: false, timeoutMs: (seconds + 20) * 1000);
            return JsonDocument.Parse(json);
        }
        finally
        {
            Stop(server);
        }
    }

    /// <summary>Starts a bounded capture on <paramref name="ns"/>/<paramref name="iface"/> into a pcap; returns a handle for <see cref="EndCapture"/>.</summary>
    public (Process Process, string File) Capture(string ns, string iface, string filter = "")
    {
        string file = Path.Combine(Path.GetTempPath(), $"fp-{Tag}-{ns}-{iface}-{Random.Shared.Next():x}.pcap");
        var p = Background($"ip netns exec {ns} timeout 60 tcpdump -U --immediate-mode -n -i {iface} -w {file} {filter}");
        Thread.Sleep(1000); // tcpdump needs a moment before it sees packets (PEERS.md)
        return (p, file);
    }

    public string EndCapture((Process Process, string File) capture)
    {
        Thread.Sleep(1000);
        Stop(capture.Process);
        return capture.File;
    }

    public Process Background(string command)
    {
        var psi = new ProcessStartInfo("setsid", ["sh", "-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start: " + command);
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        lock (_background) _background.Add(p);
        return p;
    }

    /// <summary>Ends a background command: SIGTERM to its own process group (setsid), then waits.</summary>
    public static void Stop(Process p)
    {
        if (p.HasExited) return;
        Sh($"kill -TERM -- -{p.Id}", check: false);
        if (!p.WaitForExit(5000)) { Sh($"kill -KILL -- -{p.Id}", check: false); p.WaitForExit(2000); }
    }

    public static string Sh(string command, bool check = true, int timeoutMs = 30_000)
    {
        var psi = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start bash");
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(true);
            throw new TimeoutException($"{command}: no exit in {timeoutMs} ms");
        }
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"{command}: exit {p.ExitCode}: {se.Result}{so.Result}");
        return so.Result + (check ? "" : se.Result);
    }

    public void Dispose()
    {
        StopGateways();
        lock (_background) foreach (var p in _background) { try { Stop(p); } catch (InvalidOperationException) { } p.Dispose(); }
        Sh($"{Lib("topology.sh")} down {Tag}", check: false);
        RemoveTestFiles(Tag);
    }

    /// <summary>Deletes what a testbed with <paramref name="tag"/> left in /tmp (gateway and strongSwan directories,
    /// captures): a CI run left ~100 of them behind. FASTPATH_KEEP_TEST_FILES=1 keeps them for a look after a failure
    /// (a failing test prints its diagnosis in its message either way).</summary>
    public static void RemoveTestFiles(string tag)
    {
        if (Environment.GetEnvironmentVariable("FASTPATH_KEEP_TEST_FILES") == "1") return;
        string tmp = Path.GetTempPath();
        foreach (string dir in new[] { $"/tmp/fp-gw-{tag}", $"/tmp/fp-ss-{tag}" }) // GatewayDir, IkeInterop.StrongSwanDir
        {
            try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        foreach (string file in Directory.EnumerateFiles(tmp, $"fp-{tag}-*"))
        {
            try { File.Delete(file); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
