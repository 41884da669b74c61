using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Numerics;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Ike.Engine;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Ike;

// IChildSaSink on the dataplane: CHILD_SAs become inbound/outbound ESP SAs, their traffic
// selectors become eroutes, %trap eroutes stand for routed connections, and the dataplane's
// events (ACQUIRE, lifetimes) go back to the engine.
//
//   one CHILD_SA group per ReqId (stable across rekeys) ─► a dataplane policy group G (1..2^24-1)
//     InstallInbound(sa)   ─► Dataplane.InstallInboundInGroup(in SA, G): decrypted packets must, reversed,
//                             select an SA eroute of G — whichever outbound SPI it names
//     InstallOutbound(sa)  ─► Dataplane.InstallOutbound(out SA) ─► [running: WaitForCommands, so no
//                             eroute names an SPI its owner does not have yet]
//                          ─► ONE ErouteTable.Apply per family: every LocalTs×RemoteTs selector
//                             → tun0x<new out SPI> (group G); selectors the group had before and
//                             no longer has fall back (below) ─► held %trap packets released
//                             (ResolveAcquire) ─► the replaced outbound SA (ReplacesOutboundSpi, or
//                             the group's previous one) deleted after an RCU grace period
//     DeleteOutbound(spi)  ─► if the group's eroutes name it: they fall back, atomically — %trap when
//                             the connection is routed, else removed (no eroute = NoPolicy drop,
//                             never cleartext) ─► grace period ─► SA deleted
//     DeleteInbound(spi)   ─► SA deleted
//   Route(conn)            ─► %trap eroutes for its configured selectors (kept under an SA eroute)
//   Dispatch(event)        ─► ACQUIRE of a %trap eroute → OnAcquire(its connection, trigger flow);
//                             Soft/HardLifetime, SequenceExhausted of our SAs → OnChildLifetime
//
// Make-before-break (DESIGN.md §3, IIkeHost.cs): new inbound on both sides, then each side
// switches its outbound; at every moment a packet from either SA of the pair passes the group check,
// so a rekey loses nothing and never drops PolicyMismatch (tests/FastPath.Gateway.Tests/Ike).
// Threads: the engine calls the IChildSaSink methods on its thread, Route/Unroute come from the
// control socket, Dispatch from the gateway's pump: one lock serializes the sink's state; the
// engine is called outside it.

/// <summary>Where the sink sends dataplane events for IKE (the engine; a fake in tests).</summary>
public interface IIkeEventTarget
{
    void OnAcquire(string connection, IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort);
    void OnChildLifetime(uint spi, bool inbound, bool hard);
}

/// <summary>The dataplane implementation of <see cref="IChildSaSink"/> plus routing of connections.</summary>
public sealed class DataplaneChildSaSink : IChildSaSink, IDisposable
{
    private sealed class Group
    {
        public required uint Id;
        public required string Connection;
        public uint OutboundSpi;                 // the SPI the group's eroutes name now (0 = none)
        public IPAddress? Peer;
        public ChildSelectors Selectors = new([], []);
    }

    private sealed class RouteEntry
    {
        public required IkeConnection Connection;
        public required ChildSelectors Selectors;
    }

    private sealed class SaEntry
    {
        public required SaHandle Handle;
        public required uint ReqId;
        public required string Connection;
        public long LastPackets;
        public long LastUsed;
    }

    private readonly record struct PendingAcquire(bool Ipv6, int ErouteId, long Since);

    private readonly Dataplane.Pipeline.Dataplane _dp;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Dictionary<uint, Group> _groups = new();               // by ReqId
    private readonly Dictionary<string, RouteEntry> _routes = new(StringComparer.Ordinal);
    private readonly Dictionary<ErouteSelector<uint>, string> _trapOwner4 = new();
    private readonly Dictionary<ErouteSelector<UInt128>, string> _trapOwner6 = new();
    private readonly Dictionary<uint, SaEntry> _outbound = new();
    private readonly Dictionary<uint, SaEntry> _inbound = new();
    private readonly Dictionary<string, List<PendingAcquire>> _pending = new(StringComparer.Ordinal);
    private uint _nextGroup;
    private System.Threading.Timer? _expiry;
    private bool _disposed;

