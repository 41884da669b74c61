using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Gateway;
using FastPath.Gateway.Kernel;
using FastPath.Gateway.Manual;
using Microsoft.Extensions.Logging;

namespace FastPath.Cli;

/// <summary>The gateway verbs: `manual` (FreeS/WAN's `ipsec manual --up`, in the foreground) and `verify`.</summary>
internal static class GatewayVerbs
{
    public static int Manual(string[] args)
    {
        string? script = null, inside = null, outside = null, rundir = null;
        int workers = 1, batch = 64;
        IReadOnlyList<int>? cpus = null;
        GatewayIoKind io = GatewayIoKind.AfPacket;
        bool guard = true;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--script": script = Value(); break;
                case "--inside": inside = Value(); break;
                case "--outside": outside = Value(); break;
                case "--rundir": rundir = Value(); break;
                case "--workers": workers = Int(Value(), "--workers", 1, 64); break;
                case "--batch": batch = Int(Value(), "--batch", 1, 256); break;
                case "--cpus": cpus = Value().Split(',').Select(c => Int(c, "--cpus", 0, 4095)).ToArray(); break;
                case "--io":
                    string v = Value();
                    io = v switch
                    {
                        "afpacket" => GatewayIoKind.AfPacket,
                        "afxdp" => GatewayIoKind.AfXdp,
                        "auto" => GatewayIoKind.Auto,
                        _ => throw new ArgumentException($"--io '{v}': expected afpacket, afxdp or auto"),
                    };
                    break;
                case "--no-kernel-guard": guard = false; break;
                default: throw new ArgumentException($"unknown option '{args[i]}' (see fastpath help)");
            }
        }
        if (script is null || inside is null || outside is null)
            throw new ArgumentException("--script FILE, --inside IFNAME and --outside IFNAME are required");
        if (Environment.UserName != "root" && geteuid() != 0)
        {
            Console.Error.WriteLine("fastpath manual: needs root (raw packet sockets, nft, sysctl); run it with sudo");
            return 4;
        }
        var parsed = ManualKeyScript.Load(script);
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(LogLevel.Information));
        var log = loggerFactory.CreateLogger("fastpath");
        using var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        ManualGateway gw;
        try
        {
            gw = new ManualGateway(parsed, new GatewayRuntimeOptions
            {
                InsideInterface = inside, OutsideInterface = outside, Io = io, Workers = workers, Cpus = cpus,
                RunDirectory = rundir, KernelGuard = guard, BatchSize = batch,
            }, log);
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"fastpath manual: {e.Message}");
            return 3;
        }
        catch (System.IO.IOException e)
        {
            Console.Error.WriteLine($"fastpath manual: {e.Message}");
            return 3;
        }
        using (gw)
        {
            log.LogInformation("manual keying from {Script}: {Sas} SAs, {Eroutes} eroutes; running (Ctrl-C stops)", script, parsed.Sas.Count, parsed.Eroutes.Count);
            Console.Out.Write(gw.FormatEroutes());
            stop.Wait();
            log.LogInformation("stopping");
            gw.Runtime.Stop();
            Console.Out.Write(gw.FormatEroutes());
            Console.Out.WriteLine(gw.Runtime.CountersJson());
        }
        return 0;
    }

    public static int Verify(string[] args)
    {
        string inside = "inside", outside = "outside";
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--inside": inside = Value(); break;
                case "--outside": outside = Value(); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        var checks = new List<GuardCheck> { new("running as root", geteuid() == 0, geteuid() == 0 ? "" : "the gateway needs root") };
        checks.AddRange(new KernelGuard(inside, outside).Verify());
        foreach (var c in checks) Console.WriteLine(c);
        return checks.All(c => c.Ok) ? 0 : 1;
    }

    private static int Int(string text, string what, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
            ? v : throw new ArgumentException($"{what} '{text}': expected {min}..{max}");

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint geteuid();
}
