using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Packets;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests.Io;

/// <summary>The XDP program's classification (native-shims/fastpath_xdp.bpf.c) on crafted frames
/// sent raw from the peer namespace: each frame carries a unique 4-byte tag at its end; a frame
/// meant for the dataplane must arrive through AfXdpIo, a frame meant for the kernel must not, and
/// the program's verdict counter for its class must move.</summary>
public sealed unsafe class AfXdpClassifierTests
{
    private readonly ITestOutputHelper _out;

    public AfXdpClassifierTests(ITestOutputHelper output)
    {
        _out = output;
        XdpNetns.RequireShim();
    }

    private enum Expect { Redirect, Ike, Arp, Nd, Mgmt, Other }

    private static byte[] Eth(ushort type, params byte[][] rest)
    {
        var l = new List<byte> { 0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, (byte)(type >> 8), (byte)type };
        foreach (byte[] r in rest) l.AddRange(r);
        return l.ToArray();
    }

    /// <summary>IPv4 header 198.51.100.1 -> .2 (checksum left 0: the program does not look at it).</summary>
    private static byte[] Ip4(byte proto, ushort fragOff = 0, int ihl = 5)
    {
        byte[] h = new byte[ihl * 4];
        h[0] = (byte)(0x40 | ihl);
        h[6] = (byte)(fragOff >> 8); h[7] = (byte)fragOff;
        h[8] = 64; h[9] = proto;
        h[12] = 198; h[13] = 51; h[14] = 100; h[15] = 1;
        h[16] = 198; h[17] = 51; h[18] = 100; h[19] = 2;
        return h;
    }

    private static byte[] Ip6(byte next)
    {
        byte[] h = new byte[40];
        h[0] = 0x60; h[6] = next; h[7] = 64;
        h[8] = 0x20; h[9] = 0x01; h[10] = 0x0d; h[11] = 0xb8; h[23] = 1;
        h[24] = 0x20; h[25] = 0x01; h[26] = 0x0d; h[27] = 0xb8; h[39] = 2;
        return h;
    }

    private static byte[] Udp(ushort dport) => [0x9c, 0x40, (byte)(dport >> 8), (byte)dport, 0, 40, 0, 0];
    private static byte[] Tcp(ushort dport) => [0x9c, 0x40, (byte)(dport >> 8), (byte)dport, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0, 0, 0, 0];
    private static byte[] B(params byte[] b) => b;

