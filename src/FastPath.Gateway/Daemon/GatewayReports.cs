using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using FastPath.Dataplane;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Gateway.Ike;
using FastPath.Ike.Engine;

namespace FastPath.Gateway.Daemon;

// Snapshots of a running gateway for `status`, `trafficstatus`, `eroute`, `spi` and `look`: plain
// records (the control socket sends them as JSON) plus the human text, in the shapes FreeS/WAN and
// Libreswan users know (`ipsec auto --status`, `ipsec eroute`, `ip xfrm state`, `ipsec trafficstatus`).
// Keys are never part of a report: `spi` prints them as 0x[masked].

public sealed record ConnectionReport(string Name, string Kind, string State, string Auto, string Type, string Local, string Remote,
    IReadOnlyList<string> LocalSubnets, IReadOnlyList<string> RemoteSubnets, int Eroutes, int Sas, DateTimeOffset? UpSince, string? Error, string Location);

public sealed record SaReport(string Connection, string Keying, string Direction, uint Spi, string Source, string Destination, string Suite,
    string Mode, bool UdpEncapsulation, int SourcePort, int DestinationPort, int ReplayWindow, long Packets, long Bytes, long Drops,
    ulong Sequence, int Worker);

public sealed record ErouteReport(string Source, string Destination, string Action, string? Peer, long Hits, int Protocol, string? Connection, string Line);

public sealed record StatusReport(string Config, string Dialect, DateTimeOffset Started, string Io, IReadOnlyList<ConnectionReport> Connections,
    IReadOnlyList<SaReport> Sas, IkeStatus? Ike, string? IkeUnavailable)
{
    /// <summary>The daemon's own memory (what a soak test watches for leaks, issue 9 / seed 000 bug #6).</summary>
    public MemoryReport? Memory { get; init; }
}

/// <summary>Process memory: the managed heap as the GC sees it and the resident set (/proc/self/status VmRSS).</summary>
/// <param name="GcHeapBytes">GC.GetTotalMemory(false): live objects plus garbage not yet collected.</param>
/// <param name="GcHeapAfterLastFullGcBytes">The heap size right after the last gen2 collection (blocking or background): the live set, 0 before the first one.</param>
/// <param name="Gen2Collections">GC.CollectionCount(2).</param>
public sealed record MemoryReport(long GcHeapBytes, long GcHeapAfterLastFullGcBytes, long GcCommittedBytes, int Gen0Collections, int Gen2Collections, long RssBytes)
{
    /// <summary>glibc mallinfo2: bytes in use in malloc's arenas plus mmapped chunks (0 without glibc).</summary>
    public long MallocInUseBytes { get; init; }
    /// <summary>glibc mallinfo2 fordblks: free bytes malloc keeps in its arenas (fragmentation, not returned to the system).</summary>
    public long MallocFreeBytes { get; init; }
    /// <summary>glibc mallinfo2 arena: bytes the arenas took from the system (sbrk and arena heaps).</summary>
    public long MallocArenaBytes { get; init; }
    /// <summary>Native key buffers of the crypto engines alive now (per SA direction one or two).</summary>
    public long NativeKeyBuffers { get; init; }
    public long NativeKeyBytes { get; init; }
    /// <summary>Threads of the process.</summary>
    public int Threads { get; init; }
    /// <summary>Methods the JIT compiled so far (System.Runtime.JitInfo; tier-ups count again): JIT scratch
    /// memory is what grew the native heap in the rekey soak (NativeHeapTrimmer.cs).</summary>
    public long JitCompiledMethods { get; init; }