    /// <summary>How long a command or a grace period may take on a running dataplane before the sink gives up (throws).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An ACQUIRE that the engine neither answered with an SA nor failed is resolved as failed after this
    /// (so the next packet raises a new ACQUIRE: keyingtries). Default: the dataplane's hold time is 2 s typically; 30 s.</summary>
    public TimeSpan AcquireTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often pending ACQUIREs are checked for <see cref="AcquireTimeout"/> while any is pending
    /// (a timer: a trapped flow whose ACQUIRE is pending raises no further events that could do it);
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> = only on Dispatch / ExpireAcquires.</summary>
    public TimeSpan ExpiryInterval { get; init; } = TimeSpan.FromSeconds(1);

    public DataplaneChildSaSink(FastPath.Dataplane.Pipeline.Dataplane dataplane, ILogger logger)
        : this(dataplane, logger, TimeProvider.System)
    {
    }

    public DataplaneChildSaSink(FastPath.Dataplane.Pipeline.Dataplane dataplane, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(dataplane);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        _dp = dataplane;
        _log = logger;
        _time = time;
    }

    // ---- routing -----------------------------------------------------------------------------

    /// <summary>auto=route: %trap eroutes for the connection's LocalTs → RemoteTs (ipsec route NAME).
    /// Selectors an SA eroute holds now keep it (they fall back to %trap when the SA goes).</summary>
    public void Route(IkeConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var (local, remote) = ChildSaMapping.ConfiguredTs(connection);
        ChildSelectors sel = ChildSaMapping.ToSelectors(local, remote);
        lock (_gate)
        {
            if (_routes.TryGetValue(connection.Name, out RouteEntry? old)) RemoveTraps(old, except: sel);
            _routes[connection.Name] = new RouteEntry { Connection = connection, Selectors = sel };
            var c4 = new List<ErouteChange<uint>>();
            var c6 = new List<ErouteChange<UInt128>>();
            foreach (var s in sel.V4)
            {
                _trapOwner4[s] = connection.Name;
                if (!HoldsSa(_dp.ErouteV4, s)) c4.Add(new(new(s, ErouteAction.Trap)));
            }
            foreach (var s in sel.V6)
            {
                _trapOwner6[s] = connection.Name;
                if (!HoldsSa(_dp.ErouteV6, s)) c6.Add(new(new(s, ErouteAction.Trap)));
            }
            _dp.ErouteV4.Apply(c4.ToArray());
            _dp.ErouteV6.Apply(c6.ToArray());
        }
        _log.LogInformation("\"{Connection}\": routed, {Count} %trap eroute(s)", connection.Name, sel.Count);
    }

    /// <summary>ipsec unroute NAME: its %trap eroutes removed (SA eroutes stay until the SA goes).</summary>
    public void Unroute(string connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        lock (_gate)
        {
            if (!_routes.Remove(connection, out RouteEntry? r)) return;
            RemoveTraps(r, except: null);
            FailPendingLocked(connection);
        }
        _log.LogInformation("\"{Connection}\": unrouted", connection);
    }

    /// <summary>True when <paramref name="connection"/> has %trap eroutes (auto=route / ipsec route).</summary>
    public bool IsRouted(string connection)
    {
        lock (_gate) return _routes.ContainsKey(connection);
    }

