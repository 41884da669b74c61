using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests.Pipeline;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>Every drop (and every counted non-forward) the pipeline decides, one test each: the
/// right reason, counted once, nothing else counted, nothing forwarded that should not be.</summary>
public class PipelineDropTests
{
    private static readonly ErouteSelector<uint> SunsetToSunrise = ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25");
    private static readonly ErouteSelector<uint> SunriseToSunset = ErouteSelector<uint>.Parse("192.0.2.128/25", "192.0.2.0/25");

    private static void AssertOnly(Dataplane dp, DropReason reason, long count)
    {
        var drops = dp.DropsByReason();
        Assert.True(drops.Count == 1 && drops.TryGetValue(reason, out long n) && n == count,
            $"expected only {reason} x{count}, got {string.Join(", ", drops.Select(kv => $"{kv.Key} x{kv.Value}"))}");
    }

    private static void AssertNoDrops(Dataplane dp) =>
        Assert.True(dp.Totals.Drops == 0, "unexpected drops: " + string.Join(", ", dp.DropsByReason().Select(kv => $"{kv.Key} x{kv.Value}")));

    private static List<DataplaneEvent> Events(Dataplane dp)
    {
        var list = new List<DataplaneEvent>();
        while (dp.TryReadEvent(out DataplaneEvent e)) list.Add(e);
        return list;
    }

