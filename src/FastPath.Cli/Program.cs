using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FastPath.Crypto;
using FastPath.Crypto.Diagnostics;

namespace FastPath.Cli;

/// <summary>The `fastpath` command. Verbs arrive issue by issue; today: `bench`, `engines`, `manual`, `verify`.</summary>
internal static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static int Main(string[] args)
    {
        string verb = args.Length > 0 ? args[0] : "help";
        try
        {
            return verb switch
            {
                "bench" => Bench(args.Skip(1).ToArray()),
                "engines" => Engines(),
                "manual" => GatewayVerbs.Manual(args.Skip(1).ToArray()),
                "verify" => GatewayVerbs.Verify(args.Skip(1).ToArray()),
                "help" or "--help" or "-h" => Usage(0),
                _ => Usage(2, $"fastpath: unknown verb '{verb}'"),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"fastpath {verb}: {e.Message}");
            return 2;
        }
        catch (Gateway.Manual.ManualKeyException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"fastpath {verb}: {e.Message}");
            return 2;
        }
    }

    private static int Usage(int code, string? error = null)
    {
        if (error is not null) Console.Error.WriteLine(error);
        (code == 0 ? Console.Out : Console.Error).WriteLine(
            """
            usage: fastpath <verb> [options]
              bench [--suites s1,s2] [--sizes 64,1420] [--engines intrinsics,bcl] [--ms 200]
                                 ESP seal throughput of every suite on every crypto engine here
                                 (batches of 32 packets; round trip checked against the BCL engine)
              engines            which crypto engines this CPU/runtime supports, and the default
              manual --script FILE --inside IF --outside IF [--rundir DIR] [--workers N] [--cpus 0,1]
                     [--batch N] [--io afpacket|afxdp|auto]
                                 a manually keyed gateway in the foreground (FreeS/WAN's `ipsec spi` /
                                 `ipsec eroute` lines; docs/manual-keying.md); Ctrl-C stops it
              verify [--inside IF] [--outside IF]
                                 checks the fail-closed kernel settings ([OK]/[FAILED] lines)
            """);
        return code;
    }

    private static int Engines()
    {
        foreach (CryptoEngine e in CryptoEngine.All)
            Console.WriteLine($"{e.Name,-12} {(e.IsSupported ? "supported" : "not supported")}{(ReferenceEquals(e, CryptoEngine.Default) ? "  (default)" : "")}");
        return 0;
    }

    private static int Bench(string[] args)
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
                case "--suites": suites = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
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
                default: throw new ArgumentException($"unknown option '{args[i]}'");
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
        // The BCL row comes last per group; print the ratios of the own engines against it again compactly.
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
