using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.L3;

// Control plane: destination → NextHop (egress interface, MACs, MTU), asked of the kernel over
// rtnetlink and published into the workers' NextHopTable. The kernel stays the owner of routes and
// of ARP/ND (DESIGN.md §2): it already implements RFC 826 / RFC 4861 state machines, timers,
// gratuitous/unsolicited updates and `ip neigh` administration; doing it again in the dataplane
// would mean two disagreeing neighbor caches on one host.
//
//   worker miss (NoRoute/NoNeighbor drop) ─► resolve-request event ─► Request(dst) ─► queue
//   Resolve(dst) / queue ─► Step:
//       RTM_GETROUTE dst        → oif, gateway, prefsrc, RTA_METRICS/RTAX_MTU (no route → NoRoute)
//       RTM_GETLINK oif         → interface MAC, link MTU          (MTU = min(route MTU, link MTU))
//       RTM_GETNEIGH oif, gw|dst → NUD state + lladdr
//         usable (REACHABLE/STALE/DELAY/PROBE/PERMANENT/NOARP) → NextHopTable.Set(dst, hop)
//         absent/FAILED/NONE → RTM_NEWNEIGH NTF_USE (the kernel solicits, as if it had a packet)
//         still unresolved at the deadline → NoNeighbor (entry removed)
//   refresh loop (RefreshInterval) and RTNLGRP_NEIGH/ROUTE/LINK events → re-validate published
//       entries: MAC changed → update; FAILED / gone twice → remove; STALE → NTF_USE (re-probe)
//
// Why NTF_USE rather than a UDP datagram to the discard port from a throwaway socket: it needs no
// socket bound into the interface's namespace and VRF, sends nothing to the neighbor itself (only
// the kernel's own ARP request / neighbor solicitation), works the same for IPv4 and IPv6, and it
// also re-confirms a STALE entry (STALE → DELAY → PROBE, a unicast probe) which a datagram would
// do too but only after routing it. Our traffic bypasses the kernel (AF_PACKET), so the kernel
// never sees upper-layer confirmation and every entry decays REACHABLE → STALE after
// base_reachable_time (30 s, randomized 15-45 s); the refresh loop turns that into one unicast
// probe per neighbor per ~35 s instead of using a possibly outdated MAC forever.

/// <summary>The outcome of a resolution.</summary>
public enum ResolveStatus
{
    /// <summary>Next hop known and published.</summary>
    Resolved,
    /// <summary>No unicast route (ENETUNREACH/EHOSTUNREACH, or a local/blackhole/prohibit route).</summary>
    NoRoute,
    /// <summary>Route found but the neighbor did not answer ARP/ND before the timeout (or FAILED).</summary>
    NoNeighbor,
}

/// <summary>What the resolver found for a destination.</summary>
public sealed record ResolveResult(
    ResolveStatus Status,
    IPAddress Destination,
    NextHop Hop,
    IPAddress? Gateway,
    IPAddress? PreferredSource,
    int RouteMtu,
    int LinkMtu,
    ushort NeighborState,
    string Detail)
{
    /// <summary>The drop reason a worker counts while the answer is not Resolved.</summary>
    public DropReason? DropReason => Status switch
    {
        ResolveStatus.NoRoute => FastPath.Dataplane.DropReason.NoRoute,
        ResolveStatus.NoNeighbor => FastPath.Dataplane.DropReason.NoNeighbor,
        _ => null,
    };
}

public sealed class NeighborResolverOptions
{
    /// <summary>How long Resolve / a queued request waits for ARP/ND. Linux gives up after
    /// mcast_solicit = 3 probes at retrans_time = 1 s, so 3.5 s sees the kernel's own verdict.</summary>
    public TimeSpan ResolveTimeout { get; init; } = TimeSpan.FromMilliseconds(3500);
    /// <summary>Re-validation period of published entries.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Queued requests beyond this are refused (Request returns false).</summary>
    public int RequestQueueCapacity { get; init; } = 4096;
    /// <summary>Subscribe to RTNLGRP_NEIGH / IPV4_ROUTE / IPV6_ROUTE / LINK to react within milliseconds.</summary>
    public bool ListenToEvents { get; init; } = true;
    /// <summary>Per netlink request.</summary>
    public int NetlinkTimeoutMs { get; init; } = 1000;
}

