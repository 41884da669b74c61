using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using FastPath.Config;
using FastPath.Gateway.Daemon;
using FastPath.Gateway.Manual;
using FastPath.Gateway.Metrics;

namespace FastPath.Gateway.Control;

// Every verb of the control socket → the gateway, with both a human text and JSON data:
//   status trafficstatus eroute spi look barf counters metrics     (listings)
//   up down add delete route unroute replace NAME                   (conn verbs; NAME required)
//   reload rereadsecrets rereadgroups stop ping                     (daemon verbs)
// Errors map to the documented exit codes: unknown conn 5, config errors 6, other failures 1.

/// <summary>Dispatches control requests to one gateway.</summary>
public sealed class ControlHandlers
{
    private readonly FastPathGateway _gw;
    private readonly Action _stop;
    private readonly RecentLog? _recent;

    public static readonly IReadOnlyList<string> ConnVerbs = ["up", "down", "add", "delete", "route", "unroute", "replace"];
    /// <summary>Control-socket verbs with a NAME that the CLI does not offer as commands (yet): test and tooling use.</summary>
    public static readonly IReadOnlyList<string> IkeVerbs = ["rekey", "rekey-ike"];
    public static readonly IReadOnlyList<string> Verbs = [.. ConnVerbs, .. IkeVerbs, "status", "trafficstatus", "eroute", "spi", "look", "barf", "counters", "metrics", "memory", "reload", "rereadsecrets", "rereadgroups", "stop", "ping"];

    public ControlHandlers(FastPathGateway gateway, Action stop, RecentLog? recent = null)
    {
        _gw = gateway ?? throw new ArgumentNullException(nameof(gateway));
        _stop = stop ?? throw new ArgumentNullException(nameof(stop));
        _recent = recent;
    }

