using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading;
using FastPath.Config;
using FastPath.Gateway.Control;
using FastPath.Gateway.Tests.Netns;

namespace FastPath.Gateway.Tests.Adversarial;

// Two real FastPath IKEv2 daemons (`fastpath start --config --secrets --rundir --foreground`, as
// `fastpath demo` runs them) on AttackBed's topology, so the attacker namespace sits on their public
// link: west initiates (auto=start), east responds. The IKE suites of the demo (aes128gcm16,
// prfsha256, x25519, PSK). Each side's conn %default can be extended (lifetimes, ...), and east can
// carry extra conns (a right=%any road-warrior conn, the target of the IKE DoS test).
// Status, counters and conn verbs go through the daemon's control socket (ControlClient, the protocol
// `fastpath status/replace/route/unroute` speak), so sampling costs no dotnet start per call.
// Dispose stops the daemons by PID (their process groups), then the AttackBed cleans up.

/// <summary>Two FastPath IKEv2 daemons with an attacker on their link.</summary>
public sealed class IkeBed : IDisposable
{
    public AttackBed Bed { get; }
    public Testbed Tb => Bed.Tb;
    public string Dir => Path.Combine(Tb.GatewayDir, "ike");
    // The rundir is Testbed's gateway directory of the side, so AttackBed.Counters (counters.json) reads it.
    public string RunDir(string side) => Path.Combine(Tb.GatewayDir, side);
    public string ConfPath(string side) => Path.Combine(Dir, side, "ipsec.conf");
    public string LogPath(string side) => Path.Combine(Dir, side, "fastpath.log");
    private readonly Dictionary<string, Process> _daemons = [];

    public IkeBed()
    {
        Bed = new AttackBed();
    }