    public static MemoryReport Now()
    {
        GCMemoryInfo full = GC.GetGCMemoryInfo(GCKind.FullBlocking), bg = GC.GetGCMemoryInfo(GCKind.Background);
        GCMemoryInfo last = full.Index >= bg.Index ? full : bg;
        Interop.Malloc.MallInfo2 m = Interop.Malloc.Info();
        return new MemoryReport(GC.GetTotalMemory(false), last.Index > 0 ? last.HeapSizeBytes : 0, GC.GetGCMemoryInfo().TotalCommittedBytes,
            GC.CollectionCount(0), GC.CollectionCount(2), Environment.WorkingSet)
        {
            MallocInUseBytes = (long)(m.Uordblks + m.Hblkhd),
            MallocFreeBytes = (long)m.Fordblks,
            MallocArenaBytes = (long)m.Arena,
            NativeKeyBuffers = FastPath.Crypto.Diagnostics.NativeKeyMemory.LiveBuffers,
            NativeKeyBytes = FastPath.Crypto.Diagnostics.NativeKeyMemory.LiveBytes,
            Threads = System.Diagnostics.Process.GetCurrentProcess().Threads.Count,
            JitCompiledMethods = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false),
        };
    }
}

public sealed partial class FastPathGateway
{
    public IReadOnlyList<ConnectionReport> ConnectionReports() => ConnectionReports(IkeStatusSnapshot());

