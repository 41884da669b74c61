using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests.Pipeline;

// The facade's name is also a namespace (FastPath.Dataplane): inside FastPath.* an alias picks the type.
using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>Two gateways back to back: what sunset sends arrives at sunrise decrypted and
/// byte-identical apart from L2 and two TTL decrements, for each suite, raw ESP and ESP-in-UDP,
/// IPv4 and IPv6 inner, IPv4 and IPv6 outer; the wire carries only ESP.</summary>
public class PipelineEndToEndTests
{
    public static TheoryData<string, bool, bool> Cases()
    {
        var d = new TheoryData<string, bool, bool>();
        foreach (string suite in new[] { "aes128gcm16", "aes256gcm16", "aes128-sha1", "3des-sha1" })
        foreach (bool natT in new[] { false, true })
        foreach (bool outer6 in new[] { false, true })
            d.Add(suite, natT, outer6);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrafficCrossesTheTunnelBothWaysIntact(string suite, bool natT, bool outer6)
    {
        using var g = new GatewayPair(ipv6Outer: outer6);
        var (wo, wi, eo, ei) = g.Tunnel(suite, natT);
        var sent = new List<byte[]>();
        for (int k = 0; k < 60; k++)
        {
            int size = k * 23 % 1380;
            byte[] pkt = k % 2 == 0 ? TestPackets.Ipv4Udp(size, k) : TestPackets.Ipv6Udp(size, k);
            sent.Add(pkt);
            g.FromSunset(pkt);
        }
        g.Pump();

        List<byte[]> got = g.AtSunrise();
        Assert.Equal(sent.Count, got.Count);
        for (int k = 0; k < sent.Count; k++)
        {
            byte[] f = got[k];
            Assert.Equal(GatewayPair.SunriseMac, ReadMac(f, 0));
            Assert.Equal(GatewayPair.EastInMac, ReadMac(f, 6));
            Assert.Equal((sent[k][0] >> 4) == 4 ? 0x0800 : 0x86DD, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
            Assert.Equal(GatewayPair.AfterHops(sent[k], 2), f[14..]);
        }

        // Only ESP on the wire, addressed gateway to gateway, from west's outside MAC to east's.
        Assert.Equal(sent.Count, g.WireEastbound.Count);
        foreach (byte[] f in g.WireEastbound)
        {
            Assert.Equal(GatewayPair.EastOutMac, ReadMac(f, 0));
            Assert.Equal(GatewayPair.WestOutMac, ReadMac(f, 6));
            int proto = outer6 ? f[14 + 6] : f[14 + 9];
            Assert.Equal(natT ? 17 : 50, proto);
            if (natT) Assert.Equal(4500, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + (outer6 ? 40 : 20) + 2)));
            Assert.Equal(outer6 ? 0x86DD : 0x0800, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        }

        // Counters on both sides, per worker and per SA.
        Assert.Equal(sent.Count, g.West.Totals.Encapsulated);
        Assert.Equal(sent.Count, g.West.Totals.TxOutside);
        Assert.Equal(sent.Count, g.East.Totals.Decapsulated);
        Assert.Equal(sent.Count, g.East.Totals.TxInside);
        Assert.Equal(sent.Count, wo.Counters.Packets);
        Assert.Equal(sent.Count, ei.Counters.Packets);
        Assert.Equal((ulong)sent.Count, wo.Sequence);
        Assert.Equal(0, g.West.Totals.Drops);
        Assert.Equal(0, g.East.Totals.Drops);

        // And back: sunrise → sunset over east's outbound SA.
        byte[] reply = TestPackets.Ipv4Udp(100, 7, src: "192.0.2.138", dst: "192.0.2.10");
        byte[] reply6 = TestPackets.Ipv6Udp(100, 8, src: "2001:db8:2::138", dst: "2001:db8:1::10");
        g.FromSunrise(reply);
        g.FromSunrise(reply6);
        g.Pump();
        List<byte[]> back = g.AtSunset();
        Assert.Equal(2, back.Count);
        Assert.Equal(GatewayPair.AfterHops(reply, 2), back[0][14..]);
        Assert.Equal(GatewayPair.AfterHops(reply6, 2), back[1][14..]);
        Assert.Equal(GatewayPair.SunsetMac, ReadMac(back[0], 0));
        Assert.Equal(2, eo.Counters.Packets);
        Assert.Equal(2, wi.Counters.Packets);
        Assert.Equal(0, g.West.Totals.Drops + g.East.Totals.Drops);
    }

    [Fact]
    public void VlanTaggedFramesAreClassifiedAndForwarded()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        byte[] pkt = TestPackets.Ipv4Udp(200, 3);
        g.FromSunset(pkt, vlan: 42);
        g.Pump();
        List<byte[]> got = g.AtSunrise();
        Assert.Single(got);
        Assert.Equal(GatewayPair.AfterHops(pkt, 2), got[0][14..]);
    }

