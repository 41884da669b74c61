using System;
using System.Diagnostics;
using System.Net;
using System.Threading;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests.L3;

/// <summary>fp-l3-ID-a ── veth ── fp-l3-ID-b, made by the test and deleted on Dispose (also on failure).
/// a: 192.0.2.1/24, 2001:db8::1/64; b: 192.0.2.2/24, 2001:db8::2/64 (MAC 02:00:5e:10:00:02), link MTU 1480.
/// Routes in a (no default route): 198.51.100.0/24 via 192.0.2.2, 203.0.113.0/25 via 192.0.2.2 mtu 1400,
/// 2001:db8:1::/64 via 2001:db8::2 mtu 1300. Nothing else is reachable; every ping is bounded (-c/-W).</summary>
public sealed class L3Topology : IDisposable
{
    public const string MacB = "02:00:5e:10:00:02";
    public string NsA { get; }
    public string NsB { get; }
    public string IfA { get; }
    public string IfB { get; }

    public L3Topology(bool routes = true)
    {
        string id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
        NsA = $"fp-l3-{id}-a";
        NsB = $"fp-l3-{id}-b";
        IfA = $"l3{id}a";
        IfB = $"l3{id}b";
        try
        {
            Ip($"netns add {NsA}");
            Ip($"netns add {NsB}");
            Ip($"link add {IfA} netns {NsA} type veth peer name {IfB} netns {NsB}");
            Ip($"-n {NsB} link set {IfB} address {MacB}");
            foreach (var (ns, ifn, v4, v6) in new[] { (NsA, IfA, "192.0.2.1/24", "2001:db8::1/64"), (NsB, IfB, "192.0.2.2/24", "2001:db8::2/64") })
            {
                Ip($"-n {ns} link set lo up");
                Ip($"-n {ns} link set {ifn} mtu 1480");
                Ip($"-n {ns} addr add {v4} dev {ifn}");
                Ip($"-n {ns} addr add {v6} dev {ifn} nodad");
                Ip($"-n {ns} link set {ifn} up");
            }
            if (routes)
            {
                Ip($"-n {NsA} route add 198.51.100.0/24 via 192.0.2.2");
                Ip($"-n {NsA} route add 203.0.113.0/25 via 192.0.2.2 mtu 1400");
                Ip($"-n {NsA} -6 route add 2001:db8:1::/64 via 2001:db8::2 mtu 1300");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static string Ip(string args, bool check = true) => VethNamespaces.Ip(args, check);

    public void Dispose()
    {
        Ip($"netns del {NsA}", check: false);
        Ip($"netns del {NsB}", check: false);
    }
}

public sealed class NeighborResolverTests
{
    private readonly ITestOutputHelper _out;
    public NeighborResolverTests(ITestOutputHelper output) => _out = output;

    private static NeighborResolver Create(L3Topology t, NextHopTable table, NeighborResolverOptions? o = null) =>
        NetworkNamespace.Run(t.NsA, () => new NeighborResolver(table, o));

    private static ulong MacOfA(L3Topology t)
    {
        string text = L3Topology.Ip($"-n {t.NsA} -br link show {t.IfA}");
        foreach (string w in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (w.Length == 17 && w[2] == ':') return NextHop.ParseMac(w);
        throw new InvalidOperationException($"no MAC in '{text}'");
    }

    [Theory]
    [InlineData("192.0.2.2")]
    [InlineData("2001:db8::2")]
    public void ResolvesADirectlyConnectedHost(string address)
    {
        using var t = new L3Topology();
        var table = new NextHopTable();
        using var r = Create(t, table);
        var dst = IPAddress.Parse(address);
        var sw = Stopwatch.StartNew();
        var res = r.Resolve(dst);
        _out.WriteLine($"{res.Status} in {sw.ElapsedMilliseconds} ms: {res.Detail}; {r.Counters}");
        Assert.Equal(ResolveStatus.Resolved, res.Status);
        Assert.Null(res.Gateway);
        Assert.True(table.TryGet(dst, out var hop));
        Assert.Equal(NextHop.ParseMac(L3Topology.MacB), hop.DestinationMac);
        Assert.Equal(MacOfA(t), hop.SourceMac);
        Assert.Equal(1480, hop.Mtu);
        Assert.Equal(NetworkNamespace.Run(t.NsA, () => (int)FastPath.Dataplane.Interop.Libc.if_nametoindex(t.IfA)), hop.InterfaceIndex);
        Assert.True(r.Counters.Triggers >= 1, "the kernel had no entry: a solicitation must have been triggered");
        // The kernel's own table now has the entry we triggered.
        Assert.Contains(L3Topology.MacB, L3Topology.Ip($"-n {t.NsA} neigh show {address} dev {t.IfA}"));
    }

    [Theory]
    [InlineData("198.51.100.7", "192.0.2.2", 1480)]
    [InlineData("203.0.113.9", "192.0.2.2", 1400)]
    [InlineData("2001:db8:1::42", "2001:db8::2", 1300)]
    public void ResolvesAHostBehindAGatewayWithTheRouteOrLinkMtu(string address, string gateway, int mtu)
    {
        using var t = new L3Topology();
        var table = new NextHopTable();
        using var r = Create(t, table);
        var res = r.Resolve(IPAddress.Parse(address));
        _out.WriteLine($"{res.Status}: {res.Detail}; route mtu {res.RouteMtu}, link mtu {res.LinkMtu}");
        Assert.Equal(ResolveStatus.Resolved, res.Status);
        Assert.Equal(IPAddress.Parse(gateway), res.Gateway);
        Assert.Equal(1480, res.LinkMtu);
        Assert.True(table.TryGet(IPAddress.Parse(address), out var hop));
        Assert.Equal(NextHop.ParseMac(L3Topology.MacB), hop.DestinationMac);
        Assert.Equal(mtu, hop.Mtu);
        Assert.Equal(IPAddress.Parse(address.Contains(':') ? "2001:db8::1" : "192.0.2.1"), res.PreferredSource);
    }

    [Theory]
    [InlineData("192.0.2.99")]
    [InlineData("2001:db8::99")]
    [InlineData("198.51.100.1")]   // gateway 192.0.2.2 exists; test the absent-gateway case below
    public void MissingNeighborTimesOutAsNoNeighbor(string address)
    {
        using var t = new L3Topology();
        if (address == "198.51.100.1")
        {
            L3Topology.Ip($"-n {t.NsA} route replace 198.51.100.0/24 via 192.0.2.77");   // nobody at 192.0.2.77
        }
        var table = new NextHopTable();
        using var r = Create(t, table);
        var sw = Stopwatch.StartNew();
        var res = r.Resolve(IPAddress.Parse(address), TimeSpan.FromMilliseconds(1500));
        long ms = sw.ElapsedMilliseconds;
        _out.WriteLine($"{res.Status} after {ms} ms: {res.Detail}; {r.Counters}");
        Assert.Equal(ResolveStatus.NoNeighbor, res.Status);
        Assert.Equal(DropReason.NoNeighbor, res.DropReason);
        Assert.InRange(ms, 1400, 4000);
        Assert.False(table.TryGet(IPAddress.Parse(address), out _));
        Assert.Equal(1, r.Counters.NoNeighbor);
    }

    [Theory]
    [InlineData("203.0.113.200")]
    [InlineData("2001:db8:ffff::1")]
    [InlineData("192.0.2.1")]   // our own address: a local route, not a next hop
    public void NoRouteIsAnsweredAtOnce(string address)
    {
        using var t = new L3Topology();
        var table = new NextHopTable();
        using var r = Create(t, table);
        var sw = Stopwatch.StartNew();
        var res = r.Resolve(IPAddress.Parse(address));
        _out.WriteLine($"{res.Status} after {sw.ElapsedMilliseconds} ms: {res.Detail}");
        Assert.Equal(ResolveStatus.NoRoute, res.Status);
        Assert.Equal(DropReason.NoRoute, res.DropReason);
        Assert.True(sw.ElapsedMilliseconds < 1000);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void QueuedRequestsArePublishedByTheBackgroundLoop()
    {
        using var t = new L3Topology();
        var table = new NextHopTable();
        using var r = Create(t, table);
        r.Start();
        Assert.True(r.Request(IPAddress.Parse("2001:db8:1::5")));
        Assert.True(r.Request(FastPath.Dataplane.Packets.IpAddress16.Parse("198.51.100.5")));
        Assert.True(r.Request(IPAddress.Parse("192.0.2.99")));   // nobody: NoNeighbor after the timeout
        long deadline = Environment.TickCount64 + 6000;
        while (Environment.TickCount64 < deadline && (table.Count < 2 || r.LastResult(IPAddress.Parse("192.0.2.99")) is null)) Thread.Sleep(20);
        _out.WriteLine(r.Counters.ToString());
        Assert.True(table.TryGet(IPAddress.Parse("2001:db8:1::5"), out var h6));
        Assert.Equal(1300, h6.Mtu);
        Assert.True(table.TryGet(IPAddress.Parse("198.51.100.5"), out var h4));
        Assert.Equal(NextHop.ParseMac(L3Topology.MacB), h4.DestinationMac);
        Assert.Equal(ResolveStatus.NoNeighbor, r.LastResult(IPAddress.Parse("192.0.2.99"))?.Status);
        Assert.False(table.TryGet(IPAddress.Parse("192.0.2.99"), out _));
    }

    [Theory]
    [InlineData(true)]    // the RTNLGRP_NEIGH event updates the entry
    [InlineData(false)]   // no events: RefreshNow re-validates
    public void EntryIsUpdatedWhenTheNeighborsMacChanges(bool events)
    {
        using var t = new L3Topology();
        var table = new NextHopTable();
        using var r = Create(t, table, new NeighborResolverOptions { ListenToEvents = events, RefreshInterval = TimeSpan.FromHours(1) });
        var gw = IPAddress.Parse("192.0.2.2");
        var behind = IPAddress.Parse("198.51.100.7");
        Assert.Equal(ResolveStatus.Resolved, r.Resolve(gw).Status);
        Assert.Equal(ResolveStatus.Resolved, r.Resolve(behind).Status);
        if (events) r.Start();
        const string NewMac = "02:00:5e:10:00:99";
        L3Topology.Ip($"-n {t.NsB} link set {t.IfB} address {NewMac}");
        // b's own neighbor cache is flushed by the address change, so b ARPs for a with its new MAC;
        // a's kernel takes the sender's MAC from that request (RFC 826 merge) and notifies.
        L3Topology.Ip($"netns exec {t.NsB} ping -c 1 -W 1 192.0.2.1");
        ulong want = NextHop.ParseMac(NewMac);
        long deadline = Environment.TickCount64 + 5000;
        while (Environment.TickCount64 < deadline)
        {
            if (!events) r.RefreshNow();
            if (table.TryGet(gw, out var h) && h.DestinationMac == want && table.TryGet(behind, out var hb) && hb.DestinationMac == want) break;
            Thread.Sleep(20);
        }
        _out.WriteLine($"{r.Counters}; kernel: {L3Topology.Ip($"-n {t.NsA} neigh show dev {t.IfA}").Trim()}");
        Assert.True(table.TryGet(gw, out var hop));
        Assert.Equal(NextHop.FormatMac(want), NextHop.FormatMac(hop.DestinationMac));
        Assert.True(table.TryGet(behind, out var hopBehind));
        Assert.Equal(want, hopBehind.DestinationMac);
        if (events) Assert.True(r.Counters.Events > 0);
    }

    [Fact]
    public void RouteRemovalUnpublishesOnRefresh()
    {
        using var t = new L3Topology();
        var table = new NextHopTable();
        using var r = Create(t, table, new NeighborResolverOptions { ListenToEvents = false });
        var behind = IPAddress.Parse("203.0.113.9");
        Assert.Equal(ResolveStatus.Resolved, r.Resolve(behind).Status);
        L3Topology.Ip($"-n {t.NsA} route del 203.0.113.0/25");
        Assert.Equal(1, r.RefreshNow());
        Assert.False(table.TryGet(behind, out _));
        Assert.Equal(ResolveStatus.NoRoute, r.LastResult(behind)?.Status);
    }
}
