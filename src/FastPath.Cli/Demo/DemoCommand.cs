// `fastpath demo` — the README's main command: a real tunnel between two FastPath gateways in
// network namespaces, shown end to end, then everything removed again.
//
//   checks: root? (exit 2)  ip, ping, iperf3, nft on PATH? (exit 3, with the Debian packages)
//   ─► topology   fp-demo-<rand>-{sunset,west,east,sunrise} (DemoTopology, DESIGN.md §5)
//   ─► gateways   `fastpath manual` or `fastpath start` per gateway namespace (DemoGateways)
//   ─► wait       until both are ready / the IKE SA is established
//   ─► ping       sunset ↔ sunrise, IPv4 and IPv6, both ways (DemoTraffic)
//   ─► iperf3     TCP sunset → sunrise for --seconds, live throughput per second
//   ─► report     throughput, the SA table, the eroutes, the gateways' counters (or --json)
//   ─► teardown   iperf3 and gateways by PID (SIGTERM, then SIGKILL), the namespaces, the run
//                 directory — in a finally, so also on failure and on Ctrl-C / SIGTERM / the
//                 caller's CancellationToken; a ProcessExit hook repeats it should the host exit first
// Exit codes: 0 tunnel carried traffic, 1 a step failed or nothing crossed, 2 not root / bad
// options, 3 tools missing, 130 interrupted.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;

namespace FastPath.Cli.Demo;

/// <summary>Options of `fastpath demo`.</summary>
public sealed class DemoOptions
{
    /// <summary>Seconds of traffic.</summary>
    public int Seconds { get; init; } = 5;
    /// <summary>manual | ikev2. Default manual until the IKE daemon runs tunnels (see docs/demo.md).</summary>
    public string Keying { get; init; } = DemoCommand.DefaultKeying;
    public string Io { get; init; } = "afpacket";
    /// <summary>Keep the namespaces for inspection (printed how to delete them).</summary>
    public bool Keep { get; init; }
    public bool Json { get; init; }
    /// <summary>ESP suite of the manual keys (strongSwan proposal names; default aes128gcm16).</summary>
    public string Suite { get; init; } = "aes128gcm16";
    /// <summary>Where the report goes (default Console.Out); anything but the console is non-interactive.</summary>
    public TextWriter? Output { get; init; }
    /// <summary>Where errors (and, with --json, the progress lines) go (default Console.Error).</summary>
    public TextWriter? Error { get; init; }
}

public static class DemoCommand
{
    /// <summary>The keying the demo uses unless told otherwise.</summary>
    public const string DefaultKeying = "ikev2";
    private static readonly string[] RequiredTools = ["ip", "ping", "iperf3", "nft"];
    private static readonly Dictionary<string, string> DebianPackage = new()
    {
        ["ip"] = "iproute2", ["ping"] = "iputils-ping", ["iperf3"] = "iperf3", ["nft"] = "nftables",
    };

    /// <summary>The ipsec.conf the IKEv2 demo writes for <paramref name="side"/> (west or east).</summary>
    public static string IpsecConf(string side) => DemoGateways.IpsecConf(side);

    /// <summary>Runs the demo; returns the process exit code.</summary>
    public static async Task<int> RunAsync(DemoOptions options, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(options);
        TextWriter stdout = options.Output ?? Console.Out, stderr = options.Error ?? Console.Error;
        bool interactive = options.Output is null && !Console.IsOutputRedirected && !options.Json;

        if (options.Seconds is < 1 or > 120) { stderr.WriteLine($"fastpath demo: --seconds {options.Seconds}: expected 1..120"); return 2; }
        if (options.Keying is not ("manual" or "ikev2")) { stderr.WriteLine($"fastpath demo: --keying '{options.Keying}': expected manual or ikev2"); return 2; }
        if (options.Io is not ("afpacket" or "afxdp" or "auto")) { stderr.WriteLine($"fastpath demo: --io '{options.Io}': expected afpacket, afxdp or auto"); return 2; }
        // --suite picks the manual keys' suite; IKEv2 negotiates its own (IkeProposal / EspProposal), but a bad
        // value is refused either way rather than silently ignored.
        try { Crypto.Esp.EspSuite.Parse(options.Suite); }
        catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException) { stderr.WriteLine($"fastpath demo: --suite '{options.Suite}': {e.Message}"); return 2; }
        if (Libc.geteuid() != 0)
        {
            stderr.WriteLine("fastpath demo: needs root (it creates network namespaces, opens raw packet sockets and loads an nft table):");
            stderr.WriteLine("               run it as root, e.g. `sudo fastpath demo` or `sudo ./run.sh demo`");
            return 2;
        }
        var missing = RequiredTools.Where(t => DemoShell.Which(t) is null).ToList();
        if (missing.Count > 0)
        {
            stderr.WriteLine($"fastpath demo: missing {string.Join(", ", missing)} — install the Debian packages " +
                $"{string.Join(" ", missing.Select(t => DebianPackage[t]))} (`./run.sh demo` installs them):");
            stderr.WriteLine($"  apt-get install -y --no-install-recommends {string.Join(" ", missing.Select(t => DebianPackage[t]))}");
            return 3;
        }

