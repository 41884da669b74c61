using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Config;
using FastPath.Gateway.Control;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Daemon;

// `fastpath start --foreground`: one gateway plus its control socket in RUNDIR, until SIGTERM,
// SIGINT or the `stop` verb:
//
//   RUNDIR (0755) ─► another daemon answering on RUNDIR/fastpath.ctl? → refuse (exit 1)
//   ControlServer listening (0600, SO_PEERCRED)            ─► clients get "starting" until ready
//   FastPathGateway.Start (config errors → exit 6, nothing left behind)
//   RUNDIR/pid, RUNDIR/ready written by the runtime        ─► `fastpath start` stops waiting
//   wait for SIGTERM / SIGINT / stop  ─► gateway.Stop (ready removed), socket and pid removed, exit 0

/// <summary>The daemon process around a <see cref="FastPathGateway"/>.</summary>
public sealed class GatewayDaemon
{
    private readonly FastPathGatewayOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly RecentLog? _recent;
    private readonly ManualResetEventSlim _stop = new();

    public GatewayDaemon(FastPathGatewayOptions options, ILoggerFactory loggers, RecentLog? recent = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _loggers = loggers ?? throw new ArgumentNullException(nameof(loggers));
        _recent = recent;
        if (options.RunDirectory is null) throw new ArgumentException("the daemon needs a run directory (--rundir)");
    }

    /// <summary>Asks <see cref="Run"/> to return (thread safe).</summary>
    public void RequestStop() => _stop.Set();

    /// <summary>Runs until stopped; returns the process exit code.</summary>
    public int Run(TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ILogger log = _loggers.CreateLogger("FastPath.Daemon");
        string rundir = _options.RunDirectory!;
        Directory.CreateDirectory(rundir);
        string socket = ControlProtocol.SocketPath(rundir);
        if (File.Exists(socket))
        {
            try
            {
                ControlResponse r = ControlClient.Send(rundir, new ControlRequest("ping"), TimeSpan.FromSeconds(2));
                errors.WriteLine($"fastpath start: a FastPath daemon already runs on {socket} ({r.Text}); `fastpath stop --rundir {rundir}` first");
                return ExitCodes.Failed;
            }
            catch (ControlClientException e) when (e.Exit == ExitCodes.NotRunning)
            {
                log.LogInformation("removing the stale control socket {Socket}", socket);
            }
        }
        using var gateway = new FastPathGateway(_options, _loggers);
        var handlers = new ControlHandlers(gateway, RequestStop, _recent);
        using var server = new ControlServer(socket, handlers.Handle, _loggers.CreateLogger("FastPath.Control"));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; RequestStop(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; RequestStop(); });
        try
        {
            gateway.Start();
        }
        catch (ConfigException e)
        {
            errors.WriteLine($"fastpath start: configuration errors in {_options.ConfigPath}:");
            errors.WriteLine(e.Message);
            return ExitCodes.BadConfig;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"fastpath start: {e.Message}");
            return ExitCodes.Failed;
        }
        log.LogInformation("FastPath daemon pid {Pid} ready; control socket {Socket}", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), socket);
        _stop.Wait();
        log.LogInformation("stopping");
        gateway.Stop();
        try { File.Delete(Path.Combine(rundir, "pid")); } catch (IOException) { }
        return ExitCodes.Ok;
    }
}