    private void RemoveTraps(RouteEntry r, ChildSelectors? except)
    {
        var c4 = new List<ErouteChange<uint>>();
        var c6 = new List<ErouteChange<UInt128>>();
        foreach (var s in r.Selectors.V4)
        {
            if (except is not null && except.V4.Contains(s)) continue;
            if (_trapOwner4.TryGetValue(s, out string? o) && o == r.Connection.Name) _trapOwner4.Remove(s);
            if (IsTrap(_dp.ErouteV4, s)) c4.Add(new(new(s, ErouteAction.Trap), Delete: true));
        }
        foreach (var s in r.Selectors.V6)
        {
            if (except is not null && except.V6.Contains(s)) continue;
            if (_trapOwner6.TryGetValue(s, out string? o) && o == r.Connection.Name) _trapOwner6.Remove(s);
            if (IsTrap(_dp.ErouteV6, s)) c6.Add(new(new(s, ErouteAction.Trap), Delete: true));
        }
        _dp.ErouteV4.Apply(c4.ToArray());
        _dp.ErouteV6.Apply(c6.ToArray());
    }

    private static bool HoldsSa<TKey>(ErouteTable<TKey> t, in ErouteSelector<TKey> s) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(s, out ErouteEntry<TKey> e) && e.Action.Kind == ErouteActionKind.Sa;

    private static bool IsTrap<TKey>(ErouteTable<TKey> t, in ErouteSelector<TKey> s) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(s, out ErouteEntry<TKey> e) && e.Action.Kind is ErouteActionKind.Trap or ErouteActionKind.Hold;

    // ---- SAs ---------------------------------------------------------------------------------

    public void InstallInbound(ChildSaInstall sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        SaParameters p = ChildSaMapping.ToSaParameters(sa, inbound: true);
        lock (_gate)
        {
            Group g = GroupOf(sa);
            SaHandle h = _dp.InstallInboundInGroup(p, g.Id);
            _inbound[sa.InboundSpi] = new SaEntry { Handle = h, ReqId = sa.ReqId, Connection = sa.Connection };
            // The engine answers the exchange (and the peer starts sending on the SA: a CHILD_SA rekey's
            // initiator switches its outbound as soon as it has our response) right after this returns, so
            // the owner worker must hold the SA by then; else the peer's first packets drop as NoState
            // (one lost ping per charon-initiated rekey at 10 ms intervals before this wait).
            if (_dp.IsRunning && !_dp.WaitForCommands(CommandTimeout))
                throw new TimeoutException($"{sa}: the dataplane did not apply the inbound SA within {CommandTimeout.TotalSeconds:0.#} s");
        }
        _log.LogInformation("{Sa}: inbound SA 0x{Spi:x8} installed ({Suite}{Encap}), policy group {Group}", sa, sa.InboundSpi, p.Suite,
            sa.UdpEncapsulation ? $" udp-encap {sa.LocalPort}<-{sa.RemotePort}" : "", sa.ReqId);
    }

