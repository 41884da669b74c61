using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using FastPath.Gateway.Tests.Netns;

namespace FastPath.Gateway.Tests.Adversarial;

// The testbed of the adversarial suite: Testbed's four namespaces with the public link turned into
// a bridge that also has an attacker port (perf-scripts/lib/attacker.sh):
//   west:outside ─ wire-w ┐
//   east:outside ─ wire-e ┼ br0 in fp-TAG-wire
//   attacker:eth0 ─ wire-a┘ (203.0.113.66, 2001:db8:ffff::66)
// It also starts and stops single gateways from a given manual-keying script (restarts with the
// same or new keys, SIGTERM or SIGKILL), writing the same rundir files fastpath.sh uses, so
// Testbed's Dispose (fastpath.sh down, by PID) still cleans up. Dispose deletes the two extra
// namespaces, also when the test failed.

/// <summary>Testbed + attacker namespace on the public link.</summary>
public sealed partial class AttackBed : IDisposable
{
    public Testbed Tb { get; }
    public string Attacker => $"fp-{Tb.Tag}-attacker";
    public string Wire => $"fp-{Tb.Tag}-wire";
    public static string Oracle(string name) => Path.Combine(AppContext.BaseDirectory, "Oracle", name);
    private static string AttackerSh => Path.Combine(Testbed.RepoRoot, "perf-scripts", "lib", "attacker.sh");