    [Fact]
    public void CommandsApplyBetweenBatchesAndDeleteStopsTraffic()
    {
        using var g = new GatewayPair();
        var (wo, _, _, _) = g.Tunnel();
        // Install and the first packet in the same Step: commands are drained before RX.
        g.FromSunset(TestPackets.Ipv4Udp(64, 1));
        g.Pump();
        Assert.Single(g.AtSunrise());
        Assert.True(g.West.Workers[0].Counters.Commands >= 2); // outbound + inbound installs
        Assert.True(g.West.WaitForCommands(TimeSpan.FromSeconds(1)));

        // Delete west's outbound SA: the eroute still names it, the worker no longer has it.
        Assert.True(g.West.DeleteSa(GatewayPair.WestSpi, SaDirection.Outbound));
        Assert.False(g.West.DeleteSa(GatewayPair.WestSpi, SaDirection.Outbound));
        g.FromSunset(TestPackets.Ipv4Udp(64, 2));
        g.Pump();
        Assert.Empty(g.AtSunrise());
        Assert.Equal(1, g.West.Drops(DropReason.NoState));

        // Re-install under the same SPI with the same keys (a manual re-key of the sender only
        // would be refused by east's replay window: sequence numbers start at 1 again).
        g.FromSunset(TestPackets.Ipv4Udp(64, 3));
        g.Pump();
        Assert.Equal(2, g.West.Drops(DropReason.NoState));
    }