    public void InstallOutbound(ChildSaInstall sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        SaParameters p = ChildSaMapping.ToSaParameters(sa, inbound: false);
        ChildSelectors sel = ChildSaMapping.ToSelectors(sa.LocalTs, sa.RemoteTs);
        if (sel.Count == 0) throw new ArgumentException($"{sa}: the traffic selectors {string.Join(" ", sa.LocalTs.Select(FastPath.Ike.Exchanges.TrafficSelectors.Format))} === {string.Join(" ", sa.RemoteTs.Select(FastPath.Ike.Exchanges.TrafficSelectors.Format))} give no eroute");
        var replaced = new List<uint>();
        List<PendingAcquire>? release;
        lock (_gate)
        {
            Group g = GroupOf(sa);
            SaHandle h = _dp.InstallOutbound(p);
            _outbound[sa.OutboundSpi] = new SaEntry { Handle = h, ReqId = sa.ReqId, Connection = sa.Connection };
            // The owner must have the SA before an eroute names it (else NoState for the first packets).
            if (_dp.IsRunning && !_dp.WaitForCommands(CommandTimeout))
                throw new TimeoutException($"{sa}: the dataplane did not apply the outbound SA within {CommandTimeout.TotalSeconds:0.#} s");

            ErouteAction action = ErouteAction.Sa(sa.OutboundSpi, g.Id);
            var c4 = new List<ErouteChange<uint>>();
            var c6 = new List<ErouteChange<UInt128>>();
            foreach (var s in sel.V4) c4.Add(new(new(s, action, sa.RemoteAddress)));
            foreach (var s in sel.V6) c6.Add(new(new(s, action, sa.RemoteAddress)));
            // Selectors the group had and the new SA does not (a rekey that narrowed differently).
            foreach (var s in g.Selectors.V4) if (!sel.V4.Contains(s) && NamesGroup(_dp.ErouteV4, s, g)) c4.Add(FallBack(s, _trapOwner4));
            foreach (var s in g.Selectors.V6) if (!sel.V6.Contains(s) && NamesGroup(_dp.ErouteV6, s, g)) c6.Add(FallBack(s, _trapOwner6));
            _dp.ErouteV4.Apply(c4.ToArray());
            _dp.ErouteV6.Apply(c6.ToArray());

            if (sa.ReplacesOutboundSpi != 0 && sa.ReplacesOutboundSpi != sa.OutboundSpi) replaced.Add(sa.ReplacesOutboundSpi);
            if (g.OutboundSpi != 0 && g.OutboundSpi != sa.OutboundSpi && !replaced.Contains(g.OutboundSpi)) replaced.Add(g.OutboundSpi);
            g.OutboundSpi = sa.OutboundSpi;
            g.Peer = sa.RemoteAddress;
            g.Selectors = sel;
            _pending.Remove(sa.Connection, out release);
        }
        // Packets held by %trap eroutes of this connection: looked up again now (they find the SA).
        if (release is not null)
            foreach (PendingAcquire a in release) _dp.ResolveAcquire(a.Ipv6, a.ErouteId, success: true);
        _log.LogInformation("{Sa}: outbound SA 0x{Spi:x8} installed ({Suite}), {Count} eroute(s) => tun0x{Spi2:x}@{Peer}{Replaces}", sa, sa.OutboundSpi, p.Suite,
            sel.Count, sa.OutboundSpi, sa.RemoteAddress, replaced.Count > 0 ? $", replacing 0x{string.Join(", 0x", replaced.Select(r => r.ToString("x8")))}" : "");
        foreach (uint old in replaced) RetireOutbound(old);
    }

    public void DeleteInbound(uint spi)
    {
        bool had;
        lock (_gate) had = _inbound.Remove(spi);
        if (_dp.DeleteSa(spi, SaDirection.Inbound) || had)
            _log.LogInformation("inbound SA 0x{Spi:x8} deleted", spi);
    }

    public void DeleteOutbound(uint spi)
    {
        lock (_gate)
        {
            if (_outbound.TryGetValue(spi, out SaEntry? e) && _groups.TryGetValue(e.ReqId, out Group? g) && g.OutboundSpi == spi)
            {
                // The group's eroutes name this SA: they fall back in one publication per family.
                var c4 = new List<ErouteChange<uint>>();
                var c6 = new List<ErouteChange<UInt128>>();
                foreach (var s in g.Selectors.V4) if (NamesGroup(_dp.ErouteV4, s, g)) c4.Add(FallBack(s, _trapOwner4));
                foreach (var s in g.Selectors.V6) if (NamesGroup(_dp.ErouteV6, s, g)) c6.Add(FallBack(s, _trapOwner6));
                _dp.ErouteV4.Apply(c4.ToArray());
                _dp.ErouteV6.Apply(c6.ToArray());
                g.OutboundSpi = 0;
                g.Selectors = new([], []);
                _log.LogInformation("\"{Connection}\": eroutes of tun0x{Spi:x} fall back ({Count}: {Kind})", g.Connection, spi, c4.Count + c6.Count,
                    _routes.ContainsKey(g.Connection) ? "%trap" : "removed, no policy");
            }
        }
        RetireOutbound(spi);
    }

