using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Net;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Tests.Pipeline;

// The facade's name is also a namespace (FastPath.Dataplane): inside FastPath.* an alias picks the type.
using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>
/// West and East FastPath gateways back to back over in-memory ports (DESIGN.md §5 topology):
/// sunset (192.0.2.10, 2001:db8:1::10) ─ west [192.0.2.1 | 203.0.113.1] ═ wire ═
/// [203.0.113.2 | 192.0.2.129] east ─ sunrise (192.0.2.138, 2001:db8:2::138).
/// The test plays sunset and sunrise (it holds the far ends of the inside ports) and, unless the
/// link is direct, the wire: <see cref="Relay"/> carries frames between the outside ports and lets
/// a test capture, duplicate or inject frames there.
/// </summary>
public sealed unsafe class GatewayPair : IDisposable
{
    public static readonly ulong SunsetMac = 0x02_00_00_00_00_10, WestInMac = 0x02_00_00_00_01_01, WestOutMac = 0x02_00_00_00_01_02;
    public static readonly ulong EastOutMac = 0x02_00_00_00_02_02, EastInMac = 0x02_00_00_00_02_01, SunriseMac = 0x02_00_00_00_00_38;
    public const uint WestSpi = 0x1001, EastSpi = 0x2001;

    public readonly Dataplane West;
    public readonly Dataplane East;
    /// <summary>Sunset's end of west's inside port.</summary>
    public readonly InMemoryIo Sunset;
    /// <summary>Sunrise's end of east's inside port.</summary>
    public readonly InMemoryIo Sunrise;
    /// <summary>The wire's ends (null when the outside ports are joined directly).</summary>
    public readonly InMemoryIo? WireWest, WireEast;
    private readonly FrameSlab _slab = new(4096);
    private readonly PacketBatch _batch = new(256);

    public bool Ipv6Outer { get; }

    public GatewayPair(bool directLink = false, bool ipv6Outer = false, Func<DataplaneOptions, DataplaneOptions>? tune = null,
        Func<IPacketIo, IPacketIo>? wrapWestInside = null)
    {
        Ipv6Outer = ipv6Outer;
        var (sunset, westIn) = InMemoryIo.CreatePair();
        var (eastIn, sunrise) = InMemoryIo.CreatePair();
        InMemoryIo westOut, eastOut;
        if (directLink)
        {
            (westOut, eastOut) = InMemoryIo.CreatePair();
        }
        else
        {
            InMemoryIo ww, we;
            (westOut, ww) = InMemoryIo.CreatePair();
            (we, eastOut) = InMemoryIo.CreatePair();
            WireWest = ww;
            WireEast = we;
        }
        Sunset = sunset;
        Sunrise = sunrise;
        var westOptions = new DataplaneOptions
        {
            LocalAddresses = [IPAddress.Parse("192.0.2.1"), IPAddress.Parse("203.0.113.1"), IPAddress.Parse("2001:db8:1::1"), IPAddress.Parse("2001:db8:ffff::1")],
            IcmpSourceV4 = IPAddress.Parse("192.0.2.1"),
            IcmpSourceV6 = IPAddress.Parse("2001:db8:1::1"),
        };
        var eastOptions = new DataplaneOptions
        {
            LocalAddresses = [IPAddress.Parse("192.0.2.129"), IPAddress.Parse("203.0.113.2"), IPAddress.Parse("2001:db8:2::1"), IPAddress.Parse("2001:db8:ffff::2")],
            IcmpSourceV4 = IPAddress.Parse("192.0.2.129"),
            IcmpSourceV6 = IPAddress.Parse("2001:db8:2::1"),
        };
        if (tune is not null)
        {
            westOptions = tune(westOptions);
            eastOptions = tune(eastOptions);
        }
        IPacketIo westInside = wrapWestInside is null ? westIn : wrapWestInside(westIn);
        West = new Dataplane(westOptions, _ => (westInside, westOut));
        East = new Dataplane(eastOptions, _ => (eastIn, eastOut));

        // Next hops: the peer's outside address and the protected hosts.
        West.NextHops.Set(IPAddress.Parse(WestPeer), new NextHop(2, EastOutMac, WestOutMac, 1500));
        West.NextHops.Set(IPAddress.Parse("192.0.2.10"), new NextHop(1, SunsetMac, WestInMac, 1500));
        West.NextHops.Set(IPAddress.Parse("2001:db8:1::10"), new NextHop(1, SunsetMac, WestInMac, 1500));
        East.NextHops.Set(IPAddress.Parse(EastPeer), new NextHop(2, WestOutMac, EastOutMac, 1500));
        East.NextHops.Set(IPAddress.Parse("192.0.2.138"), new NextHop(1, SunriseMac, EastInMac, 1500));
        East.NextHops.Set(IPAddress.Parse("2001:db8:2::138"), new NextHop(1, SunriseMac, EastInMac, 1500));
    }

