using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using FastPath.Config;
using FastPath.Gateway;
using FastPath.Gateway.Control;
using FastPath.Gateway.Daemon;
using Microsoft.Extensions.Logging;

namespace FastPath.Cli;

// `fastpath start|stop|restart` and the client side of every daemon verb.
//
//   start (default):  config checked here first (errors → exit 6 at once) ─► re-exec
//                     `fastpath start --foreground ...` as `setsid` with stdout/stderr → RUNDIR/fastpath.log
//                     ─► wait for RUNDIR/ready (≤ 60 s) or the child's exit (then the log's tail, its exit code)
//   start --foreground: the daemon itself (systemd Type=simple), logs on stdout
//   stop:             `stop` over the socket, then wait until the pid is gone (≤ 30 s)
//   VERB [NAME]:      one request; the text (or, with --json, the data) printed; the answer's exit code

internal static class DaemonVerbs
{
    public static void Register(RootCommand root)
    {
        root.Subcommands.Add(StartCommand("start", "start the daemon (in the background unless --foreground)"));
        root.Subcommands.Add(StartCommand("restart", "stop the daemon if it runs, then start it"));
        var rundir = Program.RunDirOption();
        var stop = new Command("stop", "stop the daemon (SAs deleted, the kernel guard stays: nothing forwards)") { rundir };
        stop.SetAction(pr => Stop(pr.GetValue(rundir)!, quietIfNotRunning: false));
        root.Subcommands.Add(stop);
    }

