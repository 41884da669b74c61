using System;
using System.Diagnostics;
using System.Text;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests.L3;

public sealed unsafe class IcmpErrorsTests
{
    private readonly ITestOutputHelper _out;
    public IcmpErrorsTests(ITestOutputHelper output) => _out = output;

    private static uint Raw(string a) => IpAddress16.Parse(a).Ipv4Raw;
    private static IcmpErrors Create(RejectRateLimiter? l = null) => new(Raw("192.0.2.254"), IpAddress16.Parse("2001:db8::fe"), l);

    [Fact]
    public void RepliesAreWhatScapyDissects()
    {
        var rng = new Random(1191);
        using var slab = new FrameSlab(32);
        var icmp = Create();
        long now = Stopwatch.GetTimestamp();
        Assert.True(slab.TryRent(out Packet v4));
        L3TestSupport.WriteIpv4(ref v4, rng, 1400, 77, IpProtocol.Udp, df: true);
        Assert.True(slab.TryRent(out Packet v6));
        L3TestSupport.WriteIpv6(ref v6, rng, 1500, IpProtocol.Udp);
        var lines = new StringBuilder();
        void Add(string expect, IcmpResult r, in Packet reply, in Packet invoking)
        {
            Assert.Equal(IcmpResult.Built, r);
            lines.Append(expect).Append(' ').Append(L3TestSupport.Hex(reply)).Append(' ').Append(L3TestSupport.Hex(invoking)).Append('\n');
            slab.Return(reply);
        }
        Packet rep;
        Add("4:3:4:1380", icmp.FragmentationNeeded(v4.Data, v4.Length, 1380, slab, now, out rep), rep, v4);
        Add("4:3:13:0", icmp.AdminProhibited(v4.Data, v4.Length, slab, now, out rep), rep, v4);
        Add("4:11:0:0", icmp.TimeExceeded(v4.Data, v4.Length, slab, now, out rep), rep, v4);
        Add("6:2:0:1400", icmp.PacketTooBig(v6.Data, v6.Length, 1400, slab, now, out rep), rep, v6);
        Add("6:2:0:1280", icmp.TooBig(v6.Data, v6.Length, 1000, slab, now, out rep), rep, v6);   // never below 1280
        Add("6:1:1:0", icmp.AdminProhibited(v6.Data, v6.Length, slab, now, out rep), rep, v6);
        Add("6:3:0:0", icmp.TimeExceeded(v6.Data, v6.Length, slab, now, out rep), rep, v6);
        const string Script = """
import sys
from scapy.all import IP, IPv6, ICMP, raw, in6_chksum
n = 0
for line in sys.stdin:
    exp, rep, inv = line.split()
    fam, t, c, mtu = exp.split(':'); t, c, mtu = int(t), int(c), int(mtu)
    rep, inv = bytes.fromhex(rep), bytes.fromhex(inv)
    if fam == '4':
        p = IP(rep)
        assert p.src == '192.0.2.254' and p.dst == IP(inv).src and p.proto == 1 and p.ttl == 64, p.summary()
        assert len(rep) <= 576 and len(rep) == 576, len(rep)
        ic = p[ICMP]
        assert ic.type == t and ic.code == c, (ic.type, ic.code)
        if t == 3 and c == 4: assert ic.nexthopmtu == mtu, ic.nexthopmtu
        h = p.copy(); del h.chksum; assert IP(raw(h)).chksum == p.chksum, 'ip checksum'
        i2 = IP(rep)[ICMP].copy(); del i2.chksum; assert ICMP(raw(i2)).chksum == ic.chksum, 'icmp checksum'
        assert rep[28:] == inv[:548], 'quote'
    else:
        p = IPv6(rep)
        assert p.src == '2001:db8::fe' and p.dst == IPv6(inv).src and p.nh == 58 and p.hlim == 64
        assert len(rep) == 1280, len(rep)
        body = rep[40:]
        assert body[0] == t and body[1] == c
        if t == 2: assert int.from_bytes(body[4:8], 'big') == mtu
        zeroed = body[:2] + b'\0\0' + body[4:]
        assert in6_chksum(58, p, zeroed) == int.from_bytes(body[2:4], 'big'), 'icmpv6 checksum'
        assert body[8:] == inv[:1232], 'quote'
    n += 1
print(n)
""";
        Assert.Equal("7", L3TestSupport.RunPython(Script, lines.ToString()).Trim());
        slab.Return(v4);
        slab.Return(v6);
    }

