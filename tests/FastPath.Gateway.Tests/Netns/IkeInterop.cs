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

    /// <summary>FastPath's rekey of the child (or the IKE SA) now, through the daemon's control socket (`rekey` / `rekey-ike`).</summary>
    public string RekeyFastPath(bool ike)
    {
        var r = FastPath.Gateway.Control.ControlClient.Send(RunDir, new FastPath.Gateway.Control.ControlRequest(ike ? "rekey-ike" : "rekey", "west-east"), TimeSpan.FromSeconds(20));
        if (!r.Ok) throw new InvalidOperationException($"fastpath {(ike ? "rekey-ike" : "rekey")} failed: {r.Error} {r.Text}\n" + Diagnose());
        return r.Text;
    }

    /// <summary>charon's `swanctl --rekey --child net` (or `--ike west-east`); returns once charon queued it.</summary>
    public void RekeyCharon(bool ike) => Testbed.Sh($"{Lib("strongswan.sh")} rekey {Bed.Tag} east {(ike ? "ike" : "child")}", timeoutMs: 45_000);

    /// <summary>What west drops of east's IKE messages (UDP 4500 with the 4-byte zero non-ESP marker, RFC 3948 §2.2;
    /// ESP-in-UDP always passes) before FastPath's socket sees them. Responses: the Response flag (0x20 of the IKE
    /// header's flags byte, RFC 7296 §3.1: UDP payload byte 4 + 19, transport-header bit 248 + 2); Informational
    /// requests: exchange type 37 (payload byte 4 + 18, bit 240) without it — east's DELETEs.</summary>
    [Flags]
    public enum IkeBlock { None = 0, Requests = 1, Responses = 2, InformationalRequests = 4, All = Requests | Responses | InformationalRequests }

    /// <summary>Sets west's IKE block (an nft table, replaced atomically). Blocking all, then only east's answers (and
    /// DELETEs), then only its DELETEs, lets a test put each side's request on the wire before either has seen the
    /// other's, and then hand FastPath east's request while its own is unanswered, then its answer before east's DELETE
    /// — whatever the scheduling, which makes a rekey collision deterministic.</summary>
    public void BlockIkeIntoWest(IkeBlock mode)
    {
        if (mode == IkeBlock.None)
        {
            Testbed.Sh($"ip netns exec {Bed.West} nft delete table inet fp_ikp_block", check: false);
            return;
        }
        const string ike = "udp sport 4500 @th,64,32 0";
        var rules = new List<string>();
        if (mode.HasFlag(IkeBlock.Requests) && mode.HasFlag(IkeBlock.Responses)) rules.Add($"{ike} counter drop");
        else
        {
            if (mode.HasFlag(IkeBlock.Responses)) rules.Add($"{ike} @th,250,1 1 counter drop");
            if (mode.HasFlag(IkeBlock.Requests)) rules.Add($"{ike} @th,250,1 0 counter drop");
            else if (mode.HasFlag(IkeBlock.InformationalRequests)) rules.Add($"{ike} @th,240,8 37 @th,250,1 0 counter drop");
        }
        Testbed.Sh($"ip netns exec {Bed.West} nft -f - <<'NFT'\ntable inet fp_ikp_block\ndelete table inet fp_ikp_block\n" +
            $"table inet fp_ikp_block {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n  {string.Join("\n  ", rules)}\n }}\n}}\nNFT");
    }

    /// <summary>How many IKE messages from east west's block table dropped (its nft counter; 0 when the table is gone).</summary>
    public long IkeDroppedIntoWest()
    {
        string t = Testbed.Sh($"ip netns exec {Bed.West} nft list table inet fp_ikp_block", check: false);
        var m = Regex.Match(t, @"counter packets (\d+)");
        return m.Success ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>charon lists exactly one IKE SA (ESTABLISHED) and one CHILD_SA (INSTALLED), and nothing rekeying or
    /// deleting — then a second later still: the previous exchange (and its redundant-SA delete) is over.</summary>
    public bool Settled()
    {
        string s = Sas();
        return Regex.Matches(s, "ESTABLISHED").Count == 1 && Regex.Matches(s, "INSTALLED").Count == 1
            && !s.Contains("REKEY", StringComparison.Ordinal) && !s.Contains("DELETING", StringComparison.Ordinal) && !s.Contains("CONNECTING", StringComparison.Ordinal);
    }

    public async System.Threading.Tasks.Task<bool> WaitSettledAsync(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (Settled())
            {
                await System.Threading.Tasks.Task.Delay(1000);
                if (Settled()) return true;
            }
            await System.Threading.Tasks.Task.Delay(200);
        }
        return false;
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds or <paramref name="timeout"/> passed.</summary>
    public static async System.Threading.Tasks.Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (condition()) return true;
            await System.Threading.Tasks.Task.Delay(100);
        }
        return condition();
    }

    /// <summary>Lines of charon's log that contain <paramref name="text"/>.</summary>
    public int CharonLogCount(string text) => File.Exists(CharonLog) ? File.ReadLines(CharonLog).Count(l => l.Contains(text, StringComparison.Ordinal)) : 0;

    /// <summary>Lines of the FastPath daemon's log that contain <paramref name="text"/>.</summary>
    public int FastPathLogCount(string text) => FastPathLogCount(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>Lines of the FastPath daemon's log that satisfy <paramref name="match"/>.</summary>
    public int FastPathLogCount(Func<string, bool> match)
    {
        string f = Path.Combine(FastPathDir, "fastpath.log");
        if (!File.Exists(f)) return 0;
        using var fs = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(fs);
        int n = 0;
        while (r.ReadLine() is { } l) if (match(l)) n++;
        return n;
    }

    /// <summary>The CHILD_SA SPIs charon lists (in/out hex, one pair per installed child).</summary>
    public IReadOnlyList<string> CharonChildSpis() => ChildSpis().Matches(Sas()).Select(m => m.Groups[1].Value + "/" + m.Groups[2].Value).ToList();

    [GeneratedRegex(@"\bin\s+([0-9a-f]{8})[^\n]*\n\s*out\s+([0-9a-f]{8})")]
    private static partial Regex ChildSpis();

    /// <summary>Stops charon with SIGKILL (no DELETE is sent: the peer is just gone, as DPD must detect).</summary>
    public void KillCharon()
    {
        string pidFile = Path.Combine(StrongSwanDir, "east", "pid");
        Testbed.Sh($"kill -KILL $(cat {pidFile}) && rm -f {pidFile}", check: false);
    }

    public string Diagnose() =>
        $"--- charon (east) ---\n{Tail(CharonLog, 60)}\n--- swanctl --list-sas ---\n{Sas()}\n--- fastpath (west) ---\n{Tail(Path.Combine(FastPathDir, "fastpath.log"), 60)}\n--- fastpath status ---\n{FastPathStatus()}\n--- west drops by reason ---\n{Drops()}";

    /// <summary>The daemon's drop counters by reason (counters.json, written every second), "reason=count" per line.</summary>
    public string Drops()
    {
        string file = Path.Combine(RunDir, "counters.json");
        if (!File.Exists(file)) return "(no counters.json)";
        try
        {
            using var d = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            return d.RootElement.TryGetProperty("drops", out var drops)
                ? string.Join("\n", drops.EnumerateObject().Where(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.Number && p.Value.GetInt64() != 0).Select(p => $"{p.Name}={p.Value}"))
                : "(no drops object)";
        }
        catch (System.Text.Json.JsonException e) { return $"(counters.json: {e.Message})"; }
        catch (IOException e) { return $"(counters.json: {e.Message})"; }
    }

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