    /// <summary>The ipsec.conf of one side: conns west-east (IPv4) and, with <paramref name="v6"/>, west-east-v6.</summary>
    public static string Conf(string side, string defaultsExtra = "", string extraConns = "", bool v6 = true)
    {
        bool west = side == "west";
        string me = west ? "203.0.113.1" : "203.0.113.2", peer = west ? "203.0.113.2" : "203.0.113.1";
        string mine4 = west ? "192.0.2.0/25" : "192.0.2.128/25", theirs4 = west ? "192.0.2.128/25" : "192.0.2.0/25";
        string mine6 = west ? "2001:db8:1::/64" : "2001:db8:2::/64", theirs6 = west ? "2001:db8:2::/64" : "2001:db8:1::/64";
        string extra = string.Join('\n', defaultsExtra.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "    " + l.Trim()));
        return $"""
            config setup
                uniqueids=yes

            conn %default
                ikev2=insist
                authby=secret
                ike=aes128gcm16-prfsha256-x25519
                esp=aes128gcm16
                left={me}
                leftid={me}
                right={peer}
                rightid={peer}
                auto={(west ? "start" : "add")}
            {extra}

            conn west-east
                leftsubnet={mine4}
                rightsubnet={theirs4}

            """.Replace("\r", "", StringComparison.Ordinal)
            + (v6 ? $"conn west-east-v6\n    leftsubnet={mine6}\n    rightsubnet={theirs6}\n\n" : "")
            + extraConns;
    }

    /// <summary>Writes both configs and secrets (a fresh PSK), checked with FastPath.Config first.</summary>
    public void Write(string westConf, string eastConf)
    {
        string psk = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        foreach (var (side, text) in new[] { ("west", westConf), ("east", eastConf) })
        {
            Directory.CreateDirectory(RunDir(side));
            Directory.CreateDirectory(Path.Combine(Dir, side));
            File.WriteAllText(ConfPath(side), text);
            string secrets = Path.Combine(Dir, side, "ipsec.secrets");
            File.WriteAllText(secrets, $"203.0.113.1 203.0.113.2 : PSK 0s{psk}\n%any 203.0.113.2 : PSK 0s{psk}\n");
            Testbed.Sh($"chmod 600 {secrets}");
            ConfigLoadResult r = IpsecConfLoader.TryLoad(ConfPath(side));
            if (r.Config is null || r.Errors.Any())
                throw new InvalidOperationException($"{side} ipsec.conf does not load:\n{string.Join("\n", r.Diagnostics)}\n{text}");
        }
    }

    /// <summary>Rewrites one side's ipsec.conf (for `replace`), checked first.</summary>
    public void Rewrite(string side, string conf)
    {
        File.WriteAllText(ConfPath(side) + ".tmp", conf);
        File.Move(ConfPath(side) + ".tmp", ConfPath(side), overwrite: true);
    }

    /// <summary>Starts both daemons and waits until west shows every conn in <paramref name="conns"/> ESTABLISHED with a CHILD_SA.</summary>
    public void Start(string[] conns, int timeoutMs = 60_000) => Start(conns, capture: false, timeoutMs);

    /// <summary>The IKE frames (UDP 500/4500, both directions) seen on west's port of the wire while the
    /// tunnel came up, when <see cref="Start(string[], bool, int)"/> was asked to capture them.</summary>
    public List<byte[]> Captured { get; } = [];

    public void Start(string[] conns, bool capture, int timeoutMs = 60_000) => Start(conns, capture, timeoutMs, until: null);

    /// <summary>As <see cref="Start(string[], bool, int)"/>, the capture going on after the tunnel is up
    /// until <paramref name="until"/> holds (polled every 200 ms, at most 60 s): e.g. until a rekey happened,
    /// to capture CREATE_CHILD_SA and INFORMATIONAL exchanges too.</summary>
    public void Start(string[] conns, bool capture, int timeoutMs, Func<bool>? until)
    {
        var cap = capture ? Bed.Capture(Bed.Wire, "wire-w", "'udp port 500 or udp port 4500'", 120) : default;
        try
        {
            StartDaemons(conns, timeoutMs);
            var sw = Stopwatch.StartNew();
            while (until is not null && !until() && sw.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(200);
        }
        finally
        {
            if (capture) Captured.AddRange(AttackBed.ReadPcap(Tb.EndCapture(cap)));
        }
    }

    private void StartDaemons(string[] conns, int timeoutMs)
    {
        foreach (string side in new[] { "east", "west" })
        {
            string ns = side == "west" ? Tb.West : Tb.East;
            _daemons[side] = Tb.Background($"ip netns exec {ns} {Testbed.FastPathCommand} start --config {ConfPath(side)} --secrets {Path.Combine(Dir, side, "ipsec.secrets")} --rundir {RunDir(side)} --foreground >{LogPath(side)} 2>&1");
        }
        var sw = Stopwatch.StartNew();
        while (true)
        {
            foreach (var (side, p) in _daemons)
                if (p.HasExited) throw new InvalidOperationException($"{side} daemon exited ({p.ExitCode}):\n{IkeInterop.Tail(LogPath(side))}");
            if (File.Exists(Path.Combine(RunDir("west"), "ready")) && File.Exists(Path.Combine(RunDir("east"), "ready")) && conns.All(c => Established("west", c)))
                return;
            if (sw.ElapsedMilliseconds > timeoutMs)
                throw new InvalidOperationException($"tunnel not established in {timeoutMs / 1000} s:\n--- west\n{IkeInterop.Tail(LogPath("west"))}\n--- east\n{IkeInterop.Tail(LogPath("east"))}");
            Thread.Sleep(300);
        }
    }

    /// <summary>Seconds until the daemon answers `status` again (polled with short timeouts), or -1 after <paramref name="maxSeconds"/>.</summary>
    public double StatusLatency(string side, int maxSeconds = 60)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < maxSeconds)
        {
            try { if (Control(side, "status", timeoutMs: 3000).Ok) return sw.Elapsed.TotalSeconds; }
            catch (Exception e) when (e is ControlClientException or IOException or TimeoutException) { }
            Thread.Sleep(200);
        }
        return -1;
    }

    public bool Alive(string side) => _daemons.TryGetValue(side, out var p) && !p.HasExited;

    /// <summary>One control request (what `fastpath VERB [NAME] --json` sends).</summary>
    public ControlResponse Control(string side, string verb, string? name = null, int timeoutMs = 10_000) =>
        ControlClient.Send(RunDir(side), new ControlRequest(verb, name, true), TimeSpan.FromMilliseconds(timeoutMs));

    /// <summary>`status --json` data (a detached copy).</summary>
    public JsonElement Status(string side)
    {
        ControlResponse r = Control(side, "status");
        if (!r.Ok || r.Data is not { } d) throw new InvalidOperationException($"{side} status failed: {r.Error}");
        return d.Clone();
    }

    public bool Established(string side, string conn)
    {
        try
        {
            JsonElement s = Status(side);
            if (!s.TryGetProperty("ike", out var ike) || ike.ValueKind != JsonValueKind.Object) return false;
            return ike.GetProperty("ike_sas").EnumerateArray().Any(sa => sa.GetProperty("connection").GetString() == conn
                && sa.GetProperty("state").GetString() == "ESTABLISHED" && sa.GetProperty("children").GetArrayLength() > 0);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException or KeyNotFoundException or ControlClientException)
        {
            return false;
        }
    }

    /// <summary>The engine counters (ike.counters: messages_in, invalid_messages, child_rekeys, cookies_sent, half_open, ...).</summary>
    public Dictionary<string, long> IkeCounters(string side) =>
        Status(side).GetProperty("ike").GetProperty("counters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    /// <summary>The daemon's memory report (status memory: gc_heap_bytes, gc_heap_after_last_full_gc_bytes, rss_bytes, ...).</summary>
    /// <summary>The control socket's `memory` verb: a full compacting GC first, so
    /// gc_heap_after_last_full_gc_bytes is the live heap.</summary>
    public Dictionary<string, long> Memory(string side)
    {
        ControlResponse r = Control(side, "memory");
        if (!r.Ok || r.Data is not { } d) throw new InvalidOperationException($"{side} memory failed: {r.Error}");
        return d.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
    }

    /// <summary>The outbound SPIs west/east hold now (ike.ike_sas[].children[].outbound_spi / inbound_spi).</summary>
    public HashSet<uint> Spis(string side)
    {
        var set = new HashSet<uint>();
        foreach (var sa in Status(side).GetProperty("ike").GetProperty("ike_sas").EnumerateArray())
            foreach (var ch in sa.GetProperty("children").EnumerateArray())
            {
                set.Add(ch.GetProperty("inbound_spi").GetUInt32());
                set.Add(ch.GetProperty("outbound_spi").GetUInt32());
            }
        return set;
    }

    public int Pid(string side) => int.Parse(File.ReadAllText(Path.Combine(RunDir(side), "pid")).Trim(), CultureInfo.InvariantCulture);

    /// <summary>VmRSS of a process in KiB (/proc/PID/status).</summary>
    public static long RssKiB(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>CPU time (utime+stime, clock ticks) of a process's threads, by thread name (/proc/PID/task/*/stat, comm).</summary>
    public static Dictionary<string, long> ThreadTicks(int pid)
    {
        var d = new Dictionary<string, long>();
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); }
            catch (IOException) { continue; }
            int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
            string name = stat[(open + 1)..close];
            string[] f = stat[(close + 2)..].Split(' ');
            long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture); // fields 14, 15
            d[name] = d.GetValueOrDefault(name) + ticks;
        }
        return d;
    }

    /// <summary>Whole-process CPU ticks (utime+stime of /proc/PID/stat).</summary>
    public static long ProcessTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var p in _daemons.Values)
        {
            try { Testbed.Stop(p); } catch (InvalidOperationException) { }
        }
        Bed.Dispose();
    }
}