    [Fact]
    public void NoEroute_NoPolicy()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.FromSunset(TestPackets.Ipv4Udp(64, 1, dst: "198.51.100.7"));
        g.Pump();
        AssertOnly(g.West, DropReason.NoPolicy, 1);
        Assert.Empty(g.WireEastbound);
    }

    [Fact]
    public void CleartextClaimingToBeFromSunsetOnTheOutside_CleartextOnProtected()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac, TestPackets.Ipv4Udp(64, 1)));
        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac, TestPackets.Ipv6Udp(64, 2)));
        g.Pump();
        AssertOnly(g.East, DropReason.CleartextOnProtected, 2);
        Assert.Empty(g.AtSunrise());
        // Cleartext from a network no eroute covers: fail closed.
        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac, TestPackets.Ipv4Udp(64, 3, src: "198.51.100.9")));
        g.Pump();
        Assert.Equal(1, g.East.Drops(DropReason.NoPolicy));
        Assert.Empty(g.AtSunrise());
    }

    [Fact]
    public void PassShunts_ForwardInClearBothWays()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.West.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "198.51.100.0/24"), ErouteAction.Pass);
        g.West.NextHops.Set(IPAddress.Parse("198.51.100.9"), new NextHop(2, 0x02_00_00_00_09_09, GatewayPair.WestOutMac, 1500));
        byte[] outbound = TestPackets.Ipv4Udp(64, 1, dst: "198.51.100.9");
        g.FromSunset(outbound);
        g.East.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.128/25", "198.51.100.0/24"), ErouteAction.Passthrough);
        byte[] inbound = TestPackets.Ipv4Udp(64, 2, src: "198.51.100.9", dst: "192.0.2.138");
        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, 0x02_00_00_00_09_09, inbound));
        g.Pump();
        byte[] onWire = Assert.Single(g.WireEastbound);
        Assert.Equal(GatewayPair.AfterHops(outbound, 1), onWire[14..]);
        Assert.Equal(0x02_00_00_00_09_09UL, PipelineEndToEndTests.ReadMac(onWire, 0));
        Assert.Equal(1, g.West.Totals.ClearOutbound);
        byte[] atSunrise = Assert.Single(g.AtSunrise());
        Assert.Equal(GatewayPair.AfterHops(inbound, 1), atSunrise[14..]);
        Assert.Equal(1, g.East.Totals.ClearInbound);
        AssertNoDrops(g.West);
        // The wire also carried west's clear packet for 198.51.100.9 to east's outside port; east has
        // no eroute for that flow: fail closed.
        AssertOnly(g.East, DropReason.NoPolicy, 1);
    }

    [Fact]
    public void DropRejectHoldShunts_CountedAndRejectAnswersWithIcmp()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.West.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "198.51.100.1/32"), ErouteAction.Drop);
        g.West.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "198.51.100.2/32"), ErouteAction.Reject);
        g.West.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "198.51.100.3/32"), ErouteAction.Hold);
        g.West.ErouteV6.Add(ErouteSelector<UInt128>.Parse("2001:db8:1::/64", "2001:db8:99::/64"), ErouteAction.Reject);
        g.FromSunset(TestPackets.Ipv4Udp(64, 1, dst: "198.51.100.1"));
        byte[] rejected = TestPackets.Ipv4Udp(64, 2, dst: "198.51.100.2");
        g.FromSunset(rejected);
        g.FromSunset(TestPackets.Ipv4Udp(64, 3, dst: "198.51.100.3"));
        g.FromSunset(TestPackets.Ipv6Udp(64, 4, dst: "2001:db8:99::5"));
        g.Pump();
        Assert.Equal(1, g.West.Drops(DropReason.ShuntDrop));
        Assert.Equal(2, g.West.Drops(DropReason.ShuntReject));
        Assert.Equal(1, g.West.Drops(DropReason.ShuntHold));
        Assert.Equal(4, g.West.Totals.Drops);
        Assert.Empty(g.WireEastbound);

        // %reject: ICMP destination unreachable, administratively prohibited, back to sunset.
        List<byte[]> icmp = g.AtSunset();
        Assert.Equal(2, icmp.Count);
        byte[] v4 = icmp.Single(f => f[12] == 0x08)[14..];
        Assert.Equal(IpProtocol.Icmp, v4[9]);
        Assert.Equal(new byte[] { 192, 0, 2, 1 }, v4[12..16]);
        Assert.Equal(new byte[] { 192, 0, 2, 10 }, v4[16..20]);
        Assert.Equal(0, Checksum.Compute(v4.AsSpan(0, 20)));
        Assert.Equal((byte)3, v4[20]);
        Assert.Equal((byte)13, v4[21]);
        Assert.Equal(0, Checksum.Compute(v4.AsSpan(20)));
        Assert.Equal(rejected[12..20], v4[(28 + 12)..(28 + 20)]); // the quoted header's addresses
        byte[] v6 = icmp.Single(f => f[12] == 0x86)[14..];
        Assert.Equal(IpProtocol.Icmpv6, v6[6]);
        Assert.Equal((byte)1, v6[40]);
        Assert.Equal((byte)1, v6[41]);
        Assert.Equal(2, g.West.Totals.IcmpSent);
    }

    [Fact]
    public void RejectIcmpIsRateLimited()
    {
        using var g = new GatewayPair(tune: o => new DataplaneOptions
        {
            LocalAddresses = o.LocalAddresses, IcmpSourceV4 = o.IcmpSourceV4, IcmpBurst = 3, IcmpPerSecond = 0.001,
        });
        g.Tunnel();
        g.West.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "198.51.100.2/32"), ErouteAction.Reject);
        for (int i = 0; i < 20; i++) g.FromSunset(TestPackets.Ipv4Udp(64, i, dst: "198.51.100.2"));
        g.Pump();
        Assert.Equal(20, g.West.Drops(DropReason.ShuntReject));
        Assert.Equal(3, g.AtSunset().Count);
    }

    [Fact]
    public void DecryptedPacketOutsideTheTunnelsPolicy_PolicyMismatch()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        // East's eroute for the reverse flow no longer names the tunnel's group: the decrypted
        // packet does not belong to SA 0x1001 any more (seed 000 bug #7).
        g.East.ErouteV4.Replace(SunriseToSunset, ErouteAction.Pass);
        g.FromSunset(TestPackets.Ipv4Udp(64, 1));
        g.Pump();
        AssertOnly(g.East, DropReason.PolicyMismatch, 1);
        Assert.Empty(g.AtSunrise());
    }

    [Fact]
    public void DecryptedPacketOutsideTheSasSelectors_PolicyMismatch()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        var suite = FastPath.Crypto.Esp.EspSuite.Parse("aes128gcm16");
        // Replace east's inbound SA with one whose inner source selector is only 192.0.2.0/28.
        g.East.InstallInbound(GatewayPair.Params(GatewayPair.WestSpi, suite, GatewayPair.Keys(suite, 1), g.WestPeer, g.EastPeer,
            innerSource: IpPrefix.Parse("192.0.2.0/28")), policyGroup: GatewayPair.EastSpi);
        g.FromSunset(TestPackets.Ipv4Udp(64, 1, src: "192.0.2.10"));
        g.FromSunset(TestPackets.Ipv4Udp(64, 2, src: "192.0.2.100"));
        g.Pump();
        AssertOnly(g.East, DropReason.PolicyMismatch, 1);
        Assert.Single(g.AtSunrise());
    }

    [Fact]
    public void ReplayedAndTamperedEsp_ReplayAndIntegrityFailed()
    {
        using var g = new GatewayPair { HoldEastbound = true };
        g.Tunnel();
        g.FromSunset(TestPackets.Ipv4Udp(64, 1));
        g.Pump();
        byte[] esp = Assert.Single(g.WireEastbound);
        g.ToEastOutside(esp);
        g.ToEastOutside(esp);
        byte[] tampered = (byte[])esp.Clone();
        tampered[^20] ^= 1;
        g.FromSunset(TestPackets.Ipv4Udp(64, 2));
        g.Pump();
        byte[] second = g.WireEastbound[1];
        byte[] t2 = (byte[])second.Clone();
        t2[^20] ^= 1;
        g.ToEastOutside(t2);
        g.Pump();
        Assert.Single(g.AtSunrise());
        Assert.Equal(1, g.East.Drops(DropReason.Replay));
        Assert.Equal(1, g.East.Drops(DropReason.IntegrityFailed));
        Assert.Equal(2, g.East.Totals.Drops);
    }

    [Fact]
    public void UnresolvedNeighbor_NoNeighborWithOneDeduplicatedResolveRequest()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.West.NextHops.Set(IPAddress.Parse(g.WestPeer), new NextHop(2, 0, GatewayPair.WestOutMac, 1500)); // route known, ARP pending
        // 10 batches of 5: one next-hop lookup per SA run and batch, so 10 misses for one address.
        for (int b = 0; b < 10; b++)
        {
            for (int i = 0; i < 5; i++) g.FromSunset(TestPackets.Ipv4Udp(64, b * 5 + i));
            g.Pump();
        }
        AssertOnly(g.West, DropReason.NoNeighbor, 50);
        DataplaneEvent e = Assert.Single(Events(g.West));
        Assert.Equal(DataplaneEventKind.ResolveNextHop, e.Kind);
        Assert.Equal(IpAddress16.Parse(g.WestPeer), e.Address);
        Assert.Equal(DropReason.NoNeighbor, e.Reason);
        Assert.Equal(9, g.West.Workers[0].Counters.ResolveSuppressed);
        Assert.Equal(1, g.West.Totals.ResolveRequests);

        // Resolved: traffic flows.
        g.West.NextHops.Set(IPAddress.Parse(g.WestPeer), new NextHop(2, GatewayPair.EastOutMac, GatewayPair.WestOutMac, 1500));
        g.FromSunset(TestPackets.Ipv4Udp(64, 99));
        g.Pump();
        Assert.Single(g.AtSunrise());
    }

    [Fact]
    public void DecryptedPacketToAnUnknownHost_NoRouteAndResolveRequest()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.FromSunset(TestPackets.Ipv4Udp(64, 1, dst: "192.0.2.200"));
        g.Pump();
        AssertOnly(g.East, DropReason.NoRoute, 1);
        DataplaneEvent e = Assert.Single(Events(g.East));
        Assert.Equal(DataplaneEventKind.ResolveNextHop, e.Kind);
        Assert.Equal(IpAddress16.Parse("192.0.2.200"), e.Address);
        Assert.Equal(DropReason.NoRoute, e.Reason);
    }

    [Fact]
    public void Trap_HoldsSendsOneAcquireAndReleasesWhenTheSaArrives()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.West.ErouteV4.Replace(SunsetToSunrise, ErouteAction.Trap);
        var sent = Enumerable.Range(0, 3).Select(i => TestPackets.Ipv4Udp(100, i)).ToArray();
        foreach (byte[] p in sent) g.FromSunset(p);
        g.Pump();
        Assert.Empty(g.WireEastbound);
        Assert.Equal(3, g.West.Totals.Held);
        Assert.Equal(3, g.West.Workers[0].HeldNow);
        AssertNoDrops(g.West);
        DataplaneEvent acquire = Assert.Single(Events(g.West));
        Assert.Equal(DataplaneEventKind.Acquire, acquire.Kind);
        Assert.False(acquire.IsIpv6);
        Assert.Equal(IpAddress16.Parse("192.0.2.10"), acquire.Source);
        Assert.Equal(IpAddress16.Parse("192.0.2.138"), acquire.Address);
        Assert.Equal(IpProtocol.Udp, acquire.Protocol);
        Assert.Equal(5201, acquire.DestinationPort);

        // The control plane negotiated: SA into the eroute, then resolve the ACQUIRE.
        g.West.ErouteV4.Replace(SunsetToSunrise, ErouteAction.Sa(GatewayPair.WestSpi));
        g.West.ResolveAcquire(ipv6: false, acquire.ErouteId, success: true);
        g.Pump();
        List<byte[]> got = g.AtSunrise();
        Assert.Equal(3, got.Count);
        for (int i = 0; i < 3; i++) Assert.Equal(GatewayPair.AfterHops(sent[i], 2), got[i][14..]);
        Assert.Equal(3, g.West.Totals.Released);
        Assert.Equal(0, g.West.Workers[0].HeldNow);
        AssertNoDrops(g.West);
        AssertNoDrops(g.East);
    }

    [Fact]
    public void Trap_FailureTimeoutAndFullQueueDrop()
    {
        using var g = new GatewayPair(tune: o => new DataplaneOptions
        {
            LocalAddresses = o.LocalAddresses, HoldTimeout = TimeSpan.FromMilliseconds(100), HoldPerEroute = 4,
        });
        g.Tunnel();
        g.West.ErouteV4.Replace(SunsetToSunrise, ErouteAction.Trap);
        g.West.ErouteV6.Add(ErouteSelector<UInt128>.Parse("2001:db8:1::/64", "2001:db8:77::/64"), ErouteAction.Trap);
        int free = g.West.Workers[0].FreeFrames;
        for (int i = 0; i < 6; i++) g.FromSunset(TestPackets.Ipv4Udp(64, i));
        g.Pump();
        Assert.Equal(2, g.West.Drops(DropReason.HoldQueueFull));
        DataplaneEvent acquire = Assert.Single(Events(g.West));
        g.West.ResolveAcquire(false, acquire.ErouteId, success: false);
        g.Pump();
        Assert.Equal(4, g.West.Drops(DropReason.ShuntHold));

        g.FromSunset(TestPackets.Ipv6Udp(64, 9, dst: "2001:db8:77::1"));
        g.Pump();
        Assert.Equal(1, g.West.Workers[0].HeldNow);
        Assert.True(Events(g.West).Single().IsIpv6);
        Thread.Sleep(250);
        g.West.Step();
        Assert.Equal(5, g.West.Drops(DropReason.ShuntHold));
        Assert.Equal(free, g.West.Workers[0].FreeFrames); // every held frame went back to the slab
        Assert.Empty(g.WireEastbound);
    }

    [Fact]
    public void TtlOne_TtlExpiredWithTimeExceeded_AndInnerTtlAtTheFarGateway()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        byte[] ttl1 = TestPackets.Ipv4Udp(64, 1);
        ttl1[8] = 1;
        ttl1[10] = ttl1[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ttl1.AsSpan(10), Checksum.Compute(ttl1.AsSpan(0, 20)));
        g.FromSunset(ttl1);
        g.Pump();
        AssertOnly(g.West, DropReason.TtlExpired, 1);
        byte[] icmp = Assert.Single(g.AtSunset())[14..];
        Assert.Equal((byte)11, icmp[20]);
        Assert.Equal((byte)0, icmp[21]);

        // TTL 2: west forwards it into the tunnel (TTL 1), east may not forward it.
        byte[] ttl2 = TestPackets.Ipv6Udp(64, 2);
        ttl2[7] = 2;
        g.FromSunset(ttl2);
        g.Pump();
        Assert.Equal(1, g.West.Totals.Encapsulated);
        AssertOnly(g.East, DropReason.TtlExpired, 1);
        Assert.Empty(g.AtSunrise());
    }

    [Fact]
    public void ArpAndNeighborDiscovery_NotIpOnBothPorts()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.Send(g.Sunset, GatewayPair.Frame(0xFFFF_FFFF_FFFF, GatewayPair.SunsetMac, PipelinePackets.ArpRequest(), etherType: 0x0806));
        g.FromSunset(PipelinePackets.NeighborSolicitation());
        g.ToEastOutside(GatewayPair.Frame(0xFFFF_FFFF_FFFF, GatewayPair.WestOutMac, PipelinePackets.ArpRequest(), etherType: 0x0806));
        g.Pump();
        AssertOnly(g.West, DropReason.NotIp, 2);
        AssertOnly(g.East, DropReason.NotIp, 1);
        Assert.Empty(g.WireEastbound);
    }

    [Fact]
    public void IkeIsCountedNotForwarded_KeepaliveAndLocalTrafficDropped()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        byte[] ikeHeader = new byte[28];
        ikeHeader[0] = 0x11; // some IKE SPI bytes
        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac, PipelinePackets.Ipv4Udp("203.0.113.1", "203.0.113.2", 500, 500, ikeHeader)));
        byte[] marked = new byte[4 + 28];
        marked[4] = 0x11; // non-ESP marker (4 zero bytes), then IKE
        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac, PipelinePackets.Ipv4Udp("203.0.113.1", "203.0.113.2", 4500, 4500, marked)));
        g.Pump();
        Assert.Equal(2, g.East.Totals.IkeSeen);
        AssertNoDrops(g.East);
        Assert.Empty(g.AtSunrise());

        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac, PipelinePackets.Ipv4Udp("203.0.113.1", "203.0.113.2", 4500, 4500, [0xFF])));
        g.Pump();
        AssertOnly(g.East, DropReason.NatKeepalive, 1);

        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac, PipelinePackets.Ipv4("203.0.113.1", "203.0.113.2", IpProtocol.Icmp, PipelinePackets.IcmpEcho())));
        g.FromSunset(PipelinePackets.Ipv4("192.0.2.10", "192.0.2.1", IpProtocol.Icmp, PipelinePackets.IcmpEcho()));
        g.Pump();
        Assert.Equal(1, g.East.Drops(DropReason.LocalDelivery));
        AssertOnly(g.West, DropReason.LocalDelivery, 1);
        Assert.Empty(g.AtSunrise());
        Assert.Empty(g.WireEastbound);
    }

    [Fact]
    public void LoneEspFragmentToUs_IsHeldForReassemblyNotForwarded()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        byte[] espish = new byte[64];
        espish[3] = 0x01; // SPI 1
        g.ToEastOutside(GatewayPair.Frame(GatewayPair.EastOutMac, GatewayPair.WestOutMac,
            PipelinePackets.Ipv4("203.0.113.1", "203.0.113.2", IpProtocol.Esp, espish, flagsFragment: 0x2000)));
        g.Pump();
        Assert.Equal(0, g.East.Totals.Drops);
        Assert.Empty(g.AtSunrise());
        Assert.Equal(0, g.East.Workers[0].Counters.Reassembled);
    }

    [Fact]
    public void DfClearOversize_OuterFragmentedByWestAndReassembledByEast()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.West.NextHops.Set(IPAddress.Parse(g.WestPeer), new NextHop(2, GatewayPair.EastOutMac, GatewayPair.WestOutMac, 576));
        byte[] pkt = TestPackets.Ipv4Udp(1000, 1);
        pkt[6] &= 0xBF; // DF clear
        pkt[10] = pkt[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(pkt.AsSpan(10), Checksum.Compute(pkt.AsSpan(0, 20)));
        byte[] expected = GatewayPair.AfterHops(pkt, 2);
        g.FromSunset(pkt);
        g.Pump();
        g.Pump();
        Assert.Equal(0, g.West.Totals.Drops);
        Assert.True(g.West.Workers[0].Counters.OuterFragments >= 2);
        Assert.Equal(1, g.East.Workers[0].Counters.Reassembled);
        Assert.Equal(expected, Assert.Single(g.AtSunrise())[14..]);
    }

    [Fact]
    public void OversizeAfterEsp_FragmentationNeeded()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.West.NextHops.Set(IPAddress.Parse(g.WestPeer), new NextHop(2, GatewayPair.EastOutMac, GatewayPair.WestOutMac, 576));
        g.FromSunset(TestPackets.Ipv4Udp(1000, 1));
        g.FromSunset(TestPackets.Ipv4Udp(400, 2));
        g.Pump();
        AssertOnly(g.West, DropReason.FragmentationNeeded, 1);
        Assert.Single(g.AtSunrise());
    }

    [Fact]
    public void MalformedFrames_RuntAndBadHeader()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        g.Send(g.Sunset, new byte[10]);
        byte[] bad = TestPackets.Ipv4Udp(64, 1);
        bad[10] ^= 0xFF; // header checksum
        g.FromSunset(bad);
        byte[] shortLength = TestPackets.Ipv4Udp(64, 2);
        BinaryPrimitives.WriteUInt16BigEndian(shortLength.AsSpan(2), 4000); // total length past the frame
        g.FromSunset(shortLength);
        g.Pump();
        Assert.Equal(1, g.West.Drops(DropReason.Runt));
        Assert.Equal(2, g.West.Drops(DropReason.BadHeader));
        Assert.Equal(3, g.West.Totals.Drops);
    }

    [Fact]
    public unsafe void ChecksumNotReadyFrames_AreCompletedBeforeEncryptionAndCounted()
    {
        using var g = new GatewayPair(wrapWestInside: io => new FlaggingIo(io));
        g.Tunnel();
        byte[] pkt = TestPackets.Ipv4Udp(64, 1);
        byte[] expected = GatewayPair.AfterHops(pkt, 2);
        // CHECKSUM_PARTIAL as a veth hands it up: the UDP checksum field holds some partial sum.
        pkt[20 + 6] = 0x12;
        pkt[20 + 7] = 0x34;
        g.FromSunset(pkt);
        g.Pump();
        Assert.Equal(1, g.West.Workers[0].Counters.ChecksumNotReady);
        byte[] got = Assert.Single(g.AtSunrise())[14..];
        fixed (byte* ip = got)
        {
            ref Ipv4Header h = ref Ipv4Header.At(ip);
            // The completed checksum verifies (sum over pseudo-header and segment is 0 after Finish).
            ushort c = Checksum.TransportIpv4(h.SourceRaw, h.DestinationRaw, IpProtocol.Udp, ip + 20, got.Length - 20);
            Assert.True(c is 0 or 0xFFFF, $"UDP checksum does not verify (residue 0x{c:x4})");
        }
        // Everything but the checksum field is what sunset sent (TTL decremented twice).
        got[26] = expected[26];
        got[27] = expected[27];
        Assert.Equal(expected, got);
    }

    [Fact]
    public void SaLifetimes_SoftAndHardEventsThenLifetimeExpired()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        var suite = FastPath.Crypto.Esp.EspSuite.Parse("aes128gcm16");
        const uint Spi = 0x1009;
        g.West.InstallOutbound(GatewayPair.Params(Spi, suite, GatewayPair.Keys(suite, 1), g.EastPeer, g.WestPeer,
            lifetime: new SaLifetime(0, 0, SoftPackets: 5, HardPackets: 10)));
        g.East.InstallInbound(GatewayPair.Params(Spi, suite, GatewayPair.Keys(suite, 1), g.WestPeer, g.EastPeer), policyGroup: GatewayPair.EastSpi);
        g.West.ErouteV4.Replace(SunsetToSunrise, ErouteAction.Sa(Spi));
        for (int i = 0; i < 15; i++)
        {
            g.FromSunset(TestPackets.Ipv4Udp(64, i));
            g.Pump(); // one per batch: lifetimes are checked after each batch
        }
        Assert.Equal(10, g.AtSunrise().Count);
        Assert.Equal(5, g.West.Drops(DropReason.LifetimeExpired));
        List<DataplaneEvent> events = Events(g.West);
        Assert.Equal(2, events.Count);
        Assert.Equal(DataplaneEventKind.SoftLifetime, events[0].Kind);
        Assert.Equal(Spi, events[0].Spi);
        Assert.Equal(5UL, events[0].Packets);
        Assert.Equal(DataplaneEventKind.HardLifetime, events[1].Kind);
        Assert.Equal(SaDirection.Outbound, events[1].Direction);
    }

    /// <summary>An inside port whose frames all arrive flagged ChecksumNotReady (as AF_PACKET flags
    /// CHECKSUM_PARTIAL frames from a veth).</summary>
    private sealed class FlaggingIo(IPacketIo inner) : IPacketIo
    {
        public IoCounters Counters => inner.Counters;

        public int Receive(Span<Packet> packets, FrameSlab slab)
        {
            int n = inner.Receive(packets, slab);
            for (int i = 0; i < n; i++) packets[i].Flags |= PacketFlags.ChecksumNotReady;
            return n;
        }

        public int Transmit(ReadOnlySpan<Packet> packets) => inner.Transmit(packets);
        public bool WaitForReceive(int timeoutMs) => inner.WaitForReceive(timeoutMs);
        public void RefreshCounters() => inner.RefreshCounters();
        public void Dispose() => inner.Dispose();
    }
}
