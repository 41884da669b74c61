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

    /// <summary>`fastpath verify`: the checks of `ipsec verify`, one [OK]/[FAILED] line each; exit 1 if any failed.</summary>
    public static System.CommandLine.Command VerifyCommand()
    {
        var inside = new System.CommandLine.Option<string>("--inside") { Description = "protected interface", DefaultValueFactory = _ => "inside", HelpName = "IF" };
        var outside = new System.CommandLine.Option<string>("--outside") { Description = "public interface", DefaultValueFactory = _ => "outside", HelpName = "IF" };
        var rundir = Program.RunDirOption();
        var ikePort = new System.CommandLine.Option<int>("--ike-port") { DefaultValueFactory = _ => 500, Description = "IKE port to check" };
        var nattPort = new System.CommandLine.Option<int>("--natt-port") { DefaultValueFactory = _ => 4500, Description = "NAT-T port to check" };
        var cmd = new System.CommandLine.Command("verify", "check root, interfaces, CPU features, the fail-closed kernel settings and the IKE ports ([OK]/[FAILED] lines)")
            { inside, outside, rundir, ikePort, nattPort };
        cmd.SetAction(pr => Verify(pr.GetValue(inside)!, pr.GetValue(outside)!, pr.GetValue(rundir)!, pr.GetValue(ikePort), pr.GetValue(nattPort)));
        return cmd;
    }

    public static int Verify(string inside, string outside, string rundir, int ikePort, int nattPort)
    {
        bool root = geteuid() == 0;
        var checks = new List<GuardCheck> { new("running as root", root, root ? "" : "the gateway needs root") };
        var names = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().Select(n => n.Name).ToHashSet();
        foreach (string i in new[] { inside, outside })
            checks.Add(new($"interface {i}", names.Contains(i), names.Contains(i) ? "" : $"no such interface here (have: {string.Join(", ", names.Order(StringComparer.Ordinal))})"));
        bool aes = System.Runtime.Intrinsics.X86.Aes.IsSupported || System.Runtime.Intrinsics.Arm.Aes.IsSupported;
        bool clmul = System.Runtime.Intrinsics.X86.Pclmulqdq.IsSupported || System.Runtime.Intrinsics.Arm.Aes.IsSupported;
        checks.Add(new("CPU: AES instructions (AES-NI / ARMv8 AES)", aes, aes ? "" : "ESP falls back to the portable (slower) engine"));
        checks.Add(new("CPU: carry-less multiply (PCLMULQDQ / PMULL) for GHASH", clmul, clmul ? "" : "GCM falls back to the portable engine"));
        checks.Add(new("CPU: AVX2", System.Runtime.Intrinsics.X86.Avx2.IsSupported || !System.Runtime.Intrinsics.X86.X86Base.IsSupported, ""));
        if (names.Contains(inside) && names.Contains(outside)) checks.AddRange(new KernelGuard(inside, outside).Verify());
        bool daemon = false;
        try { daemon = FastPath.Gateway.Control.ControlClient.Send(rundir, new FastPath.Gateway.Control.ControlRequest("ping"), TimeSpan.FromSeconds(2)).Ok; }
        catch (FastPath.Gateway.Control.ControlClientException) { }
        foreach (int port in new[] { ikePort, nattPort })
        {
            string? user = PortUser(port);
            checks.Add(user is null
                ? new($"UDP port {port} free for IKE", true, "")
                : new($"UDP port {port} free for IKE", daemon, daemon ? "in use by the FastPath daemon of " + rundir : $"in use by {user}: another IKE daemon (charon, pluto)?"));
        }
        foreach (var c in checks) Console.WriteLine(c);
        return checks.All(c => c.Ok) ? 0 : 1;
    }

    /// <summary>Who holds UDP <paramref name="port"/> (from /proc/net/udp{,6}); null when nobody does.</summary>
    private static string? PortUser(int port)
    {
        string hex = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (string f in new[] { "/proc/net/udp", "/proc/net/udp6" })
        {
            if (!System.IO.File.Exists(f)) continue;
            foreach (string line in System.IO.File.ReadLines(f).Skip(1))
            {
                string[] cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length > 1 && cols[1].EndsWith(hex, StringComparison.Ordinal)) return $"a socket of uid {cols.ElementAtOrDefault(7)} (inode {cols.ElementAtOrDefault(9)})";
            }
        }
        return null;
    }

    public static uint EffectiveUid => geteuid();

    private static int Int(string text, string what, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
            ? v : throw new ArgumentException($"{what} '{text}': expected {min}..{max}");

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint geteuid();
}