    /// <summary>Deletes an outbound SA that no eroute names any more, after every worker let go of the
    /// snapshots that might have named it (RCU grace period; on a dataplane driven by Step the next
    /// Step is that period: commands are applied before its batch).</summary>
    private void RetireOutbound(uint spi)
    {
        if (_dp.IsRunning)
        {
            // Two grace periods: one for the lookup, one for a packet handed off to the SA's owner
            // between that lookup and the owner's next command drain (Handoff.cs).
            if (!_dp.WaitForQuiescence(CommandTimeout) || !_dp.WaitForQuiescence(CommandTimeout))
                _log.LogWarning("outbound SA 0x{Spi:x8}: workers did not pass a quiescent point within {Timeout} s; deleting anyway", spi, CommandTimeout.TotalSeconds);
        }
        bool had;
        lock (_gate) had = _outbound.Remove(spi);
        if (_dp.DeleteSa(spi, SaDirection.Outbound) || had)
            _log.LogInformation("outbound SA 0x{Spi:x8} deleted", spi);
    }

    private ErouteChange<TKey> FallBack<TKey>(in ErouteSelector<TKey> s, Dictionary<ErouteSelector<TKey>, string> owners)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        owners.TryGetValue(s, out string? conn) && _routes.ContainsKey(conn)
            ? new(new(s, ErouteAction.Trap))
            : new(new(s, default), Delete: true);

    private static bool NamesGroup<TKey>(ErouteTable<TKey> t, in ErouteSelector<TKey> s, Group g) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(s, out ErouteEntry<TKey> e) && e.Action.Kind == ErouteActionKind.Sa && e.Action.Group == g.Id;

    private Group GroupOf(ChildSaInstall sa)
    {
        if (_groups.TryGetValue(sa.ReqId, out Group? g))
        {
            g.Connection = sa.Connection;
            return g;
        }
        if (_nextGroup >= ErouteAction.MaxGroup) throw new InvalidOperationException($"out of dataplane policy groups ({ErouteAction.MaxGroup})");
        g = new Group { Id = ++_nextGroup, Connection = sa.Connection };
        _groups.Add(sa.ReqId, g);
        return g;
    }

    public ChildSaUsage Usage(uint spi, bool inbound)
    {
        lock (_gate)
        {
            if (!(inbound ? _inbound : _outbound).TryGetValue(spi, out SaEntry? e)) return default;
            long packets = System.Threading.Volatile.Read(ref e.Handle.Counters.Packets);
            long bytes = System.Threading.Volatile.Read(ref e.Handle.Counters.Bytes);
            // The dataplane counts per batch, not per time: "last used" is when a call first saw the count move.
            if (packets != e.LastPackets)
            {
                e.LastPackets = packets;
                e.LastUsed = _time.GetTimestamp();
            }
            return new ChildSaUsage(true, packets, bytes, e.LastUsed);
        }
    }

    /// <summary>The dataplane policy group of a reqid (0 = none yet): what its eroutes and inbound SAs carry.</summary>
    public uint PolicyGroupOf(uint reqId)
    {
        lock (_gate) return _groups.TryGetValue(reqId, out Group? g) ? g.Id : 0;
    }

    // ---- events ------------------------------------------------------------------------------

    /// <summary>Routes one dataplane event to the engine (ACQUIRE of a %trap → OnAcquire of its connection;
    /// lifetimes → OnChildLifetime). False when the event is not IKE's (next-hop requests etc.).</summary>
    public bool Dispatch(in FastPath.Dataplane.Pipeline.DataplaneEvent e, IkeEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return Dispatch(e, new EngineTarget(engine));
    }

