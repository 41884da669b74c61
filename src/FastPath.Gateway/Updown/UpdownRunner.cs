using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using FastPath.Gateway.Daemon;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Updown;

// leftupdown= hooks with the classic Pluto environment (FreeS/WAN _updown, Libreswan _updown.netkey):
//
//   route / unroute (any conn)          ─► PLUTO_VERB=route-client | unroute-client   (-v6 for IPv6)
//   manual up / down                    ─► prepare-client, up-client | down-client
//   IKE ChildSaUp / ChildSaDown (engine) ─► up-client | down-client (UpdownObserver, on the engine thread:
//                                          the run is queued, in order, so the engine never waits; while
//                                          the gateway stops, down-client runs before the daemon exits)
//   IKE CHILD_SA rekey                  ─► nothing (Pluto ran no updown on a rekey: the tunnel stays up)
//   leftfirewall=yes, no leftupdown     ─► logged only: no kernel forwarding to open (NoteFirewall)
//
// The script runs as `/bin/sh -c SCRIPT` (FreeS/WAN ran leftupdown= through the shell too) with the
// PLUTO_* variables, stdin closed, at most UpdownTimeout (then killed); every output line is logged.

/// <summary>The PLUTO_* environment of one updown call.</summary>
public static class UpdownEnvironment
{
    public static Dictionary<string, string> ForEroute(string verb, PlannedConnection c, PlannedEroute e, string iface, uint reqId)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(e);
        return Build(verb, c, e.Source, e.Destination, iface, reqId, c.RemoteEnd.Id?.Value ?? c.RemoteHost?.ToString() ?? "%any");
    }

    public static Dictionary<string, string> ForChild(string verb, PlannedConnection c, ChildSaInstall sa, string iface)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(sa);
        string my = sa.LocalTs.Count > 0 ? Prefix(sa.LocalTs[0]) : $"{sa.LocalAddress}/{Bits(sa.LocalAddress)}";
        string peer = sa.RemoteTs.Count > 0 ? Prefix(sa.RemoteTs[0]) : $"{sa.RemoteAddress}/{Bits(sa.RemoteAddress)}";
        var env = Build(verb, c, my, peer, iface, sa.ReqId, c.RemoteEnd.Id?.Value ?? sa.RemoteAddress.ToString());
        env["PLUTO_ME"] = sa.LocalAddress.ToString();
        env["PLUTO_PEER"] = sa.RemoteAddress.ToString();
        env["PLUTO_SERIALNO"] = sa.ChildSerial.ToString(CultureInfo.InvariantCulture);
        env["PLUTO_SA_REQID"] = sa.ReqId.ToString(CultureInfo.InvariantCulture);
        env["PLUTO_INBOUND_SPI"] = $"0x{sa.InboundSpi:x8}";
        env["PLUTO_OUTBOUND_SPI"] = $"0x{sa.OutboundSpi:x8}";
        if (sa.UdpEncapsulation) { env["PLUTO_ME_PORT"] = sa.LocalPort.ToString(CultureInfo.InvariantCulture); env["PLUTO_PEER_PORT"] = sa.RemotePort.ToString(CultureInfo.InvariantCulture); }
        return env;
    }

    private static string Prefix(TrafficSelector ts)
    {
        var p = TrafficSelectors.ToPrefixes(ts);
        return p.Count > 0 ? $"{p[0].Address}/{p[0].PrefixLength}" : TrafficSelectors.Format(ts);
    }

    private static int Bits(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    private static Dictionary<string, string> Build(string verb, PlannedConnection c, string myClient, string peerClient, string iface, uint reqId, string peerId)
    {
        bool v6 = myClient.Contains(':', StringComparison.Ordinal);
        var (myNet, myMask) = NetMask(myClient);
        var (peerNet, peerMask) = NetMask(peerClient);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PLUTO_VERSION"] = "2.0",
            ["PLUTO_VERB"] = verb + "-" + (v6 ? "client-v6" : "client"),
            ["PLUTO_CONNECTION"] = c.Name,
            ["PLUTO_CONN_POLICY"] = c.Config.Type.ToString().ToUpperInvariant(),
            ["PLUTO_INTERFACE"] = iface,
            ["PLUTO_NEXT_HOP"] = c.LocalEnd.NextHop.ToString() is { Length: > 0 } nh ? nh : c.RemoteHost?.ToString() ?? "",
            ["PLUTO_ME"] = c.LocalHost?.ToString() ?? "",
            ["PLUTO_MY_ID"] = c.LocalEnd.Id?.Value ?? c.LocalHost?.ToString() ?? "",
            ["PLUTO_MY_CLIENT"] = myClient,
            ["PLUTO_MY_CLIENT_NET"] = myNet,
            ["PLUTO_MY_CLIENT_MASK"] = myMask,
            ["PLUTO_MY_PORT"] = "0",
            ["PLUTO_MY_PROTOCOL"] = "0",
            ["PLUTO_PEER"] = c.RemoteHost?.ToString() ?? "",
            ["PLUTO_PEER_ID"] = peerId,
            ["PLUTO_PEER_CLIENT"] = peerClient,
            ["PLUTO_PEER_CLIENT_NET"] = peerNet,
            ["PLUTO_PEER_CLIENT_MASK"] = peerMask,
            ["PLUTO_PEER_PORT"] = "0",
            ["PLUTO_PEER_PROTOCOL"] = "0",
            ["PLUTO_REQID"] = reqId.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>"192.0.2.0/25" → ("192.0.2.0", "255.255.255.128"); IPv6 masks as an address too (Libreswan does).</summary>
    internal static (string Net, string Mask) NetMask(string prefix)
    {
        IPNetwork n = IPNetwork.Parse(prefix);
        int width = n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 4 : 16;
        byte[] mask = new byte[width];
        for (int i = 0; i < n.PrefixLength; i++) mask[i / 8] |= (byte)(0x80 >> (i % 8));
        return (n.BaseAddress.ToString(), new IPAddress(mask).ToString());
    }
}

/// <summary>Runs updown scripts, bounded in time, output logged.</summary>
public sealed partial class UpdownRunner
{
    private readonly TimeSpan _timeout;
    private readonly ILogger _log;
    private readonly object _queueLock = new();
    private Task _tail = Task.CompletedTask;

    public UpdownRunner(TimeSpan timeout, ILogger logger)
    {
        _timeout = timeout;
        _log = logger;
    }

    /// <summary>Runs the script now; returns its exit code (-1: could not start or killed after the timeout).</summary>
    public int Run(string script, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(environment);
        string conn = environment.GetValueOrDefault("PLUTO_CONNECTION", "");
        string verb = environment.GetValueOrDefault("PLUTO_VERB", "");
        var psi = new ProcessStartInfo("/bin/sh", ["-c", script])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var kv in environment) psi.Environment[kv.Key] = kv.Value;
        Process p;
        try { p = Process.Start(psi) ?? throw new InvalidOperationException("no process"); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            LogFailed(conn, verb, script, e.Message);
            return -1;
        }
        using (p)
        {
            p.StandardInput.Close();
            p.OutputDataReceived += (_, a) => { if (a.Data is { } line) LogOutput(conn, verb, line); };
            p.ErrorDataReceived += (_, a) => { if (a.Data is { } line) LogOutput(conn, verb, line); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            if (!p.WaitForExit(_timeout))
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                LogTimeout(conn, verb, script, (int)_timeout.TotalSeconds);
                return -1;
            }
            p.WaitForExit();
            if (p.ExitCode != 0) LogExit(conn, verb, script, p.ExitCode);
            else LogRan(conn, verb, script);
            return p.ExitCode;
        }
    }

    /// <summary>Queues a run (callers on the IKE engine thread must not wait for a script). Queued runs
    /// execute one at a time in the order queued: a CHILD_SA's down-client never overtakes its up-client.</summary>
    public void RunInBackground(string script, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(environment);
        lock (_queueLock)
            _tail = _tail.ContinueWith(_ => Run(script, environment), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Waits until every queued run has finished (at most <paramref name="timeout"/> plus one script's timeout).</summary>
    public bool Drain(TimeSpan timeout)
    {
        Task tail;
        lock (_queueLock) tail = _tail;
        return tail.Wait(timeout + _timeout);
    }

    /// <summary>leftfirewall=yes without leftupdown=: FreeS/WAN's default `ipsec _updown` opened the kernel's
    /// forward path for the tunnel here. FastPath's kernel never forwards (the dataplane does, the kernel
    /// guard keeps forwarding off), so there is no hole to open: the call is logged, nothing runs.</summary>
    public void NoteFirewall(string conn, string verb) => LogFirewall(conn, verb);

    [LoggerMessage(Level = LogLevel.Information, Message = "\"{Conn}\": leftfirewall=yes, no leftupdown: {Verb} needs no kernel firewall change (the kernel does not forward; FastPath's dataplane does)")]
    private partial void LogFirewall(string conn, string verb);
    [LoggerMessage(Level = LogLevel.Information, Message = "\"{Conn}\": updown {Verb}: {Line}")]
    private partial void LogOutput(string conn, string verb, string line);
    [LoggerMessage(Level = LogLevel.Information, Message = "\"{Conn}\": updown {Verb} ran {Script}")]
    private partial void LogRan(string conn, string verb, string script);
    [LoggerMessage(Level = LogLevel.Warning, Message = "\"{Conn}\": updown {Verb}: {Script} exited {Code}")]
    private partial void LogExit(string conn, string verb, string script, int code);
    [LoggerMessage(Level = LogLevel.Error, Message = "\"{Conn}\": updown {Verb}: {Script} killed after {Seconds} s")]
    private partial void LogTimeout(string conn, string verb, string script, int seconds);
    [LoggerMessage(Level = LogLevel.Error, Message = "\"{Conn}\": updown {Verb}: cannot run {Script}: {Error}")]
    private partial void LogFailed(string conn, string verb, string script, string error);
}

/// <summary>IKE engine notifications → updown scripts and metrics counters.</summary>
internal sealed class UpdownObserver(FastPathGateway gateway) : IIkeObserver
{
    public void ChildSaUp(IkeConnection connection, ChildSaInstall sa, bool rekey)
    {
        if (rekey) return; // Pluto does not re-run up-client on a rekey
        gateway.IkeUpdown(connection, sa, "up");
    }

    public void ChildSaDown(IkeConnection connection, ChildSaInstall sa, bool rekey, string reason)
    {
        if (rekey) return;
        gateway.IkeUpdown(connection, sa, "down");
    }
}