    [Fact]
    public void MakeBeforeBreakRekeyLosesNothing()
    {
        using var g = new GatewayPair();
        g.Tunnel();
        var suite = FastPath.Crypto.Esp.EspSuite.Parse("aes128gcm16");
        byte[] newKeys = GatewayPair.Keys(suite, 99);
        const uint NewSpi = 0x1002;
        int delivered = 0;
        for (int round = 0; round < 30; round++)
        {
            if (round == 10)
            {
                // 1. new inbound on east, 2. new outbound on west, 3. switch the eroute (one RCU publication).
                g.East.InstallInbound(GatewayPair.Params(NewSpi, suite, newKeys, g.WestPeer, g.EastPeer), policyGroup: GatewayPair.EastSpi);
                g.West.InstallOutbound(GatewayPair.Params(NewSpi, suite, newKeys, g.EastPeer, g.WestPeer));
            }
            if (round == 11)
                g.West.ErouteV4.Replace(FastPath.Dataplane.Policy.ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25"), FastPath.Dataplane.Policy.ErouteAction.Sa(NewSpi));
            if (round == 20)
            {
                // 4. old SAs go after the old inbound drained.
                Assert.True(g.West.DeleteSa(GatewayPair.WestSpi, SaDirection.Outbound));
                Assert.True(g.East.DeleteSa(GatewayPair.WestSpi, SaDirection.Inbound));
            }
            for (int k = 0; k < 5; k++) g.FromSunset(TestPackets.Ipv4Udp(100, round * 5 + k));
            g.Pump();
            delivered += g.AtSunrise().Count;
        }
        Assert.Equal(150, delivered);
        Assert.Equal(0, g.West.Totals.Drops + g.East.Totals.Drops);
    }

    [Fact]
    public void SecondWorkerOwnsItsSasOnItsOwnPorts()
    {
        // Two workers, each with its own port pair: an SA installed on worker 1 carries traffic
        // arriving on worker 1's inside port, and worker 0's traffic for it via the handoff ring.
        var ports = Enumerable.Range(0, 2).Select(_ => (In: FastPath.Dataplane.Io.InMemoryIo.CreatePair(), Out: FastPath.Dataplane.Io.InMemoryIo.CreatePair())).ToArray();
        using var dp = new Dataplane(new DataplaneOptions { WorkerCount = 2, LocalAddresses = [System.Net.IPAddress.Parse("203.0.113.1")] },
            i => (ports[i].In.B, ports[i].Out.A));
        var suite = FastPath.Crypto.Esp.EspSuite.Parse("aes128gcm16");
        SaHandle h = dp.InstallOutbound(GatewayPair.Params(0x3001, suite, GatewayPair.Keys(suite, 5), "203.0.113.1", "203.0.113.2"), worker: 1);
        Assert.Equal(1, h.Worker);
        dp.ErouteV4.Add(FastPath.Dataplane.Policy.ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25"), FastPath.Dataplane.Policy.ErouteAction.Sa(0x3001));
        dp.NextHops.Set(System.Net.IPAddress.Parse("203.0.113.2"), new FastPath.Dataplane.L3.NextHop(2, GatewayPair.EastOutMac, GatewayPair.WestOutMac, 1500));
        using var t = new GatewayPairTools();
        t.Send(ports[1].In.A, GatewayPair.Frame(GatewayPair.WestInMac, GatewayPair.SunsetMac, TestPackets.Ipv4Udp(80, 1)));
        t.Send(ports[0].In.A, GatewayPair.Frame(GatewayPair.WestInMac, GatewayPair.SunsetMac, TestPackets.Ipv4Udp(80, 2)));
        dp.Step();
        // Worker 0 does not own SA 0x3001: it hands its packet to worker 1 (Handoff.cs), which
        // encrypts both and sends them on its own outside port.
        Assert.Equal(2, t.Drain(ports[1].Out.B).Count);
        Assert.Empty(t.Drain(ports[0].Out.B));
        Assert.Equal(2, dp.Workers[1].EspCounters.Encapsulated);
        Assert.Equal(1, dp.Workers[0].Counters.HandedOff);
        Assert.Equal(0, dp.Totals.Drops);
        foreach (var p in ports) { p.In.A.Dispose(); p.Out.B.Dispose(); }
    }

    internal static ulong ReadMac(byte[] f, int at)
    {
        ulong v = 0;
        for (int i = 0; i < 6; i++) v = (v << 8) | f[at + i];
        return v;
    }
}

/// <summary>Send/drain helpers for tests that wire ports themselves.</summary>
public sealed unsafe class GatewayPairTools : IDisposable
{
    private readonly FastPath.Dataplane.Packets.FrameSlab _slab = new(1024);
    private readonly FastPath.Dataplane.Packets.PacketBatch _batch = new(256);

    public void Send(FastPath.Dataplane.Io.InMemoryIo io, byte[] frame)
    {
        Assert.True(_slab.TryRent(out FastPath.Dataplane.Packets.Packet p));
        frame.CopyTo(new Span<byte>(p.Frame + p.Offset, frame.Length));
        p.Length = frame.Length;
        Assert.Equal(1, io.Transmit(new ReadOnlySpan<FastPath.Dataplane.Packets.Packet>(in p)));
        _slab.Return(p);
    }

    public List<byte[]> Drain(FastPath.Dataplane.Io.InMemoryIo io)
    {
        var list = new List<byte[]>();
        while (io.Receive(_batch.Slots, _slab) is int n && n > 0)
        {
            for (int i = 0; i < n; i++)
            {
                list.Add(_batch[i].Span.ToArray());
                _slab.Return(_batch[i]);
            }
        }
        return list;
    }

    public void Dispose() => _slab.Dispose();
}