    public ControlResponse Handle(ControlRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        try
        {
            if ((ConnVerbs.Contains(r.Verb) || IkeVerbs.Contains(r.Verb)) && string.IsNullOrWhiteSpace(r.Name))
                return ControlResponse.Failure(ExitCodes.Usage, $"{r.Verb} needs a connection NAME");
            if (r.Verb is not ("ping" or "stop") && !_gw.IsRunning)
                return ControlResponse.Failure(ExitCodes.NotRunning, "the gateway is starting or stopping; try again");
            string n = r.Name ?? "";
            return r.Verb switch
            {
                "ping" => ControlResponse.Success("pong", new { pid = Environment.ProcessId, running = _gw.IsRunning }),
                "stop" => Stop(),
                "up" => Done(_gw.Up(n)),
                "down" => Done(_gw.Down(n)),
                "add" => Done(_gw.Add(n)),
                "delete" => Done(_gw.Delete(n)),
                "route" => Done(_gw.Route(n)),
                "unroute" => Done(_gw.Unroute(n)),
                "replace" => Done(_gw.Replace(n)),
                "rekey" => Done(_gw.Rekey(n, ike: false)),
                "rekey-ike" => Done(_gw.Rekey(n, ike: true)),
                "reload" => Done(_gw.Reload()),
                "rereadsecrets" => Done(_gw.RereadSecrets()),
                "rereadgroups" => Done(_gw.RereadGroups()),
                "status" => Status(n),
                "trafficstatus" => Listing(FastPathGateway.FormatTraffic(_gw.SaReports()), _gw.SaReports()),
                "eroute" => Listing(_gw.FormatEroutes(), _gw.ErouteReports()),
                "spi" => Listing(FastPathGateway.FormatSas(_gw.SaReports()), _gw.SaReports()),
                "look" => Look(),
                "barf" => Barf(),
                "counters" => Listing(_gw.Runtime!.CountersJson() + "\n", System.Text.Json.JsonDocument.Parse(_gw.Runtime!.CountersJson()).RootElement),
                "memory" => Memory(),
                "metrics" => Listing(GatewayMetrics.PrometheusText(_gw), new { endpoint = _gw.Metrics?.Endpoint?.ToString() }),
                _ => ControlResponse.Failure(ExitCodes.Usage, $"unknown verb \"{r.Verb}\" (known: {string.Join(", ", Verbs)})"),
            };
        }
        catch (UnknownConnectionException e) { return ControlResponse.Failure(ExitCodes.UnknownConnection, e.Message); }
        catch (ConfigException e) { return ControlResponse.Failure(ExitCodes.BadConfig, "configuration errors (nothing changed):\n" + e.Message); }
        catch (PlanException e) { return ControlResponse.Failure(ExitCodes.BadConfig, e.Message); }
        catch (ManualKeyException e) { return ControlResponse.Failure(ExitCodes.BadConfig, e.Message); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
        {
            return ControlResponse.Failure(ExitCodes.Failed, e.Message);
        }
    }

    private ControlResponse Stop()
    {
        _stop();
        return ControlResponse.Success("stopping", new { pid = Environment.ProcessId });
    }

    private static ControlResponse Done(string text) => ControlResponse.Success(text + "\n", new { result = text });

    private static ControlResponse Listing(string text, object data) => ControlResponse.Success(text, data);

    // A full, blocking, compacting collection first, so gc_heap_after_last_full_gc_bytes is the live
    // heap now: a soak compares live heaps, not heaps full of garbage (the 11-minute rekey soak saw no
    // gen2 collection at all). Control plane only; the workers allocate nothing per packet either way.
    private static ControlResponse Memory()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        MemoryReport m = MemoryReport.Now();
        return Listing(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"live heap {m.GcHeapAfterLastFullGcBytes / 1024} KiB after a full GC, committed {m.GcCommittedBytes / 1024} KiB, RSS {m.RssBytes / 1024} KiB, gen2 collections {m.Gen2Collections}; " +
            $"malloc in use {m.MallocInUseBytes / 1024} KiB, free in arenas {m.MallocFreeBytes / 1024} KiB, arenas {m.MallocArenaBytes / 1024} KiB; native key buffers {m.NativeKeyBuffers} ({m.NativeKeyBytes / 1024} KiB); threads {m.Threads}\n"), m);
    }

    private ControlResponse Status(string name)
    {
        StatusReport s = _gw.Status();
        if (name.Length > 0)
        {
            if (!s.Connections.Any(c => c.Name == name)) throw new UnknownConnectionException(name, s.Connections.Select(c => c.Name));
            s = s with
            {
                Connections = s.Connections.Where(c => c.Name == name).ToArray(),
                Sas = s.Sas.Where(a => a.Connection == name).ToArray(),
                Ike = s.Ike is null ? null : s.Ike with { IkeSas = s.Ike.IkeSas.Where(i => i.Connection == name).ToArray(), Connections = s.Ike.Connections.Where(c => c.Name == name).ToArray() },
            };
        }
        return ControlResponse.Success(FastPathGateway.FormatStatus(s), s);
    }

    /// <summary>`ipsec look`: host and time, eroutes, SAs, routes — one screen.</summary>
    private ControlResponse Look()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Environment.MachineName} {DateTimeOffset.UtcNow:ddd MMM d HH:mm:ss} UTC {DateTimeOffset.UtcNow:yyyy}\n");
        sb.Append(_gw.FormatEroutes());
        foreach (SaReport a in _gw.SaReports())
            sb.Append(CultureInfo.InvariantCulture, $"esp0x{a.Spi:x}@{a.Destination} ESP_{a.Suite}: dir={a.Direction} src={a.Source} {a.Mode}{(a.UdpEncapsulation ? " natencap=espinudp" : "")} life(c)={a.Packets}(pkts),{a.Bytes}(bytes) conn=\"{a.Connection}\"\n");
        string routes = Run("ip", "-4 route") + Run("ip", "-6 route");
        sb.Append("routing table:\n").Append(routes);
        return ControlResponse.Success(sb.ToString(), new { eroutes = _gw.ErouteReports(), sas = _gw.SaReports(), routes = routes.Split('\n', StringSplitOptions.RemoveEmptyEntries) });
    }

    /// <summary>`ipsec barf`: everything needed to debug, secrets masked.</summary>
    private ControlResponse Barf()
    {
        var sections = new List<(string Title, string Body)>();
        IpsecConfig? cfg = _gw.Config;
        foreach (string f in cfg?.Files ?? [])
        {
            string body;
            try { body = IpsecConfLoader.MaskSecrets(File.ReadAllText(f)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { body = $"(cannot read: {e.Message})"; }
            sections.Add(($"config {f} (secrets masked)", body));
        }
        sections.Add(("ipsec.secrets (masked)", _gw.Secrets?.ToMaskedString() ?? "(none loaded)"));
        sections.Add(("status", FastPathGateway.FormatStatus(_gw.Status())));
        sections.Add(("eroute", _gw.FormatEroutes()));
        sections.Add(("spi", FastPathGateway.FormatSas(_gw.SaReports())));
        sections.Add(("counters", _gw.Runtime?.CountersJson() ?? ""));
        sections.Add(("recent log", string.Join("\n", _recent?.Lines ?? ["(no log buffer)"])));
        sections.Add(("ip addr", Run("ip", "addr")));
        sections.Add(("ip route", Run("ip", "-4 route") + Run("ip", "-6 route")));
        sections.Add(("ip neigh", Run("ip", "neigh")));
        sections.Add(("nft list ruleset", Run("nft", "list ruleset")));
        sections.Add(("sysctl forwarding", Run("sysctl", "net.ipv4.ip_forward net.ipv6.conf.all.forwarding")));
        var sb = new StringBuilder();
        foreach (var (title, body) in sections) sb.Append("+ ").Append(title).Append('\n').Append(body.TrimEnd()).Append("\n\n");
        return ControlResponse.Success(sb.ToString(), sections.ToDictionary(s => s.Title, s => s.Body));
    }

    private static string Run(string file, string args)
    {
        try
        {
            var psi = new ProcessStartInfo(file, args.Split(' ')) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string o = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(5000)) { p.Kill(); return $"({file} {args}: no answer in 5 s)\n"; }
            return o + err.Result;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"({file} {args}: {e.Message})\n";
        }
    }
}