/// <summary>Control-plane counters (read with Volatile/Interlocked semantics; approximate under races).</summary>
public sealed class NeighborResolverCounters
{
    internal long _resolved, _noRoute, _noNeighbor, _updated, _removed, _requests, _requestsRefused, _events, _triggers, _eventsLost;
    public long Resolved => Volatile.Read(ref _resolved);
    public long NoRoute => Volatile.Read(ref _noRoute);
    public long NoNeighbor => Volatile.Read(ref _noNeighbor);
    /// <summary>Publications that changed a table entry (new or different MAC/interface/MTU).</summary>
    public long Updated => Volatile.Read(ref _updated);
    public long Removed => Volatile.Read(ref _removed);
    public long Requests => Volatile.Read(ref _requests);
    public long RequestsRefused => Volatile.Read(ref _requestsRefused);
    public long Events => Volatile.Read(ref _events);
    /// <summary>RTM_NEWNEIGH NTF_USE sent (kernel solicitations triggered).</summary>
    public long Triggers => Volatile.Read(ref _triggers);
    public long EventsLost => Volatile.Read(ref _eventsLost);
    public override string ToString() =>
        $"resolved {Resolved}, no-route {NoRoute}, no-neighbor {NoNeighbor}, updated {Updated}, removed {Removed}, requests {Requests} (refused {RequestsRefused}), events {Events} (lost {EventsLost}), triggers {Triggers}";
}

/// <summary>Resolves destinations to next hops via rtnetlink and keeps a <see cref="NextHopTable"/> current.
/// The netlink sockets belong to the network namespace of the thread that constructs the resolver.</summary>
public sealed class NeighborResolver : IDisposable
{
    private const ushort Usable = RouteNetlink.NUD_REACHABLE | RouteNetlink.NUD_STALE | RouteNetlink.NUD_DELAY |
                                  RouteNetlink.NUD_PROBE | RouteNetlink.NUD_PERMANENT | RouteNetlink.NUD_NOARP;

    private sealed class Pending
    {
        public required IPAddress Destination;
        public long Deadline;
        public long LastTrigger = -1_000_000;   // "long ago" without overflowing now - LastTrigger
    }

    private sealed class Entry
    {
        public required IPAddress Destination;
        public required IPAddress Neighbor;
        public int InterfaceIndex;
        public int Misses;
    }

    private readonly NextHopTable _table;
    private readonly NeighborResolverOptions _options;
    private readonly RouteNetlink _nl;
    private readonly RouteNetlink? _events;
    private readonly Lock _nlLock = new();
    private readonly Lock _entriesLock = new();
    private readonly Dictionary<IPAddress, Entry> _entries = new();
    private readonly ConcurrentQueue<IPAddress> _queue = new();
    private readonly ConcurrentDictionary<IPAddress, byte> _queued = new();
    private readonly ConcurrentDictionary<IPAddress, ResolveResult> _last = new();
    private Thread? _thread;
    private volatile bool _stop;

    public NeighborResolver(NextHopTable table, NeighborResolverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _options = options ?? new NeighborResolverOptions();
        _nl = new RouteNetlink();
        if (_options.ListenToEvents)
        {
            try
            {
                _events = new RouteNetlink(RouteNetlink.RTMGRP_NEIGH | RouteNetlink.RTMGRP_IPV4_ROUTE | RouteNetlink.RTMGRP_IPV6_ROUTE | RouteNetlink.RTMGRP_LINK);
            }
            catch
            {
                _nl.Dispose();
                throw;
            }
        }
    }

    public NextHopTable Table => _table;
    public NeighborResolverCounters Counters { get; } = new();

    /// <summary>The last answer for <paramref name="destination"/> (sync or queued), if any.</summary>
    public ResolveResult? LastResult(IPAddress destination) => _last.TryGetValue(destination, out var r) ? r : null;

    /// <summary>Resolves now, waiting at most <see cref="NeighborResolverOptions.ResolveTimeout"/>; publishes on success, removes on failure.</summary>
    public ResolveResult Resolve(IPAddress destination) => Resolve(destination, _options.ResolveTimeout);

    public ResolveResult Resolve(IPAddress destination, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException("not an IPv4/IPv6 address", nameof(destination));
        var p = new Pending { Destination = destination, Deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds };
        while (true)
        {
            var r = Step(p);
            if (r != null) return r;
            // Control plane, synchronous caller (install-time pre-resolution): re-check the kernel's
            // neighbor entry every 10 ms while ARP/ND runs (typically 1-2 rounds; bounded by the deadline).
            Thread.Sleep(10);
        }
    }