    [Theory]
    [InlineData(XdpAttachMode.Native)]
    [InlineData(XdpAttachMode.Generic)]
    public void EachClassReachesTheRightSide(XdpAttachMode mode)
    {
        byte[] zero4 = [0, 0, 0, 0];
        var cases = new (string Name, byte[] Frame, Expect Want)[]
        {
            ("IPv4 UDP 500 (IKE)", Eth(0x0800, Ip4(17), Udp(500), zero4, new byte[20]), Expect.Ike),
            ("IPv4 UDP 4500 marker 0 (IKE)", Eth(0x0800, Ip4(17), Udp(4500), zero4, new byte[20]), Expect.Ike),
            ("IPv4 UDP 4500 SPI (ESP-in-UDP)", Eth(0x0800, Ip4(17), Udp(4500), B(0, 0, 0x12, 0x34), new byte[20]), Expect.Redirect),
            ("IPv4 UDP 4500 NAT keepalive 0xFF", Eth(0x0800, Ip4(17), Udp(4500), B(0xFF)), Expect.Redirect),
            ("IPv4 UDP 4500 payload < 4 B", Eth(0x0800, Ip4(17), Udp(4500), B(0, 0)), Expect.Redirect),
            ("IPv4 with options, UDP 500", Eth(0x0800, Ip4(17, ihl: 6), Udp(500), zero4, new byte[20]), Expect.Ike),
            ("IPv4 UDP 500 non-first fragment", Eth(0x0800, Ip4(17, fragOff: 0x0010), Udp(500), new byte[20]), Expect.Redirect),
            ("IPv4 ESP (50)", Eth(0x0800, Ip4(50), B(0, 0, 0x12, 0x34, 0, 0, 0, 1), new byte[20]), Expect.Redirect),
            ("IPv4 truncated header", Eth(0x0800, B(0x45, 0, 0, 20, 0, 0)), Expect.Redirect),
            ("IPv4 TCP 22 (management)", Eth(0x0800, Ip4(6), Tcp(22), new byte[8]), Expect.Mgmt),
            ("IPv4 TCP 23", Eth(0x0800, Ip4(6), Tcp(23), new byte[8]), Expect.Redirect),
            ("IPv4 UDP 9 cleartext", Eth(0x0800, Ip4(17), Udp(9), new byte[20]), Expect.Redirect),
            ("802.1Q IPv4 UDP 500", Eth(0x8100, B(0, 0x64, 0x08, 0x00), Ip4(17), Udp(500), zero4, new byte[20]), Expect.Ike),
            ("802.1ad+802.1Q IPv4 UDP 9", Eth(0x88A8, B(0, 0x64, 0x81, 0x00), B(0, 0x65, 0x08, 0x00), Ip4(17), Udp(9), new byte[20]), Expect.Redirect),
            ("ARP", Eth(0x0806, new byte[28]), Expect.Arp),
            ("802.1Q ARP", Eth(0x8100, B(0, 0x64, 0x08, 0x06), new byte[28]), Expect.Arp),
            ("IPv6 UDP 500", Eth(0x86DD, Ip6(17), Udp(500), zero4, new byte[20]), Expect.Ike),
            ("IPv6 hop-by-hop + UDP 4500 marker 0", Eth(0x86DD, Ip6(0), B(17, 0, 1, 4, 0, 0, 0, 0), Udp(4500), zero4, new byte[20]), Expect.Ike),
            ("IPv6 first fragment UDP 500", Eth(0x86DD, Ip6(44), B(17, 0, 0, 1, 0, 0, 0, 7), Udp(500), zero4, new byte[20]), Expect.Ike),
            ("IPv6 non-first fragment", Eth(0x86DD, Ip6(44), B(17, 0, 0, 0x18, 0, 0, 0, 7), new byte[24]), Expect.Redirect),
            ("IPv6 ICMPv6 NS (135)", Eth(0x86DD, Ip6(58), B(135, 0, 0, 0), new byte[20]), Expect.Nd),
            ("IPv6 ICMPv6 RA (134)", Eth(0x86DD, Ip6(58), B(134, 0, 0, 0), new byte[20]), Expect.Nd),
            ("IPv6 ICMPv6 echo (128)", Eth(0x86DD, Ip6(58), B(128, 0, 0, 0), new byte[20]), Expect.Redirect),
            ("IPv6 ICMPv6 MLDv2 report (143)", Eth(0x86DD, Ip6(58), B(143, 0, 0, 0), new byte[20]), Expect.Redirect),
            ("IPv6 ESP", Eth(0x86DD, Ip6(50), B(0, 0, 0x12, 0x34, 0, 0, 0, 1), new byte[20]), Expect.Redirect),
            ("IPv6 truncated", Eth(0x86DD, B(0x60, 0, 0, 0)), Expect.Redirect),
            ("LLDP-like 0x88CC", Eth(0x88CC, new byte[40]), Expect.Other),
            ("Experimental 0x88B5", Eth(0x88B5, new byte[40]), Expect.Other),
        };

        using var ns = new XdpNetns();
        // The sender's own kernel stays quiet (no IPv6 autoconf/MLD on its veth).
        XdpNetns.Run("ip", $"netns exec {ns.NsA} sysctl -q -w net.ipv6.conf.{ns.IfA}.disable_ipv6=1");
        using var a = NetworkNamespace.Run(ns.NsA, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfA, Receive = false }));
        using var b = NetworkNamespace.Run(ns.NsB, () => new AfXdpIo(new AfXdpOptions { Interface = ns.IfB, Mode = mode, ManagementTcpPorts = [22] }));
        using var txSlab = new FrameSlab(4);
        using var slab = new FrameSlab(256);
        var batch = new PacketBatch(256);
        Span<Packet> one = stackalloc Packet[1];
        var failures = new List<string>();
        for (int c = 0; c < cases.Length; c++)
        {
            var (name, frame, want) = cases[c];
            uint tag = 0xFA570000u | (uint)c;
            Assert.True(txSlab.TryRent(out Packet p));
            p.Length = frame.Length + 4;
            frame.CopyTo(new Span<byte>(p.Data, frame.Length));
            BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(p.Data + frame.Length, 4), tag);
            XdpVerdictCounts before = b.Program!.ReadVerdicts();
            one[0] = p;
            Assert.Equal(1, a.Transmit(one));
            txSlab.Return(p);

            bool seen = false;
            long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / (want == Expect.Redirect ? 2 : 5);
            while (!seen && Stopwatch.GetTimestamp() < until)
            {
                if (!b.WaitForReceive(10)) continue;
                int n = b.Receive(batch, slab);
                for (int i = 0; i < n; i++)
                {
                    ref Packet r = ref batch[i];
                    if (r.Length == frame.Length + 4 && BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(r.Data + frame.Length, 4)) == tag)
                        seen = new ReadOnlySpan<byte>(r.Data, frame.Length).SequenceEqual(frame);
                }
                slab.ReturnAll(batch.Packets);
            }
            XdpVerdictCounts after = b.Program.ReadVerdicts();
            long moved = want switch
            {
                Expect.Redirect => after.Redirected - before.Redirected,
                Expect.Ike => after.PassedIke - before.PassedIke,
                Expect.Arp => after.PassedArp - before.PassedArp,
                Expect.Nd => after.PassedNd - before.PassedNd,
                Expect.Mgmt => after.PassedManagement - before.PassedManagement,
                _ => after.PassedOther - before.PassedOther,
            };
            bool ok = (want == Expect.Redirect) == seen && moved >= 1;
            string line = $"{(ok ? "ok  " : "FAIL")} {name}: want {want}, dataplane saw it: {seen}, counter moved {moved}";
            _out.WriteLine(line);
            if (!ok) failures.Add(line);
        }
        Assert.Empty(failures);
    }
}

/// <summary>Layouts of the AF_XDP UAPI structs (linux/if_xdp.h) as the kernel expects them.</summary>
public sealed class AfXdpInteropTests
{
    [Fact]
    public void StructSizesMatchTheKernelAbi()
    {
        Assert.Equal(32, Marshal.SizeOf<XdpUmemReg>());
        Assert.Equal(32, Marshal.SizeOf<XdpRingOffset>());
        Assert.Equal(128, Marshal.SizeOf<XdpMmapOffsets>());
        Assert.Equal(16, Marshal.SizeOf<SockaddrXdp>());
        Assert.Equal(16, Marshal.SizeOf<XdpDesc>());
        Assert.Equal(48, Marshal.SizeOf<XdpStatistics>());
        Assert.Equal(16, (int)Marshal.OffsetOf<XdpUmemReg>(nameof(XdpUmemReg.ChunkSize)));
        Assert.Equal(12, (int)Marshal.OffsetOf<SockaddrXdp>(nameof(SockaddrXdp.SharedUmemFd)));
    }
}