    // The engine snapshot comes from the caller, taken outside _lock (see SaReports).
    private IReadOnlyList<ConnectionReport> ConnectionReports(IkeStatus? ikeSnapshot)
    {
        lock (_lock)
        {
            // IKE conns: their SAs and eroutes live in the engine and the sink, not in the ConnEntry.
            IkeStatus? ike = _conns.Values.Any(c => c.Plan.Kind == PlannedKind.Ike) ? ikeSnapshot : null;
            var ikeEroutes = ike is null ? [] : ErouteReports().Where(e => e.Connection is not null).GroupBy(e => e.Connection!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            return _conns.Values.OrderBy(c => c.Plan.Kind == PlannedKind.PolicyGroup ? 1 : 0).ThenBy(c => c.Plan.Name, StringComparer.Ordinal).Select(c =>
            {
                PlannedConnection p = c.Plan;
                var (state, eroutes, sas, upSince) = p.Kind == PlannedKind.Ike && c.State != ConnectionState.Failed
                    ? IkeFootprint(c, ike, ikeEroutes)
                    : (c.State.ToString().ToLowerInvariant(), c.Installed.Count, c.Sas.Count, c.UpSince);
                return new ConnectionReport(p.Name, p.Kind.ToString().ToLowerInvariant(), state,
                    p.Config.Auto.ToString().ToLowerInvariant(), p.Config.Type.ToString().ToLowerInvariant(),
                    p.LocalHost?.ToString() ?? p.LocalEnd.Host.ToString(), p.RemoteHost?.ToString() ?? p.RemoteEnd.Host.ToString(),
                    p.LocalEnd.Subnets.Select(s => s.ToString()).ToArray(),
                    p.Kind == PlannedKind.PolicyGroup ? p.Eroutes.Select(e => e.Destination).ToArray() : p.RemoteEnd.Subnets.Select(s => s.ToString()).ToArray(),
                    eroutes, sas, upSince, c.Error, p.Config.Location.ToString());
            }).ToArray();
        }
    }

    /// <summary>An IKE conn is up while a CHILD_SA of it is installed, routed while it has %trap eroutes.</summary>
    private (string State, int Eroutes, int Sas, DateTimeOffset? UpSince) IkeFootprint(ConnEntry c, IkeStatus? ike, Dictionary<string, int> eroutes)
    {
        string name = c.Plan.Name;
        var children = ike?.IkeSas.Where(a => a.Connection == name).SelectMany(a => a.Children).ToArray() ?? [];
        bool up = children.Any(ch => ch.State == "INSTALLED");
        string state = up ? "up" : _sink?.IsRouted(name) == true ? "routed" : "loaded";
        return (state, eroutes.GetValueOrDefault(name), _sink?.SaCount(name) ?? 0, up ? children.Min(ch => ch.Installed) : null);
    }

    /// <summary>Every ESP SA the dataplane carries: manual ones from their scripts, IKE ones from the engine's status.</summary>
    public IReadOnlyList<SaReport> SaReports() => SaReports(IkeStatusSnapshot());

    // The engine snapshot is taken before _lock, never under it: the engine thread takes _lock itself
    // (IkeUpdown when a CHILD_SA comes up), so waiting for the engine while holding _lock stalled both
    // for the engine's 30 s Invoke timeout — a status poll during a rekey or IKE_AUTH froze IKE for 30 s
    // (found by the issue-9 reliability tests).
    private List<SaReport> SaReports(IkeStatus? ikeSnapshot)
    {
        lock (_lock)
        {
            var list = new List<SaReport>();
            foreach (ConnEntry c in _conns.Values.OrderBy(c => c.Plan.Name, StringComparer.Ordinal))
            {
                if (c.Plan.Manual is null) continue;
                foreach (SaHandle h in c.Sas)
                {
                    Manual.ManualSa? sa = c.Plan.Manual.Sas.FirstOrDefault(s => s.Spi == h.Spi && (h.Direction == SaDirection.Inbound) == Equals(s.Destination, c.Plan.LocalHost));
                    if (sa is null) continue;
                    list.Add(new SaReport(c.Plan.Name, "manual", h.Direction == SaDirection.Inbound ? "in" : "out", h.Spi, sa.Source.ToString(), sa.Destination.ToString(),
                        sa.Suite.ToString(), sa.Transport ? "transport" : "tunnel", sa.UdpEncapsulation, sa.SourcePort, sa.DestinationPort, sa.ReplayWindow,
                        h.Counters.Packets, h.Counters.Bytes, h.Counters.TotalDrops, h.Sequence, h.Worker));
                }
            }
            if (ikeSnapshot is { } ike && _sink is { } sink)
            {
                // The engine lists the CHILD_SAs; the dataplane has what `ip xfrm state` shows of each
                // direction (addresses, ports, replay window, sequence, owner worker, drops).
                foreach (IkeSaStatus ikeSa in ike.IkeSas.OrderBy(a => a.Connection, StringComparer.Ordinal).ThenBy(a => a.Serial))
                    foreach (ChildSaStatus ch in ikeSa.Children)
                        foreach (bool inbound in new[] { true, false })
                        {
                            if (!sink.TryGetSa(inbound ? ch.InboundSpi : ch.OutboundSpi, inbound, out ChildSaDataplaneInfo d)) continue;
                            string local = d.LocalAddress.ToString(), remote = d.RemoteAddress.ToString();
                            list.Add(new SaReport(ikeSa.Connection, "ike", inbound ? "in" : "out", d.Handle.Spi, inbound ? remote : local, inbound ? local : remote,
                                d.Suite, d.Transport ? "transport" : "tunnel", d.UdpEncapsulation, inbound ? d.RemotePort : d.LocalPort, inbound ? d.LocalPort : d.RemotePort,
                                d.ReplayWindow, d.Handle.Counters.Packets, d.Handle.Counters.Bytes, d.Handle.Counters.TotalDrops, d.Handle.Sequence, d.Handle.Worker));
                        }
            }
            return list;
        }
    }

    /// <summary>The eroute table (IPv4 then IPv6) with the conn that owns each line.</summary>
    public IReadOnlyList<ErouteReport> ErouteReports()
    {
        lock (_lock)
        {
            var owner = new Dictionary<(bool, string, string, byte), string>(_erouteOwner);
            DataplaneChildSaSink? sink = _sink; // IKE eroutes: the sink knows their CHILD_SA group or route
            var list = new List<ErouteReport>();
            foreach (ErouteEntry<uint> e in Running.Dataplane.ErouteV4.List())
                list.Add(new ErouteReport(e.Selector.SrcText, e.Selector.DstText, e.ActionText, e.Peer?.ToString(), e.Hits, e.Selector.Protocol,
                    owner.GetValueOrDefault((false, e.Selector.SrcText, e.Selector.DstText, e.Selector.Protocol)) ?? sink?.OwnerOf(e), e.FormatLine()));
            foreach (ErouteEntry<UInt128> e in Running.Dataplane.ErouteV6.List())
                list.Add(new ErouteReport(e.Selector.SrcText, e.Selector.DstText, e.ActionText, e.Peer?.ToString(), e.Hits, e.Selector.Protocol,
                    owner.GetValueOrDefault((true, e.Selector.SrcText, e.Selector.DstText, e.Selector.Protocol)) ?? sink?.OwnerOf(e), e.FormatLine()));
            return list;
        }
    }

    /// <summary>`fastpath eroute`: exactly ErouteTable.Format (IPv4, then IPv6).</summary>
    public string FormatEroutes() => Running.Dataplane.ErouteV4.Format() + Running.Dataplane.ErouteV6.Format();

    public IkeStatus? IkeStatusSnapshot()
    {
        IkeEngine? e = _engine;
        if (e is null) return null;
        return e.GetStatus();
    }

    public StatusReport Status()
    {
        IkeStatus? ike = IkeStatusSnapshot(); // outside _lock (see SaReports)
        lock (_lock)
        {
            return new StatusReport(_config?.Path ?? "", _config?.Dialect.ToString().ToLowerInvariant() ?? "", _created, Running.IoDescription,
                ConnectionReports(ike), SaReports(ike), ike, _conns.Values.Any(c => c.Plan.Kind == PlannedKind.Ike) ? _ikeUnavailable : null) { Memory = MemoryReport.Now() };
        }
    }

    public IReadOnlyDictionary<DropReason, long> Drops() => Running.Dataplane.DropsByReason();

    // ---- text --------------------------------------------------------------------------------

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>`fastpath status`: connections, then SAs (manual and IKE), as `ipsec auto --status` / `swanctl --list-sas`.</summary>
    public static string FormatStatus(StatusReport s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder();
        sb.Append(Inv, $"FastPath gateway: {s.Config} ({s.Dialect}), up since {s.Started:yyyy-MM-dd HH:mm:ss}Z\n");
        sb.Append(Inv, $"Connections ({s.Connections.Count}):\n");
        foreach (ConnectionReport c in s.Connections)
        {
            string l = (c.LocalSubnets.Count > 0 ? string.Join(",", c.LocalSubnets) + "===" : "") + c.Local;
            string r = c.Kind == "policygroup" ? $"{c.Remote}[{c.RemoteSubnets.Count} policy entries]" : c.Remote + (c.RemoteSubnets.Count > 0 ? "===" + string.Join(",", c.RemoteSubnets) : "");
            sb.Append(Inv, $"  \"{c.Name}\": {l}...{r}; {c.Kind} {c.Type}; {c.State}; auto={c.Auto}; {c.Eroutes} eroutes, {c.Sas} SAs\n");
            if (c.Error is not null) sb.Append(Inv, $"      not loaded: {c.Error}\n");
        }
        var manual = s.Sas.Where(a => a.Keying == "manual").GroupBy(a => a.Connection).ToArray();
        int ikeChildren = s.Ike?.IkeSas.Sum(i => i.Children.Count) ?? 0;
        sb.Append(Inv, $"Security Associations ({manual.Length} manual, {s.Ike?.IkeSas.Count ?? 0} IKE SAs, {ikeChildren} CHILD_SAs):\n");
        foreach (var g in manual)
        {
            SaReport? o = g.FirstOrDefault(a => a.Direction == "out"), i = g.FirstOrDefault(a => a.Direction == "in");
            sb.Append(Inv, $"  \"{g.Key}\": manual keys, ESP {(o ?? i)!.Mode}{((o ?? i)!.UdpEncapsulation ? " in UDP" : "")}, {(o ?? i)!.Suite}\n");
            sb.Append(Inv, $"    {{ESP=>0x{o?.Spi ?? 0:x8} <0x{i?.Spi ?? 0:x8}}} {o?.Source}...{o?.Destination}\n");
            sb.Append(Inv, $"    in  {i?.Bytes ?? 0} bytes, {i?.Packets ?? 0} packets; out {o?.Bytes ?? 0} bytes, {o?.Packets ?? 0} packets\n");
        }
        if (s.Ike is { } ike)
        {
            foreach (IkeSaStatus a in ike.IkeSas)
            {
                sb.Append(Inv, $"  \"{a.Connection}\" #{a.Serial}: {a.State}, {a.Local}[{a.LocalId}]...{a.Remote}[{a.RemoteId}]{(a.NatDetected ? " NAT" : "")}\n");
                sb.Append(Inv, $"    IKEv2 SPIs: {a.SpiI:x16}_i{(a.Initiator ? "*" : "")} {a.SpiR:x16}_r{(a.Initiator ? "" : "*")}, {a.Suite}\n");
                foreach (ChildSaStatus ch in a.Children)
                {
                    sb.Append(Inv, $"    #{ch.Serial}: {ch.State}, reqid {ch.ReqId}, ESP {ch.Mode.ToLowerInvariant()}{(ch.UdpEncapsulation ? " in UDP" : "")}, {ch.Suite} {{ESP=>0x{ch.OutboundSpi:x8} <0x{ch.InboundSpi:x8}}}\n");
                    sb.Append(Inv, $"      {ch.LocalTs} === {ch.RemoteTs}; in {ch.BytesIn} bytes, {ch.PacketsIn} packets; out {ch.BytesOut} bytes, {ch.PacketsOut} packets\n");
                }
            }
        }
        if (s.IkeUnavailable is not null) sb.Append(Inv, $"IKE: {s.IkeUnavailable}\n");
        return sb.ToString();
    }

    /// <summary>`fastpath trafficstatus` (Libreswan's `ipsec trafficstatus` line per SA pair).</summary>
    public static string FormatTraffic(IReadOnlyList<SaReport> sas)
    {
        ArgumentNullException.ThrowIfNull(sas);
        var sb = new StringBuilder();
        foreach (var g in sas.GroupBy(a => (a.Connection, a.Keying)))
        {
            SaReport? o = g.FirstOrDefault(a => a.Direction == "out"), i = g.FirstOrDefault(a => a.Direction == "in");
            sb.Append(Inv, $"\"{g.Key.Connection}\": type=ESP, keying={g.Key.Keying}, inBytes={i?.Bytes ?? 0}, inPackets={i?.Packets ?? 0}, outBytes={o?.Bytes ?? 0}, outPackets={o?.Packets ?? 0}, peer={o?.Destination ?? i?.Source}\n");
        }
        if (sb.Length == 0) sb.Append("no SAs\n");
        return sb.ToString();
    }

    /// <summary>`fastpath spi`: one block per SA, `ip xfrm state` fields, keys masked.</summary>
    public static string FormatSas(IReadOnlyList<SaReport> sas)
    {
        ArgumentNullException.ThrowIfNull(sas);
        var sb = new StringBuilder();
        foreach (SaReport a in sas)
        {
            sb.Append(Inv, $"src {a.Source} dst {a.Destination}\n");
            sb.Append(Inv, $"\tproto esp spi 0x{a.Spi:x8} mode {a.Mode} dir {a.Direction} conn \"{a.Connection}\" keying {a.Keying}\n");
            sb.Append(Inv, $"\treplay-window {a.ReplayWindow} seq 0x{a.Sequence:x8} worker {a.Worker}\n");
            sb.Append(Inv, $"\tsuite {a.Suite} key 0x[masked]\n");
            if (a.UdpEncapsulation) sb.Append(Inv, $"\tencap type espinudp sport {a.SourcePort} dport {a.DestinationPort}\n");
            sb.Append(Inv, $"\tcurrent: {a.Bytes}(bytes), {a.Packets}(packets), {a.Drops}(drops)\n");
        }
        if (sb.Length == 0) sb.Append("no SAs\n");
        return sb.ToString();
    }
}