    /// <summary>West's outside address (what east sends ESP to).</summary>
    public string EastPeer => Ipv6Outer ? "2001:db8:ffff::1" : "203.0.113.1";
    /// <summary>East's outside address.</summary>
    public string WestPeer => Ipv6Outer ? "2001:db8:ffff::2" : "203.0.113.2";

    /// <summary>The eroutes of a site-to-site tunnel (both families) and the four SAs of it.</summary>
    public (SaHandle WestOut, SaHandle WestIn, SaHandle EastOut, SaHandle EastIn) Tunnel(string suite = "aes128gcm16", bool natT = false, bool esn = false)
    {
        West.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25"), ErouteAction.Sa(WestSpi), IPAddress.Parse(WestPeer));
        West.ErouteV6.Add(ErouteSelector<UInt128>.Parse("2001:db8:1::/64", "2001:db8:2::/64"), ErouteAction.Sa(WestSpi), IPAddress.Parse(WestPeer));
        East.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.128/25", "192.0.2.0/25"), ErouteAction.Sa(EastSpi), IPAddress.Parse(EastPeer));
        East.ErouteV6.Add(ErouteSelector<UInt128>.Parse("2001:db8:2::/64", "2001:db8:1::/64"), ErouteAction.Sa(EastSpi), IPAddress.Parse(EastPeer));
        var s = EspSuite.Parse(suite);
        byte[] westKeys = Keys(s, 1), eastKeys = Keys(s, 2);
        SaHandle wo = West.InstallOutbound(Params(WestSpi, s, westKeys, EastPeer, WestPeer, natT, esn));
        SaHandle ei = East.InstallInbound(Params(WestSpi, s, westKeys, WestPeer, EastPeer, natT, esn), policyGroup: EastSpi);
        SaHandle eo = East.InstallOutbound(Params(EastSpi, s, eastKeys, WestPeer, EastPeer, natT, esn));
        SaHandle wi = West.InstallInbound(Params(EastSpi, s, eastKeys, EastPeer, WestPeer, natT, esn), policyGroup: WestSpi);
        return (wo, wi, eo, ei);
    }

    public static byte[] Keys(EspSuite suite, int seed)
    {
        var b = new byte[suite.KeyMaterialLength];
        new Random(seed).NextBytes(b);
        return b;
    }

    public static SaParameters Params(uint spi, EspSuite suite, byte[] keys, string local, string remote, bool natT = false, bool esn = false,
        IpPrefix? innerSource = null, IpPrefix? innerDestination = null, SaLifetime lifetime = default) => new()
    {
        Spi = spi, Suite = suite, KeyMaterial = keys, Esn = esn,
        LocalAddress = IpAddress16.Parse(local), RemoteAddress = IpAddress16.Parse(remote), UdpEncapsulation = natT,
        InnerSource = innerSource, InnerDestination = innerDestination, Lifetime = lifetime,
    };

    // ---- frames ------------------------------------------------------------------------------