    public AttackBed()
    {
        Tb = new Testbed();
        try
        {
            Testbed.Sh($"{AttackerSh} up {Tb.Tag}", timeoutMs: 60_000);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Mac(string ns, string iface) => Testbed.Sh($"ip netns exec {ns} cat /sys/class/net/{iface}/address").Trim();

    public string RunDir(string side) => Path.Combine(Tb.GatewayDir, side);

    /// <summary>The gateway's PID (the rundir's pid file, which the gateway itself also rewrites at start).</summary>
    public int Pid(string side)
    {
        string f = Path.Combine(RunDir(side), "pid");
        for (int i = 0; ; i++)
        {
            if (int.TryParse(File.Exists(f) ? File.ReadAllText(f).Trim() : "", NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return pid;
            if (i > 100) throw new InvalidOperationException($"no PID in {f}");
            Thread.Sleep(10);
        }
    }

    private readonly HashSet<int> _started = [];

    public bool Alive(string side) => File.Exists(Path.Combine(RunDir(side), "pid")) && Testbed.Sh($"kill -0 {Pid(side)} 2>/dev/null && echo yes", check: false).Trim() == "yes";

    /// <summary>Starts one gateway (west|east) from <paramref name="script"/> and waits for its ready file.</summary>
    public void StartGateway(string side, string script, int timeoutMs = 20_000)
    {
        string d = RunDir(side);
        Directory.CreateDirectory(d);
        File.Delete(Path.Combine(d, "ready"));
        string ns = side == "west" ? Tb.West : Tb.East;
        string pid = Testbed.Sh($"ip netns exec {ns} {Testbed.FastPathCommand} manual --script {script} --inside inside --outside outside --rundir {d} >>{d}/stdout 2>&1 </dev/null & echo $! >{d}/pid; echo $!").Trim();
        lock (_started) _started.Add(int.Parse(pid, CultureInfo.InvariantCulture));
        for (int waited = 0; !File.Exists(Path.Combine(d, "ready")); waited += 50)
        {
            if (waited > timeoutMs || !Alive(side)) throw new InvalidOperationException($"gateway {side} did not start:\n" + File.ReadAllText(Path.Combine(d, "stdout")));
            Thread.Sleep(50);
        }
    }

    /// <summary>Starts both gateways at once (each from its script) and waits for both.</summary>
    public void StartGateways(string westScript, string eastScript, int timeoutMs = 20_000)
    {
        Exception? error = null;
        var t = new Thread(() => { try { StartGateway("east", eastScript, timeoutMs); } catch (Exception e) { error = e; } });
        t.Start();
        StartGateway("west", westScript, timeoutMs);
        t.Join();
        if (error is not null) throw new InvalidOperationException("east: " + error.Message, error);
    }

    /// <summary>A capture bounded by <paramref name="seconds"/> (Testbed.Capture's is 60 s).</summary>
    public (System.Diagnostics.Process Process, string File) Capture(string ns, string iface, string filter, int seconds)
    {
        string file = Path.Combine(Path.GetTempPath(), $"fp-{Tb.Tag}-{ns}-{iface}-{Random.Shared.Next():x}.pcap");
        var p = Tb.Background($"ip netns exec {ns} timeout {seconds} tcpdump -U --immediate-mode -n -i {iface} -w {file} {filter}");
        Thread.Sleep(1000);
        return (p, file);
    }

    /// <summary>iperf3 sunset → <paramref name="target"/> (server on sunrise), like Testbed.Iperf but
    /// waiting until the server listens (on this loaded machine 400 ms were not always enough).</summary>
    public JsonDocument Iperf(string target, string args, int seconds)
    {
        int port = 5600 + Random.Shared.Next(0, 300);
        var server = Tb.Background($"ip netns exec {Tb.Sunrise} timeout {seconds + 30} iperf3 -s -1 -p {port}");
        try
        {
            for (int i = 0; i < 100 && !Testbed.Sh($"ip netns exec {Tb.Sunrise} ss -ltnH 'sport = :{port}'", check: false).Contains(port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal); i++)
                Thread.Sleep(100);
            string json = Testbed.Sh($"ip netns exec {Tb.Sunset} timeout {seconds + 20} iperf3 -c {target} -p {port} -t {seconds} -J {args}", check: false, timeoutMs: (seconds + 30) * 1000);
            return JsonDocument.Parse(json);
        }
        finally
        {
            Testbed.Stop(server);
        }
    }

    /// <summary>Signals a gateway (TERM or KILL) and waits until the process is gone.</summary>
    public void Signal(string side, string signal)
    {
        int pid = Pid(side);
        Testbed.Sh($"kill -{signal} {pid} 2>/dev/null; for i in $(seq 200); do kill -0 {pid} 2>/dev/null || exit 0; sleep 0.05; done; kill -KILL {pid} 2>/dev/null; true");
    }

    /// <summary>The SA keys (hex) of <paramref name="spi"/> in a manual-keying script.</summary>
    public static string Key(string script, uint spi)
    {
        var s = Manual.ManualKeyScript.Parse(File.ReadAllText(script));
        return Convert.ToHexString(s.Sas.Single(x => x.Spi == spi).KeyMaterial).ToLowerInvariant();
    }

    /// <summary>
    /// Writes west/east scripts of an AES-128-GCM tunnel pair (the shape of fastpath.sh's) with fresh
    /// random keys into <paramref name="dir"/>: IPv4 SPIs (west→east, east→west) and IPv6 SPIs as given.
    /// </summary>
    public static (string West, string East) WriteScripts(string dir, uint v4WestToEast = 0x1002, uint v4EastToWest = 0x1001, uint v6WestToEast = 0x2002, uint v6EastToWest = 0x2001)
    {
        Directory.CreateDirectory(dir);
        static string K() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();
        string sas = string.Join('\n',
            $"spi --edst 203.0.113.2 --spi 0x{v4WestToEast:x} --src 203.0.113.1 --esp aes128gcm16 --enckey 0x{K()}",
            $"spi --edst 203.0.113.1 --spi 0x{v4EastToWest:x} --src 203.0.113.2 --esp aes128gcm16 --enckey 0x{K()}",
            $"spi --edst 2001:db8:ffff::2 --spi 0x{v6WestToEast:x} --src 2001:db8:ffff::1 --esp aes128gcm16 --enckey 0x{K()}",
            $"spi --edst 2001:db8:ffff::1 --spi 0x{v6EastToWest:x} --src 2001:db8:ffff::2 --esp aes128gcm16 --enckey 0x{K()}");
        string west = Path.Combine(dir, "west.keys"), east = Path.Combine(dir, "east.keys");
        File.WriteAllText(west, sas + "\n" +
            $"eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said esp0x{v4WestToEast:x}@203.0.113.2\n" +
            $"eroute --add --src 2001:db8:1::/64 --dst 2001:db8:2::/64 --said esp0x{v6WestToEast:x}@2001:db8:ffff::2\n");
        File.WriteAllText(east, sas + "\n" +
            $"eroute --add --src 192.0.2.128/25 --dst 192.0.2.0/25 --said esp0x{v4EastToWest:x}@203.0.113.1\n" +
            $"eroute --add --src 2001:db8:2::/64 --dst 2001:db8:1::/64 --said esp0x{v6EastToWest:x}@2001:db8:ffff::1\n");
        Testbed.Sh($"chmod 600 {west} {east}");
        return (west, east);
    }

    /// <summary>A snapshot of a gateway's counters.json: totals, drops by reason, RX ring drops of the outside port.</summary>
    public sealed record Snapshot(Dictionary<string, long> Totals, Dictionary<string, long> Drops, long OutsideRingDrops, long InsideRingDrops)
    {
        public long Drop(string reason) => Drops.GetValueOrDefault(reason);
        public long Total(string name) => Totals.GetValueOrDefault(name);
        public Snapshot Minus(Snapshot before) => new(
            Totals.ToDictionary(kv => kv.Key, kv => kv.Value - before.Total(kv.Key)),
            Drops.Keys.Union(before.Drops.Keys).ToDictionary(k => k, k => Drop(k) - before.Drop(k)),
            OutsideRingDrops - before.OutsideRingDrops, InsideRingDrops - before.InsideRingDrops);
        public string Describe() => string.Join(", ", Drops.Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}")) + $"; ringDrops outside={OutsideRingDrops} inside={InsideRingDrops}; " +
            string.Join(", ", Totals.Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}"));
    }

    /// <summary>Reads counters.json after its next write (so everything counted so far is in it).</summary>
    public Snapshot Counters(string side)
    {
        Tb.WaitForCounters(side);
        Tb.WaitForCounters(side);
        using JsonDocument d = Tb.Counters(side);
        var totals = d.RootElement.GetProperty("totals").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        var drops = d.RootElement.GetProperty("drops").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        var io = d.RootElement.GetProperty("io").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
        long Ring(string s) { var m = RingDrops().Match(s); return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0; }
        // io lines: inside port then outside port (per worker: pairs).
        long inside = 0, outside = 0;
        for (int i = 0; i < io.Length; i++) { if (i % 2 == 0) inside += Ring(io[i]); else outside += Ring(io[i]); }
        return new Snapshot(totals, drops, outside, inside);
    }

    [GeneratedRegex(@"ringDrops (\d+)")]
    private static partial Regex RingDrops();

    /// <summary>Frames of a pcap file (classic libpcap format, Ethernet link type).</summary>
    public static List<byte[]> ReadPcap(string file)
    {
        byte[] b = File.ReadAllBytes(file);
        var frames = new List<byte[]>();
        if (b.Length < 24) return frames;
        bool swapped = BitConverter.ToUInt32(b, 0) is 0xd4c3b2a1 or 0x4d3cb2a1;
        uint U32(int at) { uint v = BitConverter.ToUInt32(b, at); return swapped ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v) : v; }
        for (int at = 24; at + 16 <= b.Length;)
        {
            int caplen = (int)U32(at + 8);
            at += 16;
            if (at + caplen > b.Length) break;
            frames.Add(b.AsSpan(at, caplen).ToArray());
            at += caplen;
        }
        return frames;
    }

    /// <summary>Runs an Oracle python script (/usr/bin/python3 for Debian's scapy) and returns its stdout lines.</summary>
    public static List<string> Python(string ns, string script, string args, int timeoutMs = 120_000)
    {
        string prefix = ns.Length > 0 ? $"ip netns exec {ns} " : "";
        string o = Testbed.Sh($"{prefix}/usr/bin/python3 {Oracle(script)} {args}", timeoutMs: timeoutMs);
        return o.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    public static List<byte[]> HexFrames(IEnumerable<string> lines) => lines.Where(l => l.Length > 0 && Uri.IsHexDigit(l[0])).Select(Convert.FromHexString).ToList();

    /// <summary>Frames in a pcap whose (outer) IPv4/IPv6 source is in a protected subnet, as tshark decodes them: "cleartext on the public link".</summary>
    public static string ProtectedSources(string pcap) =>
        Testbed.Sh($"tshark -n -r {pcap} -Y 'ip.src == 192.0.2.0/24 or ip.dst == 192.0.2.0/24 or ipv6.src == 2001:db8:1::/64 or ipv6.src == 2001:db8:2::/64 or ipv6.dst == 2001:db8:1::/64 or ipv6.dst == 2001:db8:2::/64' -T fields -e frame.number -e ip.src -e ip.dst -e ipv6.src -e _ws.col.Protocol", timeoutMs: 120_000).Trim();

    /// <summary>Frames in a pcap of a protected flow (sunset's subnet ↔ sunrise's, either family) outside ESP: a leak even where a %pass eroute lets other cleartext out.</summary>
    public static string ProtectedFlows(string pcap) =>
        Testbed.Sh($"tshark -n -r {pcap} -Y '(ip.src == 192.0.2.0/25 and ip.dst == 192.0.2.128/25) or (ip.src == 192.0.2.128/25 and ip.dst == 192.0.2.0/25) or (ipv6.src == 2001:db8:1::/64 and ipv6.dst == 2001:db8:2::/64) or (ipv6.src == 2001:db8:2::/64 and ipv6.dst == 2001:db8:1::/64)' -T fields -e frame.number -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e _ws.col.Protocol", timeoutMs: 120_000).Trim();

    public static int CountFrames(string pcap, string displayFilter = "") =>
        Testbed.Sh($"tshark -n -r {pcap} {(displayFilter.Length > 0 ? $"-Y '{displayFilter}'" : "")} -T fields -e frame.number | wc -l", timeoutMs: 120_000).Trim() is var s && int.TryParse(s, out int n) ? n : -1;

    public void Dispose()
    {
        // The gateways this bed started, by PID (TERM, then KILL).
        int[] pids;
        lock (_started) pids = [.. _started];
        // Only a PID whose command line still names this bed's rundir is ours (no PID-reuse accidents).
        string mine = string.Join(' ', pids);
        if (pids.Length > 0)
            Testbed.Sh("ours() { tr '\\0' ' ' </proc/$1/cmdline 2>/dev/null | grep -q -- '" + Tb.GatewayDir + "/'; }; " +
                       $"for p in {mine}; do ours $p && kill -TERM $p; done; " +
                       $"for i in $(seq 100); do alive=0; for p in {mine}; do ours $p && alive=1; done; [ $alive = 0 ] && break; sleep 0.05; done; " +
                       $"for p in {mine}; do ours $p && kill -KILL $p; done; true", check: false);
        Tb.Dispose();
        Testbed.Sh($"{AttackerSh} down {Tb.Tag}", check: false);
    }
}