    private static Command StartCommand(string verb, string help)
    {
        var config = new Option<string>("--config") { Description = "ipsec.conf (default /etc/ipsec.conf)", DefaultValueFactory = _ => "/etc/ipsec.conf", HelpName = "FILE" };
        var secrets = new Option<string>("--secrets") { Description = "ipsec.secrets (default /etc/ipsec.secrets)", DefaultValueFactory = _ => "/etc/ipsec.secrets", HelpName = "FILE" };
        var policies = new Option<string?>("--policies") { Description = "policy-group directory (default ipsec.d/policies next to the config)", HelpName = "DIR" };
        var rundir = Program.RunDirOption();
        var foreground = new Option<bool>("--foreground") { Description = "run in the foreground, log to stdout (systemd)" };
        var inside = new Option<string>("--inside") { Description = "protected interface (default inside)", DefaultValueFactory = _ => "inside", HelpName = "IF" };
        var outside = new Option<string>("--outside") { Description = "public interface (default outside)", DefaultValueFactory = _ => "outside", HelpName = "IF" };
        var io = new Option<string>("--io") { Description = "afpacket | afxdp | auto", DefaultValueFactory = _ => "afpacket" };
        io.AcceptOnlyFromAmong("afpacket", "afxdp", "auto");
        var workers = new Option<int>("--workers") { Description = "dataplane worker threads", DefaultValueFactory = _ => 1 };
        workers.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 64) r.AddError("--workers: expected 1..64"); });
        var metrics = new Option<int?>("--metrics-port") { Description = "serve Prometheus text on 127.0.0.1:PORT/metrics", HelpName = "PORT" };
        var ikePort = new Option<int>("--ike-port") { Description = "IKE UDP port (default 500)", DefaultValueFactory = _ => 500 };
        var nattPort = new Option<int>("--natt-port") { Description = "NAT-T UDP port (default 4500)", DefaultValueFactory = _ => 4500 };
        var noGuard = new Option<bool>("--no-kernel-guard") { Description = "do not install the kernel guard (tests of the guard only)" };
        var noPerm = new Option<bool>("--no-secrets-permission-check") { Description = "accept group/world-readable ipsec.secrets" };
        var cmd = new Command(verb, help) { config, secrets, policies, rundir, foreground, inside, outside, io, workers, metrics, ikePort, nattPort, noGuard, noPerm };
        cmd.SetAction(pr =>
        {
            var o = new FastPathGatewayOptions
            {
                ConfigPath = pr.GetValue(config)!, SecretsPath = pr.GetValue(secrets), PoliciesDirectory = pr.GetValue(policies),
                RunDirectory = Path.GetFullPath(pr.GetValue(rundir)!), InsideInterface = pr.GetValue(inside)!, OutsideInterface = pr.GetValue(outside)!,
                Io = pr.GetValue(io) switch { "afxdp" => GatewayIoKind.AfXdp, "auto" => GatewayIoKind.Auto, _ => GatewayIoKind.AfPacket },
                Workers = pr.GetValue(workers), MetricsPort = pr.GetValue(metrics), IkePort = pr.GetValue(ikePort), NatTPort = pr.GetValue(nattPort),
                KernelGuard = !pr.GetValue(noGuard), CheckSecretsPermissions = !pr.GetValue(noPerm),
            };
            if (verb == "restart") Stop(o.RunDirectory, quietIfNotRunning: true);
            if (GatewayVerbs.EffectiveUid != 0)
            {
                Console.Error.WriteLine($"fastpath {verb}: needs root (raw packet sockets, nft, sysctl, UDP 500/4500); run it as root");
                return ExitCodes.PermissionDenied;
            }
            return pr.GetValue(foreground) ? Foreground(o) : Background(o, pr.Tokens.Select(t => t.Value).Skip(1).ToArray());
        });
        return cmd;
    }

    private static int Foreground(FastPathGatewayOptions o)
    {
        var recent = new RecentLog();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b
            .AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff "; c.UseUtcTimestamp = true; })
            .AddProvider(recent)
            .SetMinimumLevel(LogLevel.Information));
        return new GatewayDaemon(o, loggers, recent).Run(Console.Error);
    }

    private static int Background(FastPathGatewayOptions o, string[] startArgs)
    {
        string rundir = o.RunDirectory!;
        // Check the configuration here, so its errors reach the terminal directly.
        ConfigLoadResult r = IpsecConfLoader.TryLoad(o.ConfigPath, new IpsecConfigOptions { PoliciesDirectory = o.PoliciesDirectory });
        if (!r.Success)
        {
            Console.Error.WriteLine($"fastpath start: configuration errors in {o.ConfigPath}:");
            foreach (ConfigDiagnostic d in r.Errors) Console.Error.WriteLine(d);
            return ExitCodes.BadConfig;
        }
        try
        {
            ControlResponse ping = ControlClient.Send(rundir, new ControlRequest("ping"), TimeSpan.FromSeconds(2));
            Console.Error.WriteLine($"fastpath start: a FastPath daemon already runs on {ControlProtocol.SocketPath(rundir)}; `fastpath stop --rundir {rundir}` or `fastpath restart`");
            return ExitCodes.Failed;
        }
        catch (ControlClientException e) when (e.Exit == ExitCodes.NotRunning) { }
        Directory.CreateDirectory(rundir);
        string ready = Path.Combine(rundir, "ready"), log = Path.Combine(rundir, "fastpath.log");
        File.Delete(ready);
        string exe = Environment.ProcessPath ?? "dotnet";
        var argv = new System.Collections.Generic.List<string>();
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") argv.Add(typeof(Program).Assembly.Location);
        argv.Add("start");
        for (int i = 0; i < startArgs.Length; i++)
        {
            if (startArgs[i] == "--foreground" || startArgs[i].StartsWith("--rundir=", StringComparison.Ordinal)) continue;
            if (startArgs[i] == "--rundir") { i++; continue; } // passed again below, as an absolute path
            argv.Add(startArgs[i]);
        }
        argv.Add("--foreground");
        argv.Add("--rundir");
        argv.Add(rundir);
        // sh only redirects and execs setsid, which (sh being no group leader) execs the daemon in a new
        // session: no controlling terminal, no SIGHUP when this command's terminal goes away.
        var psi = new ProcessStartInfo("/bin/sh", ["-c", "exec setsid \"$0\" \"$@\" >>\"$FASTPATH_LOG\" 2>&1 </dev/null", exe, .. argv]) { UseShellExecute = false };
        psi.Environment["FASTPATH_LOG"] = log;
        using Process child = Process.Start(psi) ?? throw new InvalidOperationException("cannot start the daemon");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(ready))
            {
                string pid = File.Exists(Path.Combine(rundir, "pid")) ? File.ReadAllText(Path.Combine(rundir, "pid")).Trim() : "?";
                Console.WriteLine($"FastPath daemon started (pid {pid}); control socket {ControlProtocol.SocketPath(rundir)}; log {log}");
                return ExitCodes.Ok;
            }
            if (child.WaitForExit(100))
            {
                Console.Error.WriteLine($"fastpath start: the daemon exited with code {child.ExitCode}; the end of {log}:");
                foreach (string line in Tail(log, 20)) Console.Error.WriteLine("  " + line);
                return child.ExitCode == 0 ? ExitCodes.Failed : child.ExitCode;
            }
        }
        Console.Error.WriteLine($"fastpath start: the daemon did not become ready in 60 s (see {log}); it keeps running as pid {child.Id}");
        return ExitCodes.Failed;
    }

    private static string[] Tail(string file, int n)
    {
        try { return File.ReadAllLines(file).TakeLast(n).ToArray(); }
        catch (IOException) { return []; }
    }

    public static int Stop(string rundir, bool quietIfNotRunning)
    {
        string pidFile = Path.Combine(rundir, "pid");
        int pid = File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 0;
        try
        {
            ControlResponse r = ControlClient.Send(rundir, new ControlRequest("stop"), TimeSpan.FromSeconds(10));
            if (!r.Ok) { Console.Error.WriteLine($"fastpath stop: {r.Error}"); return r.Exit; }
            pid = r.Data is { } d && d.TryGetProperty("pid", out JsonElement pe) ? pe.GetInt32() : pid;
        }
        catch (ControlClientException e)
        {
            if (quietIfNotRunning && e.Exit == ExitCodes.NotRunning) return ExitCodes.Ok;
            Console.Error.WriteLine($"fastpath stop: {e.Message}");
            return e.Exit;
        }
        // The daemon exits after it has drained its SAs; the CLI has no child handle on it, so it polls /proc
        // every 100 ms for at most 30 s (control plane, once per `stop`).
        for (int i = 0; i < 300 && pid > 0 && Directory.Exists($"/proc/{pid}") && !IsZombie(pid); i++) Thread.Sleep(100);
        if (pid > 0 && Directory.Exists($"/proc/{pid}") && !IsZombie(pid))
        {
            Console.Error.WriteLine($"fastpath stop: pid {pid} still runs after 30 s (see {Path.Combine(rundir, "fastpath.log")})");
            return ExitCodes.Failed;
        }
        Console.WriteLine($"FastPath daemon stopped{(pid > 0 ? $" (pid {pid})" : "")}");
        return ExitCodes.Ok;
    }

    private static bool IsZombie(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ").ElementAtOrDefault(1)?.StartsWith('Z') == true; }
        catch (IOException) { return false; }
    }

    /// <summary>One request to the daemon; prints its text (or JSON data) and returns its exit code.</summary>
    public static int Request(string verb, string? name, string rundir, bool json)
    {
        ControlResponse r;
        try { r = ControlClient.Send(rundir, new ControlRequest(verb, name, json)); }
        catch (ControlClientException e)
        {
            Console.Error.WriteLine($"fastpath {verb}: {e.Message}");
            return e.Exit;
        }
        if (!r.Ok)
        {
            if (json) Console.WriteLine(JsonSerializer.Serialize(new { ok = false, exit = r.Exit, error = r.Error }, ControlProtocol.Json));
            Console.Error.WriteLine($"fastpath {verb}{(name is null ? "" : " " + name)}: {r.Error}");
            return r.Exit;
        }
        if (json) Console.WriteLine(r.Data is { } d ? JsonSerializer.Serialize(d, new JsonSerializerOptions(ControlProtocol.Json) { WriteIndented = true }) : "null");
        else Console.Write(r.Text);
        return r.Exit;
    }
}