        IAnsiConsole console = interactive ? AnsiConsole.Console : AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(options.Json ? stderr : stdout),
        });
        if (!interactive) console.Profile.Width = 200;

        string tag = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
        string dir = Path.Combine(Path.GetTempPath(), "fp-" + tag);
        var topo = new DemoTopology(tag);
        var summary = new DemoSummary { Tag = tag, Keying = options.Keying, Suite = options.Keying == "manual" ? options.Suite : $"{DemoGateways.IkeProposal} / {DemoGateways.EspProposal}", Seconds = options.Seconds };
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        DemoGateways? gateways = null;
        var extra = new List<DemoProcess>();
        // Every step on its own: one that fails must not keep the next from running.
        var teardown = new Teardown(stderr,
            () => { lock (extra) foreach (var p in extra) p.Stop(1000); },
            () => { if (!options.Keep) gateways?.Stop(); },
            () => { if (!options.Keep) topo.Down(); },
            () => { if (!options.Keep && Directory.Exists(dir)) Directory.Delete(dir, recursive: true); });
        ConsoleCancelEventHandler onCtrlC = (_, e) => { e.Cancel = true; run.Cancel(); };
        EventHandler onExit = (_, _) => teardown.Run();
        Console.CancelKeyPress += onCtrlC;
        AppDomain.CurrentDomain.ProcessExit += onExit;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; run.Cancel(); });
        int code;
        try
        {
            CancellationToken ct = run.Token;
            DemoFiles.CreatePrivateDirectory(dir);
            Step(console, interactive, $"topology: sunset 192.0.2.10 — west 203.0.113.1 ═ east 203.0.113.2 — sunrise 192.0.2.138 (namespaces fp-{tag}-*)");
            await topo.UpAsync(ct).ConfigureAwait(false);
            foreach (string n in topo.Notes) console.WriteLine("  note: " + n);

            Step(console, interactive, options.Keying == "manual"
                ? $"two FastPath gateways, manual keys ({options.Suite}, fresh random keys; fastpath manual)"
                : $"two FastPath gateways, IKEv2 with a fresh PSK ({DemoGateways.IkeProposal}, esp={DemoGateways.EspProposal}; fastpath start)");
            gateways = new DemoGateways(topo, dir, options.Keying, options.Suite, options.Io);
            var started = System.Diagnostics.Stopwatch.StartNew();
            await gateways.StartAsync(ct).ConfigureAwait(false);
            summary.TunnelUpMs = started.ElapsedMilliseconds;
            foreach (var p in gateways.Processes)
            {
                summary.Processes.Add((p.Name, p.Pid));
                console.WriteLine($"  {p.Name}: pid {p.Pid}");
            }
            console.WriteLine($"  tunnel up after {summary.TunnelUpMs / 1000.0:F1} s");

            Step(console, interactive, "ping through the tunnel (IPv4, IPv6, both directions)");
            (string Ns, string From, string To)[] pings =
            [
                (topo.Sunset, "sunset", "192.0.2.138"), (topo.Sunset, "sunset", "2001:db8:2::138"),
                (topo.Sunrise, "sunrise", "192.0.2.10"), (topo.Sunrise, "sunrise", "2001:db8:1::10"),
            ];
            foreach (var (ns, from, to) in pings)
            {
                PingResult r = await DemoTraffic.PingAsync(ns, from, to, ct).ConfigureAwait(false);
                summary.Pings.Add(r);
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {from,-8} -> {to,-16} {r.Received}/{r.Sent} replies{(double.IsNaN(r.AvgRttMs) ? "" : $", rtt avg {r.AvgRttMs:F2} ms")}"));
            }

            Step(console, interactive, $"iperf3 TCP sunset -> sunrise, {options.Seconds} s");
            void Track(DemoProcess p) { lock (extra) extra.Add(p); summary.Processes.Add((p.Name, p.Pid)); }
            IperfResult iperf;
            if (interactive)
            {
                IperfResult? result = null;
                await console.Progress().AutoClear(false).HideCompleted(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask("iperf3 TCP  starting", maxValue: options.Seconds);
                        result = await DemoTraffic.IperfAsync(topo.Sunset, topo.Sunrise, "192.0.2.138", options.Seconds, iv =>
                        {
                            task.Value = Math.Min(options.Seconds, iv.End);
                            task.Description = string.Create(CultureInfo.InvariantCulture, $"iperf3 TCP  {iv.Mbits,8:F0} Mbit/s  ({iv.Start:F0}-{iv.End:F0} s)");
                        }, Track, ct).ConfigureAwait(false);
                        task.Value = options.Seconds;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"iperf3 TCP  {result.ReceiverMbits,8:F0} Mbit/s  (received, {result.Seconds:F0} s)");
                    }).ConfigureAwait(false);
                iperf = result!;
            }
            else
            {
                iperf = await DemoTraffic.IperfAsync(topo.Sunset, topo.Sunrise, "192.0.2.138", options.Seconds,
                    iv => console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {iv.Start,5:F1}-{iv.End,-5:F1} s  {iv.Mbits,8:F1} Mbit/s")), Track, ct).ConfigureAwait(false);
            }
            summary.Iperf = iperf;
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  throughput: {iperf.ReceiverMbits:F1} Mbit/s received, {iperf.SenderMbits:F1} Mbit/s sent, {iperf.Retransmits} retransmits"));

            await gateways.WaitForCountersAsync(ct).ConfigureAwait(false);
            foreach (string side in new[] { "west", "east" })
            {
                summary.Sas[side] = await gateways.SaTableAsync(side, ct).ConfigureAwait(false);
                summary.Eroutes[side] = await gateways.ErouteTableAsync(side, ct).ConfigureAwait(false);
                summary.Counters[side] = gateways.Counters(side);
            }
            Step(console, interactive, "SA table");
            foreach (string side in new[] { "west", "east" })
                foreach (string l in summary.Sas[side]) console.WriteLine($"  {side}: {l}");
            Step(console, interactive, "eroutes");
            foreach (string side in new[] { "west", "east" })
                foreach (string l in summary.Eroutes[side]) console.WriteLine($"  {side}: {l}");
            Step(console, interactive, "gateway counters");
            RenderCounters(console, interactive, summary);

            bool crossed = summary.Pings.All(p => p.Received > 0) && iperf.ReceiverMbits > 0;
            summary.Result = crossed ? "ok" : "failed";
            if (!crossed) summary.Error = "traffic did not cross the tunnel (see the ping and iperf3 lines and the drop counters)";
            code = crossed ? 0 : 1;
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            summary.Result = "cancelled";
            summary.Error = "interrupted";
            stderr.WriteLine("fastpath demo: interrupted; tearing down");
            code = 130;
        }
        catch (DemoException e)
        {
            summary.Result = "failed";
            summary.Error = e.Message;
            stderr.WriteLine($"fastpath demo: {e.Message}");
            code = 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            summary.Result = "failed";
            summary.Error = $"{e.GetType().Name}: {e.Message}";
            stderr.WriteLine($"fastpath demo: {summary.Error}");
            code = 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
            if (!options.Keep) Step(console, interactive, "tearing down (gateways and iperf3 by PID, then the namespaces)");
            teardown.Run();
            AppDomain.CurrentDomain.ProcessExit -= onExit;
            gateways?.Dispose();
            lock (extra) foreach (var p in extra) p.Dispose();
        }

        if (options.Keep && topo.Created)
        {
            string pids = gateways is null ? "" : string.Join(" ", gateways.Processes.Where(p => !p.HasExited).Select(p => p.Pid));
            console.WriteLine($"  kept: namespaces fp-{tag}-{{sunset,west,east,sunrise}}, run directory {dir}{(pids.Length > 0 ? $", gateway PIDs {pids}" : "")}");
            console.WriteLine($"  remove with: {(pids.Length > 0 ? $"kill {pids}; " : "")}for n in sunset west east sunrise; do ip netns del fp-{tag}-$n; done; rm -rf {dir}");
        }
        else
        {
            summary.NamespacesLeft = DemoTopology.Existing(tag);
            if (topo.Stragglers.Count > 0) console.WriteLine($"  note: killed {topo.Stragglers.Count} process(es) still in the namespaces: {string.Join(" ", topo.Stragglers)}");
            console.WriteLine(summary.NamespacesLeft.Count == 0 ? "  done: no fp-" + tag + "-* namespace left" : "  WARNING: left behind: " + string.Join(", ", summary.NamespacesLeft));
            if (summary.NamespacesLeft.Count > 0 && code == 0) code = 1;
        }
        if (options.Json) stdout.WriteLine(summary.ToJson());
        stdout.Flush();
        return code;
    }

    private static void Step(IAnsiConsole console, bool interactive, string title)
    {
        if (interactive) console.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
        else console.WriteLine("== " + title);
    }

    private static void RenderCounters(IAnsiConsole console, bool interactive, DemoSummary s)
    {
        string[] names = ["RxInside", "Encapsulated", "TxOutside", "RxOutside", "Decapsulated", "TxInside"];
        var table = new Table().AddColumn("gateway");
        if (!interactive) table.Border(TableBorder.Ascii);
        foreach (string n in names) table.AddColumn(new TableColumn(n).RightAligned());
        table.AddColumn("drops");
        foreach (string side in new[] { "west", "east" })
        {
            GatewayCounters? c = s.Counters.GetValueOrDefault(side);
            if (c is null) { table.AddRow(side, "(no counters.json)"); continue; }
            var row = new List<string> { side };
            row.AddRange(names.Select(n => c.Total(n).ToString("N0", CultureInfo.InvariantCulture)));
            row.Add(c.Drops.Count == 0 || c.Drops.Values.All(v => v == 0) ? "none" : string.Join(", ", c.Drops.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}")));
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }
        console.Write(table);
    }

    /// <summary>Runs the teardown once, whoever asks first (the finally, or ProcessExit if the host is leaving).</summary>
    // A second caller (ProcessExit while the finally is mid-way) waits for the first to finish,
    // so the host cannot exit with namespaces half removed.
    private sealed class Teardown(TextWriter stderr, params Action[] steps)
    {
        private readonly Lock _gate = new();
        private bool _done;
        public void Run()
        {
            lock (_gate)
            {
                if (_done) return;
                _done = true;
                RunSteps();
            }
        }

        private void RunSteps()
        {
            foreach (Action step in steps)
            {
                try { step(); }
                catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or DemoException)
                {
                    stderr.WriteLine($"fastpath demo: teardown: {e.Message}");
                }
            }
        }
    }
}