    /// <summary>As <see cref="Dispatch(in DataplaneEvent, IkeEngine)"/> with any target.</summary>
    public bool Dispatch(in FastPath.Dataplane.Pipeline.DataplaneEvent e, IIkeEventTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        ExpireAcquires();
        switch (e.Kind)
        {
            case DataplaneEventKind.Acquire:
            {
                string? conn;
                lock (_gate)
                {
                    conn = e.IsIpv6 ? TrapOwner(_dp.ErouteV6, e.ErouteId, _trapOwner6) : TrapOwner(_dp.ErouteV4, e.ErouteId, _trapOwner4);
                    if (conn is not null)
                    {
                        if (!_pending.TryGetValue(conn, out var list)) _pending[conn] = list = [];
                        bool v6 = e.IsIpv6;
                        int id = e.ErouteId;
                        if (!list.Any(a => a.Ipv6 == v6 && a.ErouteId == id))
                            list.Add(new PendingAcquire(v6, id, _time.GetTimestamp()));
                        if (_expiry is null && !_disposed && ExpiryInterval != System.Threading.Timeout.InfiniteTimeSpan)
                            _expiry = new System.Threading.Timer(_ => ExpireAcquires(), null, ExpiryInterval, ExpiryInterval);
                    }
                }
                if (conn is null) return false; // not an IKE %trap (a manual one, or gone meanwhile)
                _log.LogInformation("\"{Connection}\": ACQUIRE {Source} -> {Destination} proto {Protocol} (eroute {Id})", conn, e.Source, e.Address, e.Protocol, e.ErouteId);
                target.OnAcquire(conn, e.Source.ToIPAddress(), e.Address.ToIPAddress(), e.Protocol, e.SourcePort, e.DestinationPort);
                return true;
            }
            case DataplaneEventKind.SoftLifetime or DataplaneEventKind.HardLifetime or DataplaneEventKind.SequenceExhausted:
            {
                bool inbound = e.Direction == SaDirection.Inbound;
                bool ours;
                lock (_gate) ours = (inbound ? _inbound : _outbound).ContainsKey(e.Spi);
                if (!ours) return false;
                // Sequence exhaustion (RFC 4303 §3.3.3) ends the SA as a hard limit does.
                target.OnChildLifetime(e.Spi, inbound, hard: e.Kind != DataplaneEventKind.SoftLifetime);
                return true;
            }
            default:
                return false;
        }
    }

    private static string? TrapOwner<TKey>(ErouteTable<TKey> t, int id, Dictionary<ErouteSelector<TKey>, string> owners)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(id, out ErouteEntry<TKey> entry) && owners.TryGetValue(entry.Selector, out string? conn) ? conn : null;

    /// <summary>Negotiation for <paramref name="connection"/> failed: its held packets are dropped
    /// (ShuntHold) and the next packet raises a new ACQUIRE.</summary>
    public void AcquireFailed(string connection)
    {
        lock (_gate) FailPendingLocked(connection);
    }

    /// <summary>Resolves as failed the ACQUIREs older than <see cref="AcquireTimeout"/> (also done on each Dispatch).</summary>
    public int ExpireAcquires()
    {
        long now = _time.GetTimestamp();
        long max = (long)(AcquireTimeout.TotalSeconds * _time.TimestampFrequency);
        int n = 0;
        lock (_gate)
        {
            foreach (var (conn, list) in _pending.ToArray())
            {
                n += list.RemoveAll(a =>
                {
                    if (now - a.Since <= max) return false;
                    _dp.ResolveAcquire(a.Ipv6, a.ErouteId, success: false);
                    return true;
                });
                if (list.Count == 0) _pending.Remove(conn);
            }
        }
        return n;
    }

    private void FailPendingLocked(string connection)
    {
        if (!_pending.Remove(connection, out var list)) return;
        foreach (PendingAcquire a in list) _dp.ResolveAcquire(a.Ipv6, a.ErouteId, success: false);
    }

    /// <summary>Stops the expiry timer (the dataplane is not the sink's to dispose).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _expiry?.Dispose();
            _expiry = null;
        }
    }

    private sealed class EngineTarget(IkeEngine engine) : IIkeEventTarget
    {
        public void OnAcquire(string connection, IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort) =>
            engine.OnAcquire(connection, source, destination, protocol, sourcePort, destinationPort);

        public void OnChildLifetime(uint spi, bool inbound, bool hard) => engine.OnChildLifetime(spi, inbound, hard);
    }
}