    /// <summary>Queues a resolution (from a worker's resolve-request event); false when the queue
    /// is full. Duplicates of a queued destination are merged. Needs <see cref="Start"/>.</summary>
    public bool Request(IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Interlocked.Increment(ref Counters._requests);
        if (_queued.Count >= _options.RequestQueueCapacity)
        {
            Interlocked.Increment(ref Counters._requestsRefused);
            return false;
        }
        if (_queued.TryAdd(destination, 0)) _queue.Enqueue(destination);
        return true;
    }

    /// <summary>Queues a resolution for an address as the dataplane holds it.</summary>
    public bool Request(in IpAddress16 destination) => Request(destination.ToIPAddress());

    /// <summary>Starts the background thread: queued requests, events, periodic refresh.</summary>
    public void Start()
    {
        if (_thread != null) throw new InvalidOperationException("already started");
        _thread = new Thread(Loop) { IsBackground = true, Name = "fastpath-neighbors" };
        _thread.Start();
    }

    private void Loop()
    {
        var pending = new List<Pending>();
        var events = new List<NetlinkEvent>();
        long nextRefresh = Environment.TickCount64 + (long)_options.RefreshInterval.TotalMilliseconds;
        while (!_stop)
        {
            try
            {
                events.Clear();
                if (_events != null)
                {
                    if (!_events.ReadEvents(events, 20))
                    {
                        Interlocked.Increment(ref Counters._eventsLost);
                        nextRefresh = 0;   // lost events: re-validate everything now
                    }
                }
                else Thread.Sleep(20); // no netlink event socket: pace the loop (the event read blocks 20 ms otherwise)

                bool full = false;
                foreach (var e in events)
                {
                    Interlocked.Increment(ref Counters._events);
                    if (e.Neighbor is { } n) OnNeighborEvent(e.MessageType, n);
                    else full = true;   // route or link changed: any entry may have a new path or MTU
                }
                if (full) RefreshNow();

                while (_queue.TryDequeue(out var dst))
                {
                    _queued.TryRemove(dst, out _);
                    if (!pending.Exists(p => p.Destination.Equals(dst)))
                        pending.Add(new Pending { Destination = dst, Deadline = Environment.TickCount64 + (long)_options.ResolveTimeout.TotalMilliseconds });
                }
                for (int i = pending.Count - 1; i >= 0; i--)
                    if (Step(pending[i]) != null) pending.RemoveAt(i);

                if (Environment.TickCount64 >= nextRefresh)
                {
                    RefreshNow();
                    nextRefresh = Environment.TickCount64 + (long)_options.RefreshInterval.TotalMilliseconds;
                }
            }
            catch (Exception e) when (e is System.IO.IOException or InvalidOperationException)
            {
                // A transient netlink failure must not end the loop; back off 100 ms, the next round retries.
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>One non-blocking resolution step; null while still waiting for the neighbor.</summary>
    private ResolveResult? Step(Pending p)
    {
        IPAddress dst = p.Destination;
        NetlinkRoute? route;
        NetlinkLink? link = null;
        int errno;
        lock (_nlLock)
        {
            route = _nl.GetRoute(dst, _options.NetlinkTimeoutMs, out errno);
            if (route is { Type: RouteNetlink.RTN_UNICAST }) link = _nl.GetLink(route.OutputInterface, _options.NetlinkTimeoutMs, out errno);
        }
        if (route is null) return Finish(p, Fail(ResolveStatus.NoRoute, dst, null, $"no route ({Errno.Describe(errno)})"));
        if (route.Type != RouteNetlink.RTN_UNICAST)
            return Finish(p, Fail(ResolveStatus.NoRoute, dst, route, route.Type == RouteNetlink.RTN_LOCAL ? "local address" : $"route type {route.Type} is not unicast"));
        if (link is null) return Finish(p, Fail(ResolveStatus.NoRoute, dst, route, $"interface {route.OutputInterface} ({Errno.Describe(errno)})"));
        if (link.Address.Length != 6) return Finish(p, Fail(ResolveStatus.NoNeighbor, dst, route, $"interface {link.Name} has no Ethernet address"));

        int mtu = route.Mtu > 0 ? Math.Min(route.Mtu, link.Mtu) : link.Mtu;
        IPAddress neighborAddress = route.Gateway ?? dst;
        NetlinkNeighbor? n;
        lock (_nlLock) n = _nl.GetNeighbor(route.OutputInterface, neighborAddress, _options.NetlinkTimeoutMs, out _);
        ushort state = n?.State ?? RouteNetlink.NUD_NONE;
        if (n is { LinkAddress.Length: 6 } && (state & Usable) != 0)
        {
            var hop = new NextHop(route.OutputInterface, Mac(n.LinkAddress), Mac(link.Address), (ushort)Math.Clamp(mtu, 0, ushort.MaxValue));
            if ((state & RouteNetlink.NUD_STALE) != 0) Trigger(route.OutputInterface, neighborAddress);   // re-confirm, keep using it meanwhile
            Publish(dst, neighborAddress, hop);
            var ok = new ResolveResult(ResolveStatus.Resolved, dst, hop, route.Gateway, route.PreferredSource, route.Mtu, link.Mtu, state,
                $"{neighborAddress} is {NextHop.FormatMac(hop.DestinationMac)} on {link.Name} ({StateName(state)}), mtu {hop.Mtu}");
            Interlocked.Increment(ref Counters._resolved);
            _last[dst] = ok;
            return ok;
        }
        long now = Environment.TickCount64;
        if (now >= p.Deadline)
        {
            Unpublish(dst);
            return Finish(p, new ResolveResult(ResolveStatus.NoNeighbor, dst, default, route.Gateway, route.PreferredSource, route.Mtu, link.Mtu, state,
                $"{neighborAddress} on {link.Name}: no answer to ARP/ND ({StateName(state)})"));
        }
        // Absent, NONE or FAILED: ask the kernel to solicit. INCOMPLETE: it already is (3 probes,
        // 1 s apart); re-trigger only after those ran out so we never flood the link.
        bool solicit = n is null || (state & (RouteNetlink.NUD_FAILED)) != 0 || state == RouteNetlink.NUD_NONE;
        if (solicit && now - p.LastTrigger >= 1000)
        {
            Trigger(route.OutputInterface, neighborAddress);
            p.LastTrigger = now;
        }
        return null;
    }

    private ResolveResult Fail(ResolveStatus status, IPAddress dst, NetlinkRoute? route, string detail)
    {
        Unpublish(dst);
        return new ResolveResult(status, dst, default, route?.Gateway, route?.PreferredSource, route?.Mtu ?? 0, 0, 0, detail);
    }

    private ResolveResult Finish(Pending p, ResolveResult r)
    {
        if (r.Status == ResolveStatus.NoRoute) Interlocked.Increment(ref Counters._noRoute);
        else if (r.Status == ResolveStatus.NoNeighbor) Interlocked.Increment(ref Counters._noNeighbor);
        _last[p.Destination] = r;
        return r;
    }

    private void Trigger(int ifindex, IPAddress neighbor)
    {
        lock (_nlLock) _nl.UseNeighbor(ifindex, neighbor, _options.NetlinkTimeoutMs);
        Interlocked.Increment(ref Counters._triggers);
    }

    private void Publish(IPAddress dst, IPAddress neighbor, NextHop hop)
    {
        lock (_entriesLock)
        {
            _entries[dst] = new Entry { Destination = dst, Neighbor = neighbor, InterfaceIndex = hop.InterfaceIndex };
            if (_table.TryGet(dst, out var current) && current == hop) return;
            _table.Set(dst, hop);
            Interlocked.Increment(ref Counters._updated);
        }
    }

    private void Unpublish(IPAddress dst)
    {
        lock (_entriesLock)
        {
            _entries.Remove(dst);
            if (_table.Remove(dst)) Interlocked.Increment(ref Counters._removed);
        }
    }

    /// <summary>Re-validates every published entry now (route, MTU, neighbor MAC and state);
    /// returns how many entries changed or were removed.</summary>
    public int RefreshNow()
    {
        Entry[] entries;
        lock (_entriesLock) entries = [.. _entries.Values];
        int changed = 0;
        foreach (var e in entries) changed += Revalidate(e, null) ? 1 : 0;
        return changed;
    }

    private void OnNeighborEvent(ushort type, NetlinkNeighbor n)
    {
        Entry[] entries;
        lock (_entriesLock) entries = [.. _entries.Values];
        foreach (var e in entries)
            if (e.InterfaceIndex == n.InterfaceIndex && e.Neighbor.Equals(n.Address))
                Revalidate(e, type == RouteNetlink.RTM_DELNEIGH ? null : n);
    }

    /// <summary>Re-checks one entry; <paramref name="known"/> is the neighbor from an event (no query).</summary>
    private bool Revalidate(Entry e, NetlinkNeighbor? known)
    {
        long before = Counters.Updated + Counters.Removed;
        NetlinkRoute? route;
        NetlinkLink? link = null;
        lock (_nlLock)
        {
            route = _nl.GetRoute(e.Destination, _options.NetlinkTimeoutMs, out _);
            if (route is { Type: RouteNetlink.RTN_UNICAST }) link = _nl.GetLink(route.OutputInterface, _options.NetlinkTimeoutMs, out _);
        }
        if (route is not { Type: RouteNetlink.RTN_UNICAST } || link is not { Address.Length: 6 })
        {
            Unpublish(e.Destination);
            _last[e.Destination] = Fail(ResolveStatus.NoRoute, e.Destination, route, "route gone on refresh");
            return true;
        }
        IPAddress neighborAddress = route.Gateway ?? e.Destination;
        NetlinkNeighbor? n = known;
        if (n is null || route.OutputInterface != e.InterfaceIndex || !neighborAddress.Equals(e.Neighbor))
            lock (_nlLock) n = _nl.GetNeighbor(route.OutputInterface, neighborAddress, _options.NetlinkTimeoutMs, out _);
        ushort state = n?.State ?? RouteNetlink.NUD_NONE;
        if (n is { LinkAddress.Length: 6 } && (state & Usable) != 0)
        {
            e.Misses = 0;
            int mtu = route.Mtu > 0 ? Math.Min(route.Mtu, link.Mtu) : link.Mtu;
            var hop = new NextHop(route.OutputInterface, Mac(n.LinkAddress), Mac(link.Address), (ushort)Math.Clamp(mtu, 0, ushort.MaxValue));
            if ((state & RouteNetlink.NUD_STALE) != 0) Trigger(route.OutputInterface, neighborAddress);
            Publish(e.Destination, neighborAddress, hop);
            _last[e.Destination] = new ResolveResult(ResolveStatus.Resolved, e.Destination, hop, route.Gateway, route.PreferredSource, route.Mtu, link.Mtu, state,
                $"refreshed: {neighborAddress} is {NextHop.FormatMac(hop.DestinationMac)} ({StateName(state)})");
        }
        else if ((state & RouteNetlink.NUD_FAILED) != 0 || ++e.Misses >= 2)
        {
            // FAILED: the kernel's probes went unanswered: a MAC we would keep using is wrong.
            Unpublish(e.Destination);
            _last[e.Destination] = new ResolveResult(ResolveStatus.NoNeighbor, e.Destination, default, route.Gateway, route.PreferredSource, route.Mtu, link.Mtu, state,
                $"refresh: {neighborAddress} is {StateName(state)}");
            Interlocked.Increment(ref Counters._noNeighbor);
        }
        else if (n is null || state == RouteNetlink.NUD_NONE)
        {
            Trigger(route.OutputInterface, neighborAddress);   // gone from the kernel's table: solicit again, keep the entry one round
        }
        return Counters.Updated + Counters.Removed != before;
    }

    private static ulong Mac(byte[] a) =>
        ((ulong)a[0] << 40) | ((ulong)a[1] << 32) | ((ulong)a[2] << 24) | ((ulong)a[3] << 16) | ((ulong)a[4] << 8) | a[5];

    internal static string StateName(ushort s) => s switch
    {
        RouteNetlink.NUD_NONE => "NONE",
        RouteNetlink.NUD_INCOMPLETE => "INCOMPLETE",
        RouteNetlink.NUD_REACHABLE => "REACHABLE",
        RouteNetlink.NUD_STALE => "STALE",
        RouteNetlink.NUD_DELAY => "DELAY",
        RouteNetlink.NUD_PROBE => "PROBE",
        RouteNetlink.NUD_FAILED => "FAILED",
        RouteNetlink.NUD_NOARP => "NOARP",
        RouteNetlink.NUD_PERMANENT => "PERMANENT",
        _ => $"0x{s:x2}",
    };

    public void Dispose()
    {
        _stop = true;
        _thread?.Join(TimeSpan.FromSeconds(5));
        _events?.Dispose();
        _nl.Dispose();
    }
}
