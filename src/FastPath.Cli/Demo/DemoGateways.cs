// The two FastPath gateways of the demo, one per gateway namespace (west, east), run as the real
// `fastpath` command — this very binary — under `ip netns exec`:
//
//   keying "manual":  fresh random keys ─► west.keys / east.keys (FreeS/WAN `ipsec spi` / `ipsec
//                     eroute` lines, docs/manual-keying.md; SPIs 0x1001/0x1002 outer IPv4,
//                     0x2001/0x2002 outer IPv6) ─► `fastpath manual --script … --rundir …`
//                     ─► ready = RUNDIR/ready; SAs = the script; counters = RUNDIR/counters.json
//   keying "ikev2":   ipsec.conf (Libreswan dialect: ikev2=insist, authby=secret,
//                     ike=aes128gcm16-prfsha256-x25519, esp=aes128gcm16) + ipsec.secrets (a fresh
//                     random PSK) per side, checked with FastPath.Config before anything starts
//                     ─► `fastpath start --config … --secrets … --rundir … --foreground`; west
//                     initiates (auto=start), east waits (auto=add)
//                     ─► ready = `fastpath status --rundir` shows an established IPsec SA;
//                        SAs = `fastpath spi`, eroutes = `fastpath eroute`
// Files live in RUNDIR (0700, secrets 0600) and are removed with it.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using FastPath.Config;
using FastPath.Crypto.Esp;

namespace FastPath.Cli.Demo;

internal sealed partial class DemoGateways : IDisposable
{
    // `ipsec eroute` format, as the manual gateway prints its table: "0   192.0.2.0/25 -> 192.0.2.128/25 => tun0x1002@203.0.113.2"
    [System.Text.RegularExpressions.GeneratedRegex(@"^\d+\s+\S+\s+->\s+\S+\s+=>\s+\S+$")]
    private static partial System.Text.RegularExpressions.Regex EroutLine();

    public const string IkeProposal = "aes128gcm16-prfsha256-x25519";
    public const string EspProposal = "aes128gcm16";
    private readonly DemoTopology _topo;
    private readonly string _dir;
    private readonly string _keying;
    private readonly string _suite;
    private readonly string _io;
    private readonly Dictionary<string, DemoProcess> _procs = [];

    public DemoGateways(DemoTopology topo, string dir, string keying, string suite, string io)
    {
        _topo = topo; _dir = dir; _keying = keying; _suite = suite; _io = io;
    }

    public IEnumerable<DemoProcess> Processes => _procs.Values;
    public string RunDir(string side) => Path.Combine(_dir, side);

    /// <summary>How this binary is started again: `dotnet fastpath.dll` (framework-dependent) or the apphost.</summary>
    public static IReadOnlyList<string> FastPathCommand()
    {
        string dll = typeof(DemoGateways).Assembly.Location;
        if (dll.Length > 0 && dll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            string? host = Environment.ProcessPath;
            if (host is null || Path.GetFileNameWithoutExtension(host) != "dotnet")
                host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : DemoShell.Which("dotnet") ?? "dotnet";
            return [host, dll];
        }
        return [Environment.ProcessPath ?? "fastpath"];
    }

