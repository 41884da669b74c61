using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using FastPath.Config;

namespace FastPath.Gateway.Tests.Netns;

/// <summary>
/// One FastPath ↔ strongSwan interop run (issue 6): the testbed topology (gateway mode), ONE charon in
/// east (perf-scripts/lib/strongswan.sh east: kernel-libipsec, PSK or certificates from certs.sh, any
/// suite), and the real FastPath daemon in west (`fastpath start --config --secrets --rundir --foreground`)
/// on the ipsec.conf/ipsec.secrets that strongswan.sh wrote for it. Dispose stops the daemon and charon
/// by PID and deletes the namespaces, also when the test failed.
/// </summary>
public sealed partial class IkeInterop : IDisposable
{
    public Testbed Bed { get; }
    public string Role { get; }
    public string Auth { get; }
    public string StrongSwanDir => $"/tmp/fp-ss-{Bed.Tag}";
    public string FastPathDir => Path.Combine(StrongSwanDir, "west");
    public string RunDir => Path.Combine(FastPathDir, "run");
    public string CharonLog => Path.Combine(StrongSwanDir, "east", "charon.log");
    private Process? _daemon;
    private readonly Dictionary<string, string> _env;

    /// <summary>Extra arguments for `fastpath start` (FASTPATH_START_ARGS; none by default: the daemon takes its
    /// interfaces as `fastpath demo` starts it, from the topology's inside/outside names).</summary>
    public static string StartArguments => Environment.GetEnvironmentVariable("FASTPATH_START_ARGS") ?? "";

    /// <param name="role">strongSwan's role: "responder" (FastPath initiates, auto=start) or "initiator".</param>
    /// <param name="auth">psk, cert (RSA) or cert-ecdsa.</param>
    /// <param name="env">strongswan.sh knobs (SS_CHILD_REKEY, SS_DPD, SS_FP_KEYLIFE, ...).</param>
    public IkeInterop(string role, string auth, string esp, string ike, IReadOnlyDictionary<string, string>? env = null)
    {
        Role = role;
        Auth = auth;
        _env = env?.ToDictionary(k => k.Key, k => k.Value) ?? [];
        Bed = new Testbed("gateway");
        try
        {
            Testbed.Sh($"{Env()} {Lib("strongswan.sh")} east {Bed.Tag} {role} {auth} {esp} {ike}", timeoutMs: 120_000);
            CheckFastPathConfig();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private string Env() => string.Join(" ", _env.Select(kv => $"{kv.Key}='{kv.Value}'"));

    private static string Lib(string name) => Path.Combine(Testbed.RepoRoot, "perf-scripts", "lib", name);

    /// <summary>The harness's own check, independent of the daemon: FastPath.Config reads the generated files without errors.</summary>
    private void CheckFastPathConfig()
    {
        ConfigLoadResult r = IpsecConfLoader.TryLoad(Path.Combine(FastPathDir, "ipsec.conf"));
        if (r.Config is null || r.Errors.Any())
            throw new InvalidOperationException("FastPath.Config rejects the generated ipsec.conf:\n" + string.Join("\n", r.Diagnostics));
        if (r.Config.Connections.All(c => c.Name != "west-east"))
            throw new InvalidOperationException("generated ipsec.conf has no conn west-east");
        IpsecSecrets.Load(Path.Combine(FastPathDir, "ipsec.secrets"));
    }

    /// <summary>Starts the FastPath daemon in west and waits for its ready file.</summary>
    public void StartFastPath()
    {
        Directory.CreateDirectory(RunDir);
        string log = Path.Combine(FastPathDir, "fastpath.log");
        _daemon = Bed.Background($"ip netns exec {Bed.West} {Testbed.FastPathCommand} start --config {FastPathDir}/ipsec.conf --secrets {FastPathDir}/ipsec.secrets --rundir {RunDir} --foreground {StartArguments} >{log} 2>&1");
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (File.Exists(Path.Combine(RunDir, "ready"))) return;
            if (_daemon.HasExited) break;
            Thread.Sleep(100);
        }
        throw new InvalidOperationException($"fastpath start did not become ready (exit: {(_daemon.HasExited ? _daemon.ExitCode.ToString() : "running")}):\n{Tail(log)}");
    }

    /// <summary>Brings the tunnel up (charon initiates when it is the initiator; FastPath's auto=start otherwise)
    /// and waits until charon has the CHILD_SA installed.</summary>
    public void Establish(TimeSpan? timeout = null)
    {
        if (Role == "initiator")
            Testbed.Sh($"{Lib("strongswan.sh")} initiate {Bed.Tag} east", check: false, timeoutMs: 60_000);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            if (Sas().Contains("INSTALLED", StringComparison.Ordinal)) return;
            Thread.Sleep(250);
        }
        throw new InvalidOperationException("no CHILD_SA between FastPath and strongSwan:\n" + Diagnose());
    }

    /// <summary>charon's `swanctl --list-sas`.</summary>
    public string Sas() => Testbed.Sh($"{Lib("strongswan.sh")} sas {Bed.Tag} east", check: false, timeoutMs: 30_000);

    /// <summary>`fastpath status --rundir` (its text; empty when the command fails).</summary>
    public string FastPathStatus() => Testbed.Sh($"ip netns exec {Bed.West} {Testbed.FastPathCommand} status --rundir {RunDir}", check: false, timeoutMs: 30_000);

    /// <summary>How many CHILD_SAs charon established (the first one and every rekey).</summary>
    public int ChildSasEstablished() => File.Exists(CharonLog) ? ChildEstablished().Matches(File.ReadAllText(CharonLog)).Count : 0;

    [GeneratedRegex(@"CHILD_SA net\{\d+\} established")]
    private static partial Regex ChildEstablished();

    /// <summary>Stops charon with SIGKILL (no DELETE is sent: the peer is just gone, as DPD must detect).</summary>
    public void KillCharon()
    {
        string pidFile = Path.Combine(StrongSwanDir, "east", "pid");
        Testbed.Sh($"kill -KILL $(cat {pidFile}) && rm -f {pidFile}", check: false);
    }

    public string Diagnose() =>
        $"--- charon (east) ---\n{Tail(CharonLog, 60)}\n--- swanctl --list-sas ---\n{Sas()}\n--- fastpath (west) ---\n{Tail(Path.Combine(FastPathDir, "fastpath.log"), 60)}\n--- fastpath status ---\n{FastPathStatus()}";

    public static string Tail(string file, int lines = 40) =>
        File.Exists(file) ? string.Join("\n", File.ReadLines(file).TakeLast(lines)) : $"({file} missing)";

    public void Dispose()
    {
        if (_daemon is not null)
        {
            try { Testbed.Stop(_daemon); } catch (InvalidOperationException) { }
        }
        Testbed.Sh($"{Lib("strongswan.sh")} down {Bed.Tag}", check: false, timeoutMs: 30_000);
        Bed.Dispose();
    }
}