    [Fact]
    public void NoErrorAboutErrorsFragmentsOrNonUnicastAndRateLimited()
    {
        var rng = new Random(1812);
        using var slab = new FrameSlab(32);
        long now = Stopwatch.GetTimestamp();
        var icmp = Create();
        Assert.True(slab.TryRent(out Packet p));
        // ICMP echo request: allowed; ICMP destination unreachable: not.
        L3TestSupport.WriteIpv4(ref p, rng, 100, 1, IpProtocol.Icmp, df: false);
        p.Data[20] = 8;
        Assert.Equal(IcmpResult.Built, icmp.AdminProhibited(p.Data, p.Length, slab, now, out var r1));
        slab.Return(r1);
        p.Data[20] = 3;
        Assert.Equal(IcmpResult.NotAllowed, icmp.AdminProhibited(p.Data, p.Length, slab, now, out _));
        // Non-first fragment.
        L3TestSupport.WriteIpv4(ref p, rng, 100, 1, IpProtocol.Udp, df: false);
        Ipv4Header.At(p.Data).FlagsFragment = 10;
        Assert.Equal(IcmpResult.NotAllowed, icmp.TimeExceeded(p.Data, p.Length, slab, now, out _));
        // Multicast destination, zero source.
        L3TestSupport.WriteIpv4(ref p, rng, 100, 1, IpProtocol.Udp, df: false);
        Ipv4Header.At(p.Data).DestinationRaw = Raw("224.0.0.5");
        Assert.Equal(IcmpResult.NotAllowed, icmp.TimeExceeded(p.Data, p.Length, slab, now, out _));
        L3TestSupport.WriteIpv4(ref p, rng, 100, 1, IpProtocol.Udp, df: false);
        Ipv4Header.At(p.Data).SourceRaw = 0;
        Assert.Equal(IcmpResult.NotAllowed, icmp.TimeExceeded(p.Data, p.Length, slab, now, out _));
        // ICMPv6 error (type 1) and ff02::1 destination: not; echo request (128): yes.
        L3TestSupport.WriteIpv6(ref p, rng, 100, IpProtocol.Icmpv6);
        p.Data[40] = 1;
        Assert.Equal(IcmpResult.NotAllowed, icmp.PacketTooBig(p.Data, p.Length, 1280, slab, now, out _));
        p.Data[40] = 128;
        Assert.Equal(IcmpResult.Built, icmp.PacketTooBig(p.Data, p.Length, 1280, slab, now, out var r2));
        slab.Return(r2);
        Ipv6Header.At(p.Data).Destination = IpAddress16.Parse("ff02::1");
        Assert.Equal(IcmpResult.NotAllowed, icmp.PacketTooBig(p.Data, p.Length, 1280, slab, now, out _));
        Assert.Equal(6, icmp.NotAllowed);
        // Malformed.
        p.Data[0] = 0x15;
        Assert.Equal(IcmpResult.Malformed, icmp.TimeExceeded(p.Data, p.Length, slab, now, out _));

        // Rate limit: burst 3, 10/s → 3 now, then 1 more after 100 ms.
        var limited = Create(new RejectRateLimiter(10, 3, now));
        L3TestSupport.WriteIpv4(ref p, rng, 1400, 1, IpProtocol.Udp, df: true);
        int built = 0;
        for (int i = 0; i < 10; i++)
            if (limited.FragmentationNeeded(p.Data, p.Length, 1300, slab, now, out var r) == IcmpResult.Built) { built++; slab.Return(r); }
        Assert.Equal(3, built);
        Assert.Equal(7, limited.RateLimited);
        Assert.Equal(IcmpResult.Built, limited.FragmentationNeeded(p.Data, p.Length, 1300, slab, now + Stopwatch.Frequency / 9, out var r3));
        slab.Return(r3);
        slab.Return(p);
        Assert.Equal(32, slab.FreeCount);
    }

    [Fact]
    public void BuildingErrorsAllocatesNothing()
    {
        var rng = new Random(3);
        using var slab = new FrameSlab(8);
        var icmp = Create(new RejectRateLimiter(1e12, 1000));
        Assert.True(slab.TryRent(out Packet v4));
        L3TestSupport.WriteIpv4(ref v4, rng, 1400, 1, IpProtocol.Udp, df: true);
        Assert.True(slab.TryRent(out Packet v6));
        L3TestSupport.WriteIpv6(ref v6, rng, 1400, IpProtocol.Udp);
        void Round()
        {
            long now = Stopwatch.GetTimestamp();
            if (icmp.TooBig(v4.Data, v4.Length, 1300, slab, now, out var a) != IcmpResult.Built) throw new InvalidOperationException();
            slab.Return(a);
            if (icmp.TooBig(v6.Data, v6.Length, 1300, slab, now, out var b) != IcmpResult.Built) throw new InvalidOperationException();
            slab.Return(b);
        }
        long warm = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 4 / 10;
        while (Stopwatch.GetTimestamp() < warm) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        _out.WriteLine($"allocated {allocated} B over 200k ICMP errors");
        Assert.Equal(0, allocated);
    }
}