/// <summary>What `fastpath demo --json` prints.</summary>
internal sealed class DemoSummary
{
    public string Tag { get; set; } = "";
    public string Keying { get; set; } = "";
    public string Suite { get; set; } = "";
    public int Seconds { get; set; }
    public string Result { get; set; } = "failed";
    public string? Error { get; set; }
    public long TunnelUpMs { get; set; }
    public List<PingResult> Pings { get; } = [];
    public IperfResult? Iperf { get; set; }
    public Dictionary<string, IReadOnlyList<string>> Sas { get; } = [];
    public Dictionary<string, IReadOnlyList<string>> Eroutes { get; } = [];
    public Dictionary<string, GatewayCounters?> Counters { get; } = [];
    public IReadOnlyList<string> NamespacesLeft { get; set; } = [];
    public List<(string Name, int Pid)> Processes { get; } = [];

    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["result"] = Result,
        ["error"] = Error,
        ["tag"] = Tag,
        ["namespaces"] = DemoTopology.Roles.Select(r => $"fp-{Tag}-{r}").ToArray(),
        ["keying"] = Keying,
        ["suite"] = Suite,
        ["seconds"] = Seconds,
        ["tunnel_up_ms"] = TunnelUpMs,
        ["pings"] = Pings.Select(p => new { from = p.From, to = p.To, sent = p.Sent, received = p.Received, avg_rtt_ms = double.IsNaN(p.AvgRttMs) ? (double?)null : p.AvgRttMs }).ToArray(),
        ["iperf3"] = Iperf is null ? null : new
        {
            seconds = Iperf.Seconds, receiver_mbits = Iperf.ReceiverMbits, sender_mbits = Iperf.SenderMbits, retransmits = Iperf.Retransmits,
            intervals = Iperf.Intervals.Select(i => new { start = i.Start, end = i.End, mbits = i.Mbits }).ToArray(),
        },
        ["sas"] = Sas,
        ["eroutes"] = Eroutes,
        ["counters"] = Counters.ToDictionary(kv => kv.Key, kv => kv.Value is null ? null : new { totals = kv.Value.Totals, drops = kv.Value.Drops }),
        ["processes"] = Processes.Select(p => new { name = p.Name, pid = p.Pid }).ToArray(),
        ["namespaces_left"] = NamespacesLeft,
    }, new JsonSerializerOptions { WriteIndented = true });
}
