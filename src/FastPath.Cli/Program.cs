using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;
using System.Threading;
using FastPath.Crypto;
using FastPath.Crypto.Diagnostics;
using FastPath.Gateway.Control;

namespace FastPath.Cli;

// The `fastpath` command tree (System.CommandLine 2.0.0), after FreeS/WAN's `ipsec` family:
//   daemon:      start stop restart                 (DaemonVerbs)
//   conns:       up down add delete route unroute replace NAME, auto --up NAME ... (FreeS/WAN aliases)
//   listings:    status trafficstatus eroute spi look barf counters metrics   (--json each)
//   reloads:     reload rereadsecrets rereadgroups
//   local:       verify bench (headline numbers; --suites: the suite table) engines manual demo newhostkey showhostkey
// Every daemon verb takes --rundir DIR (default /run/fastpath). Parse errors → exit 2 with the
// parser's message; the documented exit codes are in Gateway/Control/ControlProtocol.cs (ExitCodes).

internal static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    public const string DefaultRunDirectory = "/run/fastpath";

    private static int Main(string[] args)
    {
        RootCommand root = BuildCommands();
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !parsed.Tokens.Any(t => t.Value is "-h" or "--help" or "-?"))
        {
            bool unknownVerb = parsed.Errors.Any(e => e.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal)) && parsed.CommandResult.Command == root;
            foreach (ParseError e in parsed.Errors)
            {
                if (unknownVerb && e.Message.StartsWith("Required command", StringComparison.Ordinal)) continue;
                string msg = e.Message;
                if (msg.StartsWith("Unrecognized command or argument", StringComparison.Ordinal) && parsed.CommandResult.Command == root)
                    msg = $"unknown verb {msg["Unrecognized command or argument ".Length..].Trim('.')} (fastpath --help lists the verbs)";
                Console.Error.WriteLine($"fastpath: {msg}");
            }
            return ExitCodes.Usage;
        }
        try
        {
            // Our own handlers below print one clear line (no stack trace) with the documented exit code.
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"fastpath: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Gateway.Manual.ManualKeyException e)
        {
            Console.Error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"fastpath: {e.Message}");
            return ExitCodes.Usage;
        }
    }

    internal static Option<string> RunDirOption() => new("--rundir")
    {
        Description = "run directory of the daemon: control socket, pid, ready, log (default /run/fastpath)",
        DefaultValueFactory = _ => DefaultRunDirectory,
        HelpName = "DIR",
    };

    internal static Option<bool> JsonOption() => new("--json") { Description = "print the answer as JSON" };

    internal static RootCommand BuildCommands()
    {
        var root = new RootCommand("FastPath: a userspace IPsec gateway (docs/operations.md)");
        DaemonVerbs.Register(root);

        foreach (string verb in ControlHandlers.ConnVerbs)
        {
            var name = new Argument<string>("NAME") { Description = "the connection (conn NAME in ipsec.conf)" };
            var rundir = RunDirOption();
            var json = JsonOption();
            var cmd = new Command(verb, ConnVerbHelp(verb)) { name, rundir, json };
            cmd.SetAction(pr => DaemonVerbs.Request(verb, pr.GetValue(name), pr.GetValue(rundir)!, pr.GetValue(json)));
            root.Subcommands.Add(cmd);
        }
        foreach (string verb in ControlHandlers.IkeVerbs)
        {
            var name = new Argument<string>("NAME") { Description = "the IKE connection (conn NAME in ipsec.conf)" };
            var rundir = RunDirOption();
            var json = JsonOption();
            var cmd = new Command(verb, verb == "rekey"
                ? "rekey NAME's CHILD_SAs now, make-before-break (swanctl --rekey --child, ipsec whack --rekey-ipsec)"
                : "rekey NAME's IKE SA now; its CHILD_SAs move to the new one (swanctl --rekey --ike, ipsec whack --rekey-ike)") { name, rundir, json };
            cmd.SetAction(pr => DaemonVerbs.Request(verb, pr.GetValue(name), pr.GetValue(rundir)!, pr.GetValue(json)));
            root.Subcommands.Add(cmd);
        }
        foreach (var (verb, help) in new[]
        {
            ("status", "connections, IKE and child SAs (ipsec auto --status, swanctl --list-sas); optional NAME"),
            ("trafficstatus", "bytes and packets per SA pair (ipsec trafficstatus)"),
            ("eroute", "the eroute table in FreeS/WAN format (ipsec eroute)"),
            ("spi", "the SA list, ip xfrm state fields, keys masked (ipsec spi)"),
            ("look", "eroutes, SAs and routes in one screen (ipsec look)"),
            ("barf", "one diagnostic bundle: config (secrets masked), status, counters, recent log, interfaces, routes, nft"),
            ("counters", "dataplane counters (totals, drops per reason, I/O, next hops)"),
            ("metrics", "the Prometheus text of the daemon's metrics"),
        })
        {
            var rundir = RunDirOption();
            var json = JsonOption();
            var cmd = new Command(verb, help) { rundir, json };
            Argument<string>? name = null;
            if (verb == "status")
            {
                name = new Argument<string>("NAME") { Description = "only this connection", Arity = ArgumentArity.ZeroOrOne };
                cmd.Arguments.Add(name);
            }
            cmd.SetAction(pr => DaemonVerbs.Request(verb, name is null ? null : pr.GetValue(name), pr.GetValue(rundir)!, pr.GetValue(json)));
            root.Subcommands.Add(cmd);
        }
        foreach (var (verb, help) in new[]
        {
            ("reload", "re-read ipsec.conf; unchanged conns are not touched"),
            ("rereadsecrets", "re-read ipsec.secrets (ipsec auto --rereadsecrets)"),
            ("rereadgroups", "re-read the policy-group files (ipsec auto --rereadgroups)"),
        })
        {
            var rundir = RunDirOption();
            var json = JsonOption();
            var cmd = new Command(verb, help) { rundir, json };
            cmd.SetAction(pr => DaemonVerbs.Request(verb, null, pr.GetValue(rundir)!, pr.GetValue(json)));
            root.Subcommands.Add(cmd);
        }
        root.Subcommands.Add(AutoCommand());
        root.Subcommands.Add(GatewayVerbs.VerifyCommand());
        root.Subcommands.Add(PassThrough("manual", "a manually keyed gateway in the foreground: --script FILE --inside IF --outside IF [--rundir DIR] [--workers N] [--cpus 0,1] [--batch N] [--io afpacket|afxdp|auto] (docs/manual-keying.md)", GatewayVerbs.Manual));
        root.Subcommands.Add(PassThrough("bench", "the headline numbers, no root needed: AES-GCM and the whole pipeline in packets/s at 64/1420 B/IMIX, allocations per packet [--quick] [--json]; " +
            "the ESP seal table of every suite on every engine with --suites s1,s2|all [--sizes 64,1420] [--engines intrinsics,bcl] [--ms 200]", Bench));
        var engines = new Command("engines", "which crypto engines this CPU/runtime supports, and the default");
        engines.SetAction(_ => Engines());
        root.Subcommands.Add(engines);
        ExtraVerbs.Register(root);
        return root;
    }

    private static string ConnVerbHelp(string verb) => verb switch
    {
        "up" => "bring NAME up: manual conns install their SAs, IKE conns initiate (ipsec auto --up)",
        "down" => "take NAME down: its SAs are deleted, traffic falls back to its route or is dropped",
        "add" => "(re)read NAME from ipsec.conf and load it without routing (ipsec auto --add)",
        "delete" => "down, unroute and forget NAME (ipsec auto --delete)",
        "route" => "install NAME's eroutes (%trap for IKE conns, the shunt for shunt conns)",
        "unroute" => "remove NAME's eroutes",
        _ => "re-read NAME from ipsec.conf and re-apply it; other conns are not touched (ipsec auto --replace)",
    };

    /// <summary>FreeS/WAN's `ipsec auto --up NAME` family as aliases.</summary>
    private static Command AutoCommand()
    {
        var cmd = new Command("auto", "FreeS/WAN spelling: auto --up|--down|--add|--delete|--route|--unroute|--replace NAME, auto --status, auto --rereadsecrets|--rereadgroups");
        var named = ControlHandlers.ConnVerbs.Select(v => (Verb: v, Option: new Option<string>("--" + v) { Description = $"same as `fastpath {v} NAME`", HelpName = "NAME" })).ToArray();
        var flags = new[] { "status", "rereadsecrets", "rereadgroups" }.Select(v => (Verb: v, Option: new Option<bool>("--" + v) { Description = $"same as `fastpath {v}`" })).ToArray();
        var rundir = RunDirOption();
        var json = JsonOption();
        foreach (var o in named) cmd.Options.Add(o.Option);
        foreach (var o in flags) cmd.Options.Add(o.Option);
        cmd.Options.Add(rundir);
        cmd.Options.Add(json);
        cmd.SetAction(pr =>
        {
            var chosen = named.Where(o => pr.GetResult(o.Option) is not null).Select(o => (o.Verb, Name: pr.GetValue(o.Option)))
                .Concat(flags.Where(o => pr.GetValue(o.Option)).Select(o => (o.Verb, Name: (string?)null))).ToArray();
            if (chosen.Length != 1)
            {
                Console.Error.WriteLine("fastpath auto: give exactly one of --up/--down/--add/--delete/--route/--unroute/--replace NAME, --status, --rereadsecrets, --rereadgroups");
                return ExitCodes.Usage;
            }
            return DaemonVerbs.Request(chosen[0].Verb, chosen[0].Name, pr.GetValue(rundir)!, pr.GetValue(json));
        });
        return cmd;
    }

    /// <summary>A verb that keeps its own (older, documented, script-used) option parsing.</summary>
    private static Command PassThrough(string verb, string help, Func<string[], int> run)
    {
        var cmd = new Command(verb, help) { TreatUnmatchedTokensAsErrors = false };
        cmd.SetAction(pr => run(pr.UnmatchedTokens.ToArray()));
        return cmd;
    }

    private static int Engines()
    {
        foreach (CryptoEngine e in CryptoEngine.All)
            Console.WriteLine($"{e.Name,-12} {(e.IsSupported ? "supported" : "not supported")}{(ReferenceEquals(e, CryptoEngine.Default) ? "  (default)" : "")}");
        return 0;
    }

    /// <summary>`fastpath bench`: the headline numbers (Dataplane.Diagnostics.SelfBenchmark, the code the benchmarks'
    /// `headline` mode runs) or, with any of --suites/--sizes/--engines/--ms, the per-suite ESP seal table.</summary>
    private static int Bench(string[] args)
    {
        if (!args.Any(a => a is "--suites" or "--sizes" or "--engines" or "--ms")) return Headline(args);
        return SuiteTable(args);
    }

    private static int Headline(string[] args)
    {
        bool quick = false, json = false;
        foreach (string a in args)
        {
            switch (a)
            {
                case "--quick": quick = true; break;
                case "--json": json = true; break;
                default: throw new ArgumentException($"bench: unknown option '{a}' (--quick, --json; or --suites/--sizes/--engines/--ms for the suite table)");
            }
        }
        if (!json) Console.Error.WriteLine($"fastpath bench: measuring (~{(quick ? 8 : 20)} s, one core, thread CPU time)...");
        Dataplane.Diagnostics.SelfBenchmarkReport r = Dataplane.Diagnostics.SelfBenchmark.Run(quick);
        if (json)
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(r, new System.Text.Json.JsonSerializerOptions
            {
                WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
            }));
        else Console.Write(Dataplane.Diagnostics.SelfBenchmark.Format(r));
        if (r.MaxAllocatedBytesPerPacket > 0)
        {
            Console.Error.WriteLine($"fastpath bench: a measured path allocated {r.MaxAllocatedBytesPerPacket:0.##} B per packet (the dataplane's invariant is 0)");
            return ExitCodes.Failed;
        }
        return 0;
    }

    private static int SuiteTable(string[] args)
    {
        IReadOnlyList<string> suites = CryptoSelfBenchmark.DefaultSuites;
        IReadOnlyList<int> sizes = [64, 1420];
        int ms = 200;
        IReadOnlyList<CryptoEngine> engines = CryptoEngine.All.Where(e => e.IsSupported).ToArray();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--suites":
                    string list = Value();
                    suites = list == "all" ? CryptoSelfBenchmark.DefaultSuites : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                case "--sizes":
                    sizes = Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s =>
                        int.TryParse(s, NumberStyles.None, Inv, out int v) && v is >= 1 and <= 65000 ? v : throw new ArgumentException($"packet size '{s}' is not 1..65000")).ToArray();
                    break;
                case "--engines":
                    engines = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n =>
                        CryptoEngine.All.FirstOrDefault(e => e.Name == n) ?? throw new ArgumentException($"unknown engine '{n}' (intrinsics, portable, bcl)")).ToArray();
                    foreach (CryptoEngine e in engines)
                        if (!e.IsSupported) throw new ArgumentException($"engine '{e.Name}' is not supported on this machine");
                    break;
                case "--ms":
                    string msText = Value();
                    if (!int.TryParse(msText, NumberStyles.None, Inv, out ms) || ms is < 10 or > 60000) throw new ArgumentException($"--ms '{msText}' is not 10..60000");
                    break;
                default: throw new ArgumentException($"bench: unknown option '{args[i]}'");
            }
        }
        foreach (string s in suites) Crypto.Esp.EspSuite.Parse(s); // fail fast on a bad suite name

        Console.WriteLine($"FastPath crypto self-benchmark: ESP seal, batches of {CryptoSelfBenchmark.Batch}, {ms} ms per cell, {Environment.ProcessorCount} cores");
        Console.WriteLine($"engines: {string.Join(", ", CryptoEngine.All.Select(e => $"{e.Name}{(e.IsSupported ? "" : " (unsupported)")}"))}; default {CryptoEngine.Default.Name}");
        Console.WriteLine();
        Console.WriteLine($"{"suite",-18} {"bytes",6} {"engine",-11} {"Mpps",8} {"Gbit/s",8} {"x bcl",7} {"alloc B",8}  check");
        var all = new List<CryptoBenchmarkResult>();
        bool failed = false;
        foreach (CryptoBenchmarkResult r in CryptoSelfBenchmark.Run(suites, sizes, TimeSpan.FromMilliseconds(ms), engines))
        {
            all.Add(r);
            CryptoBenchmarkResult? bcl = all.FirstOrDefault(b => b.Suite == r.Suite && b.PacketSize == r.PacketSize && b.Engine == "bcl");
            string ratio = bcl is null ? "" : (r.PacketsPerSecond / bcl.PacketsPerSecond).ToString("F2", Inv);
            failed |= !r.RoundTripOk;
            Console.WriteLine(string.Create(Inv,
                $"{r.Suite,-18} {r.PacketSize,6} {r.Engine,-11} {r.PacketsPerSecond / 1e6,8:F3} {r.GigabitsPerSecond,8:F2} {ratio,7} {r.AllocatedBytes,8}  {(r.RoundTripOk ? "ok" : "ROUND TRIP FAILED")}"));
        }
        Console.WriteLine();
        Console.WriteLine("ratio to the BCL engine (packets/s), per suite and size:");
        foreach (var g in all.GroupBy(r => (r.Suite, r.PacketSize)))
        {
            CryptoBenchmarkResult? bcl = g.FirstOrDefault(r => r.Engine == "bcl");
            if (bcl is null) continue;
            Console.WriteLine($"  {g.Key.Suite,-18} {g.Key.PacketSize,6} B: " +
                string.Join("  ", g.Where(r => r.Engine != "bcl").Select(r => string.Create(Inv, $"{r.Engine} {r.PacketsPerSecond / bcl.PacketsPerSecond:F2}x"))));
        }
        return failed ? 1 : 0;
    }
}