    public async Task StartAsync(CancellationToken cancel)
    {
        foreach (string side in new[] { "west", "east" })
            DemoFiles.CreatePrivateDirectory(RunDir(side));
        var fp = FastPathCommand();
        if (_keying == "manual") WriteManualScripts();
        else WriteIkeConfigs();
        foreach (string side in new[] { "west", "east" })
        {
            var argv = new List<string> { "ip", "netns", "exec", _topo.Ns(side) };
            argv.AddRange(fp);
            if (_keying == "manual")
                argv.AddRange(["manual", "--script", Path.Combine(_dir, side + ".keys"), "--inside", "inside", "--outside", "outside",
                    "--rundir", RunDir(side), "--io", _io]);
            else
                argv.AddRange(["start", "--config", Path.Combine(_dir, side, "ipsec.conf"), "--secrets", Path.Combine(_dir, side, "ipsec.secrets"),
                    "--rundir", RunDir(side), "--foreground"]);
            _procs[side] = DemoProcess.StartLogged($"{side} gateway", argv, Path.Combine(_dir, side + ".log"));
        }
        await WaitUpAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>The gateway's log so far (for error messages).</summary>
    public string Log(string side)
    {
        string f = Path.Combine(_dir, side + ".log");
        try { return File.Exists(f) ? File.ReadAllText(f) : ""; }
        catch (IOException) { return ""; }
    }

    private async Task WaitUpAsync(CancellationToken cancel)
    {
        var sw = Stopwatch.StartNew();
        int limitMs = _keying == "manual" ? 30_000 : 45_000; // dotnet start-up ~1-3 s per gateway on 2 busy cores; IKE adds a few round trips
        var up = new HashSet<string>();
        while (up.Count < 2)
        {
            cancel.ThrowIfCancellationRequested();
            foreach (var (side, p) in _procs)
            {
                if (up.Contains(side)) continue;
                if (p.HasExited)
                    throw new DemoException($"the {side} gateway exited (code {p.ExitCode}) before it was ready:\n{Tail(Log(side))}");
                if (_keying == "manual" ? File.Exists(Path.Combine(RunDir(side), "ready")) : await IkeEstablishedAsync(side, cancel).ConfigureAwait(false))
                    up.Add(side);
            }
            if (up.Count == 2) break;
            if (sw.ElapsedMilliseconds > limitMs)
            {
                string which = string.Join(" and ", _procs.Keys.Where(s => !up.Contains(s)));
                throw new DemoException($"the {which} gateway was not {(_keying == "manual" ? "ready" : "showing an established IPsec SA")} after {limitMs / 1000} s:\n" +
                    string.Join("\n", _procs.Keys.Where(s => !up.Contains(s)).Select(s => $"--- {s}:\n{Tail(Log(s))}")));
            }
            await Task.Delay(_keying == "manual" ? 150 : 700, cancel).ConfigureAwait(false); // each status query starts a dotnet process
        }
    }

    // `fastpath status --rundir DIR --json`: up once an IKE SA is ESTABLISHED with at least one
    // CHILD_SA (IkeSaStatus.State, RFC 7296 phases; FastPath.Ike/Engine/IkeStatus.cs). Before the
    // control socket exists the verb fails; that is "not yet".
    private async Task<bool> IkeEstablishedAsync(string side, CancellationToken cancel)
    {
        if (!File.Exists(Path.Combine(RunDir(side), "ready")) && !Directory.EnumerateFileSystemEntries(RunDir(side)).Any()) return false;
        var argv = new List<string>(FastPathCommand()) { "status", "--rundir", RunDir(side), "--json" };
        var (code, output) = await DemoShell.RunAsync(argv, 15_000, cancel).ConfigureAwait(false);
        if (code != 0) return false;
        int start = output.IndexOf('{', StringComparison.Ordinal);
        if (start < 0) return false;
        try
        {
            using var doc = JsonDocument.Parse(output[start..]);
            return HasEstablishedChild(doc.RootElement);
        }
        catch (JsonException) { return false; }
    }

    internal static bool HasEstablishedChild(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Array) return e.EnumerateArray().Any(HasEstablishedChild);
        if (e.ValueKind != JsonValueKind.Object) return false;
        string? state = null;
        int children = 0;
        foreach (var p in e.EnumerateObject())
        {
            if (p.NameEquals("state") || p.Name.Equals("State", StringComparison.OrdinalIgnoreCase)) state = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
            if (p.Name.Equals("children", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.Array) children = p.Value.GetArrayLength();
        }
        if (children > 0 && string.Equals(state, "ESTABLISHED", StringComparison.OrdinalIgnoreCase)) return true;
        return e.EnumerateObject().Any(p => HasEstablishedChild(p.Value));
    }

    /// <summary>The SA table: `fastpath spi` (IKE) or the SAs of the manual script, keys masked.</summary>
    public async Task<IReadOnlyList<string>> SaTableAsync(string side, CancellationToken cancel)
    {
        if (_keying == "manual")
            return File.ReadAllLines(Path.Combine(_dir, side + ".keys")).Where(l => l.StartsWith("spi ", StringComparison.Ordinal))
                .Select(MaskKeys).ToArray();
        var (_, output) = await DemoShell.RunAsync([.. FastPathCommand(), "spi", "--rundir", RunDir(side)], 15_000, cancel).ConfigureAwait(false);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The eroutes (FreeS/WAN format): `fastpath eroute` (IKE), or what the manual gateway printed when it started.</summary>
    public async Task<IReadOnlyList<string>> ErouteTableAsync(string side, CancellationToken cancel)
    {
        if (_keying == "manual")
            return Log(side).Split('\n').Select(l => l.Trim()).Where(l => EroutLine().IsMatch(l)).Distinct().ToArray();
        var (_, output) = await DemoShell.RunAsync([.. FastPathCommand(), "eroute", "--rundir", RunDir(side)], 15_000, cancel).ConfigureAwait(false);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>RUNDIR/counters.json of the gateway (totals and drops by reason), or null.</summary>
    public GatewayCounters? Counters(string side)
    {
        string f = Path.Combine(RunDir(side), "counters.json");
        try
        {
            if (!File.Exists(f)) return null;
            using var doc = JsonDocument.Parse(File.ReadAllText(f));
            var totals = new Dictionary<string, long>();
            if (doc.RootElement.TryGetProperty("totals", out var t))
                foreach (var p in t.EnumerateObject()) if (p.Value.ValueKind == JsonValueKind.Number) totals[p.Name] = p.Value.GetInt64();
            var drops = new Dictionary<string, long>();
            if (doc.RootElement.TryGetProperty("drops", out var d))
                foreach (var p in d.EnumerateObject()) if (p.Value.ValueKind == JsonValueKind.Number) drops[p.Name] = p.Value.GetInt64();
            return new GatewayCounters(totals, drops);
        }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    /// <summary>Waits for the next counters.json write (the gateways write it every second).</summary>
    public async Task WaitForCountersAsync(CancellationToken cancel)
    {
        var before = _procs.Keys.ToDictionary(s => s, s => File.GetLastWriteTimeUtc(Path.Combine(RunDir(s), "counters.json")));
        for (int i = 0; i < 25 && before.Any(kv => File.GetLastWriteTimeUtc(Path.Combine(RunDir(kv.Key), "counters.json")) == kv.Value); i++)
            await Task.Delay(100, cancel).ConfigureAwait(false);
    }

    /// <summary>SIGTERM to each gateway by PID (they write their final counters), SIGKILL after 5 s.</summary>
    public void Stop()
    {
        foreach (var p in _procs.Values)
        {
            try { p.Stop(); }
            catch (InvalidOperationException) { } // already gone
        }
    }

    public void Dispose()
    {
        foreach (var p in _procs.Values) p.Dispose();
    }

    private void WriteManualScripts()
    {
        var suite = EspSuite.Parse(_suite);
        string Spi(string edst, string spi, string src)
        {
            string line = $"spi --edst {edst} --spi {spi} --src {src} --esp {_suite} --enckey 0x{Hex(suite.EncryptionKeyMaterialLength)}";
            return suite.IntegrityKeyLength > 0 ? line + $" --authkey 0x{Hex(suite.IntegrityKeyLength)}" : line;
        }
        // One set of keys in both scripts: west's outbound 0x1002 is east's inbound 0x1002.
        string[] sas =
        [
            Spi("203.0.113.2", "0x1002", "203.0.113.1"), Spi("203.0.113.1", "0x1001", "203.0.113.2"),
            Spi("2001:db8:ffff::2", "0x2002", "2001:db8:ffff::1"), Spi("2001:db8:ffff::1", "0x2001", "2001:db8:ffff::2"),
        ];
        WriteSecret(Path.Combine(_dir, "west.keys"), string.Join('\n', sas.Concat(
        [
            "eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said esp0x1002@203.0.113.2",
            "eroute --add --src 2001:db8:1::/64 --dst 2001:db8:2::/64 --said esp0x2002@2001:db8:ffff::2",
        ])) + "\n");
        WriteSecret(Path.Combine(_dir, "east.keys"), string.Join('\n', sas.Concat(
        [
            "eroute --add --src 192.0.2.128/25 --dst 192.0.2.0/25 --said esp0x1001@203.0.113.1",
            "eroute --add --src 2001:db8:2::/64 --dst 2001:db8:1::/64 --said esp0x2001@2001:db8:ffff::1",
        ])) + "\n");
    }

    /// <summary>The ipsec.conf text of one side (Libreswan dialect, IKEv2 PSK).</summary>
    public static string IpsecConf(string side)
    {
        bool west = side == "west";
        string me = west ? "203.0.113.1" : "203.0.113.2", peer = west ? "203.0.113.2" : "203.0.113.1";
        string mine4 = west ? "192.0.2.0/25" : "192.0.2.128/25", theirs4 = west ? "192.0.2.128/25" : "192.0.2.0/25";
        string mine6 = west ? "2001:db8:1::/64" : "2001:db8:2::/64", theirs6 = west ? "2001:db8:2::/64" : "2001:db8:1::/64";
        string auto = west ? "start" : "add";
        return $"""
            # fastpath demo: the {side} gateway (written by `fastpath demo`, removed with its run directory)
            config setup
                uniqueids=yes

            conn %default
                ikev2=insist
                authby=secret
                ike={IkeProposal}
                esp={EspProposal}
                left={me}
                leftid={me}
                right={peer}
                rightid={peer}
                auto={auto}

            conn west-east
                leftsubnet={mine4}
                rightsubnet={theirs4}

            conn west-east-v6
                leftsubnet={mine6}
                rightsubnet={theirs6}

            """.Replace("\r", "", StringComparison.Ordinal);
    }

    private void WriteIkeConfigs()
    {
        string psk = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        foreach (string side in new[] { "west", "east" })
        {
            string conf = Path.Combine(_dir, side, "ipsec.conf"), secrets = Path.Combine(_dir, side, "ipsec.secrets");
            File.WriteAllText(conf, IpsecConf(side));
            WriteSecret(secrets, $"# fastpath demo: a fresh random pre-shared key for this run\n203.0.113.1 203.0.113.2 : PSK 0s{psk}\n");
            // Checked by the parser the daemon uses, so a bad file is a clear message here, not a silent daemon exit.
            ConfigLoadResult r = IpsecConfLoader.TryLoad(conf);
            if (r.Config is null)
                throw new DemoException($"the generated {side} ipsec.conf does not load:\n{string.Join('\n', r.Diagnostics)}");
            try { IpsecSecrets.Load(secrets); }
            catch (ConfigException e) { throw new DemoException($"the generated {side} ipsec.secrets does not load:\n{e.Message}"); }
        }
    }

    private static void WriteSecret(string path, string text) => DemoFiles.WritePrivate(path, text);

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    private static string MaskKeys(string line)
    {
        var parts = line.Split(' ');
        for (int i = 0; i + 1 < parts.Length; i++)
            if (parts[i] is "--enckey" or "--authkey") parts[i + 1] = $"[{(parts[i + 1].Length - 2) / 2} bytes]";
        return string.Join(' ', parts);
    }

    internal static string Tail(string log, int lines = 15)
    {
        var l = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', l.Skip(Math.Max(0, l.Length - lines)));
    }
}

/// <summary>Files only the owner may read (keys, secrets) and directories only the owner may enter.</summary>
internal static class DemoFiles
{
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Created 0600 from the start (no window in which the umask's mode applies).</summary>
    public static void WritePrivate(string path, string text)
    {
        var o = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) o.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var fs = new FileStream(path, o);
        using var w = new StreamWriter(fs);
        w.Write(text);
    }
}

internal sealed record GatewayCounters(IReadOnlyDictionary<string, long> Totals, IReadOnlyDictionary<string, long> Drops)
{
    public long Total(string name) => Totals.TryGetValue(name, out long v) ? v : 0;
}