    /// <summary>An Ethernet frame (optionally 802.1Q-tagged) around <paramref name="l3"/>.</summary>
    public static byte[] Frame(ulong dst, ulong src, byte[] l3, ushort etherType = 0, ushort? vlan = null)
    {
        if (etherType == 0) etherType = (l3[0] >> 4) == 6 ? (ushort)0x86DD : (ushort)0x0800;
        int l2 = vlan is null ? 14 : 18;
        var f = new byte[l2 + l3.Length];
        fixed (byte* p = f)
        {
            NextHop.WriteMac(p, dst);
            NextHop.WriteMac(p + 6, src);
        }
        if (vlan is { } tag)
        {
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14), tag);
        }
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(l2 - 2), etherType);
        l3.CopyTo(f, l2);
        return f;
    }

    /// <summary>Sunset sends an IP packet to west's inside port.</summary>
    public void FromSunset(byte[] l3, ushort? vlan = null) => Send(Sunset, Frame(WestInMac, SunsetMac, l3, vlan: vlan));

    /// <summary>Sunrise sends an IP packet to east's inside port.</summary>
    public void FromSunrise(byte[] l3) => Send(Sunrise, Frame(EastInMac, SunriseMac, l3));

    /// <summary>Injects a raw frame on the wire towards east's outside port.</summary>
    public void ToEastOutside(byte[] frame) => Send(WireEast ?? throw new InvalidOperationException("direct link"), frame);

    public void Send(InMemoryIo io, byte[] frame)
    {
        if (!_slab.TryRent(out Packet p)) throw new InvalidOperationException("test slab exhausted");
        if (frame.Length > p.FrameSize - p.Offset) throw new InvalidOperationException("frame too big");
        frame.CopyTo(new Span<byte>(p.Frame + p.Offset, frame.Length));
        p.Length = frame.Length;
        int sent = io.Transmit(new ReadOnlySpan<Packet>(in p));
        _slab.Return(p);
        if (sent != 1) throw new InvalidOperationException("test port full");
    }

    /// <summary>Every frame waiting on <paramref name="io"/>.</summary>
    public List<byte[]> Drain(InMemoryIo io)
    {
        var list = new List<byte[]>();
        while (io.Receive(_batch, _slab) > 0)
        {
            foreach (ref Packet p in _batch.Packets)
            {
                list.Add(p.Span.ToArray());
                _slab.Return(p);
            }
            _batch.Clear();
        }
        return list;
    }

    /// <summary>Frames arriving at sunrise / sunset.</summary>
    public List<byte[]> AtSunrise() => Drain(Sunrise);
    public List<byte[]> AtSunset() => Drain(Sunset);

    /// <summary>Frames seen on the wire in the last <see cref="Pump"/> (west → east and east → west).</summary>
    public List<byte[]> WireEastbound { get; } = new();
    public List<byte[]> WireWestbound { get; } = new();

    /// <summary>When set, the wire keeps east-bound frames for the test instead of delivering them.</summary>
    public bool HoldEastbound { get; set; }

    /// <summary>Moves frames across the wire (recording them). Returns how many moved.</summary>
    public int Relay()
    {
        if (WireWest is null || WireEast is null) return 0;
        int moved = 0;
        foreach (byte[] f in Drain(WireWest))
        {
            WireEastbound.Add(f);
            if (!HoldEastbound) Send(WireEast, f);
            moved++;
        }
        foreach (byte[] f in Drain(WireEast))
        {
            WireWestbound.Add(f);
            Send(WireWest, f);
            moved++;
        }
        return moved;
    }

    /// <summary>Steps both gateways and the wire until nothing moves (bounded).</summary>
    public void Pump(int maxRounds = 64)
    {
        for (int i = 0; i < maxRounds; i++)
        {
            int moved = West.Step();
            moved += Relay();
            moved += East.Step();
            moved += Relay();
            if (moved == 0 && Sunset.Pending == 0 && (WireWest?.Pending ?? 0) == 0 && (WireEast?.Pending ?? 0) == 0) return;
        }
    }

    public void Dispose()
    {
        West.Dispose();
        East.Dispose();
        Sunset.Dispose();
        Sunrise.Dispose();
        WireWest?.Dispose();
        WireEast?.Dispose();
        _slab.Dispose();
    }

    // ---- expectations ------------------------------------------------------------------------

    /// <summary>What an IP packet looks like after <paramref name="hops"/> routers: TTL / hop limit
    /// lower, IPv4 header checksum recomputed; everything else identical.</summary>
    public static byte[] AfterHops(byte[] l3, int hops)
    {
        var e = (byte[])l3.Clone();
        if ((e[0] >> 4) == 4)
        {
            e[8] = (byte)(e[8] - hops);
            e[10] = e[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(e.AsSpan(10), Checksum.Compute(e.AsSpan(0, (e[0] & 0xF) * 4)));
        }
        else
        {
            e[7] = (byte)(e[7] - hops);
        }
        return e;
    }
}
