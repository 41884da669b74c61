using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using FastPath.Dataplane;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
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
    IReadOnlyList<SaReport> Sas, IkeStatus? Ike, string? IkeUnavailable);

public sealed partial class FastPathGateway
{
    public IReadOnlyList<ConnectionReport> ConnectionReports()
    {
        lock (_lock)
        {
            return _conns.Values.OrderBy(c => c.Plan.Kind == PlannedKind.PolicyGroup ? 1 : 0).ThenBy(c => c.Plan.Name, StringComparer.Ordinal).Select(c =>
            {
                PlannedConnection p = c.Plan;
                return new ConnectionReport(p.Name, p.Kind.ToString().ToLowerInvariant(), c.State.ToString().ToLowerInvariant(),
                    p.Config.Auto.ToString().ToLowerInvariant(), p.Config.Type.ToString().ToLowerInvariant(),
                    p.LocalHost?.ToString() ?? p.LocalEnd.Host.ToString(), p.RemoteHost?.ToString() ?? p.RemoteEnd.Host.ToString(),
                    p.LocalEnd.Subnets.Select(s => s.ToString()).ToArray(),
                    p.Kind == PlannedKind.PolicyGroup ? p.Eroutes.Select(e => e.Destination).ToArray() : p.RemoteEnd.Subnets.Select(s => s.ToString()).ToArray(),
                    c.Installed.Count, c.Sas.Count, c.UpSince, c.Error, p.Config.Location.ToString());
            }).ToArray();
        }
    }

    /// <summary>Every ESP SA the dataplane carries: manual ones from their scripts, IKE ones from the engine's status.</summary>
    public IReadOnlyList<SaReport> SaReports()
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
            if (IkeStatusSnapshot() is { } ike)
            {
                foreach (IkeSaStatus ikeSa in ike.IkeSas)
                    foreach (ChildSaStatus ch in ikeSa.Children)
                    {
                        list.Add(new SaReport(ikeSa.Connection, "ike", "in", ch.InboundSpi, ikeSa.Remote, ikeSa.Local, ch.Suite, ch.Mode, ch.UdpEncapsulation, 4500, 4500, 0,
                            ch.PacketsIn, ch.BytesIn, 0, 0, -1));
                        list.Add(new SaReport(ikeSa.Connection, "ike", "out", ch.OutboundSpi, ikeSa.Local, ikeSa.Remote, ch.Suite, ch.Mode, ch.UdpEncapsulation, 4500, 4500, 0,
                            ch.PacketsOut, ch.BytesOut, 0, 0, -1));
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
            var list = new List<ErouteReport>();
            foreach (ErouteEntry<uint> e in Running.Dataplane.ErouteV4.List())
                list.Add(new ErouteReport(e.Selector.SrcText, e.Selector.DstText, e.ActionText, e.Peer?.ToString(), e.Hits, e.Selector.Protocol,
                    owner.GetValueOrDefault((false, e.Selector.SrcText, e.Selector.DstText, e.Selector.Protocol)), e.FormatLine()));
            foreach (ErouteEntry<UInt128> e in Running.Dataplane.ErouteV6.List())
                list.Add(new ErouteReport(e.Selector.SrcText, e.Selector.DstText, e.ActionText, e.Peer?.ToString(), e.Hits, e.Selector.Protocol,
                    owner.GetValueOrDefault((true, e.Selector.SrcText, e.Selector.DstText, e.Selector.Protocol)), e.FormatLine()));
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
        lock (_lock)
        {
            return new StatusReport(_config?.Path ?? "", _config?.Dialect.ToString().ToLowerInvariant() ?? "", _created, Running.IoDescription,
                ConnectionReports(), SaReports(), IkeStatusSnapshot(), _conns.Values.Any(c => c.Plan.Kind == PlannedKind.Ike) ? _ikeUnavailable : null);
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
                    sb.Append(Inv, $"    #{ch.Serial}: {ch.State}, reqid {ch.ReqId}, ESP {ch.Mode}{(ch.UdpEncapsulation ? " in UDP" : "")}, {ch.Suite} {{ESP=>0x{ch.OutboundSpi:x8} <0x{ch.InboundSpi:x8}}}\n");
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
