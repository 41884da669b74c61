using System;
using System.Buffers.Binary;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Pipeline;

// ICMP errors the worker itself sends back to the inside: %reject (destination unreachable,
// "communication administratively prohibited": ICMP type 3 code 13, RFC 1812 §5.2.7.1; ICMPv6
// type 1 code 1, RFC 4443 §3.1) and TTL / hop limit exceeded in transit (ICMP type 11 code 0,
// RFC 792; ICMPv6 type 3 code 0, RFC 4443 §3.3). Each kind is rate-limited by its own token bucket
// (RejectRateLimiter: 100/s, burst 10 by default; RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).
//
//   original packet (data window at L3, still in its frame)
//     ─► not about an ICMP error, not a non-first fragment (RFC 1122 §3.2.2, RFC 4443 §2.4(e))
//     ─► L3/IcmpErrors builds it in a frame from the slab: IP header (source = the configured inside
//        address of the family; none configured ─► nothing sent), ICMP header, as much of the
//        original as fits in 576 bytes (IPv4, RFC 1812 §4.3.2.3) / 1280 bytes (IPv6, RFC 4443 §2.4(c))
//     ─► next hop of the original source ─► Ethernet ─► one Transmit on the inside port.
// Nothing is allocated: the frame comes from the worker's slab and goes back right after TX.

internal enum IcmpError : byte
{
    AdministrativelyProhibited,
    TimeExceeded,
    /// <summary>IPv4 type 3 code 4 with the next-hop MTU (RFC 1191 §4) / ICMPv6 type 2 "packet too
    /// big" with the MTU (RFC 8201, RFC 4443 §3.2).</summary>
    PathMtu,
}

public sealed unsafe partial class Worker
{
    // The packets themselves are built by L3/IcmpErrors (quoting limits, the RFC 1122 / RFC 4443
    // "never about an ICMP error or a non-first fragment" rules, checksums); this worker adds the
    // per-kind rate limiting (its token buckets, checked by the callers), the next hop of the
    // original source and the transmit on the inside port. Made on first use: one object per worker.
    private IcmpErrors? _icmpErrors;

    private void SendIcmpError(ref Packet original, IcmpError kind, int mtu = 0)
    {
        byte* o = original.Frame + original.Offset;
        int version = o[0] >> 4;
        int length = original.Length;
        if (version == 4 ? _icmpSource4 == default : _icmpSource6 == default) return;
        _icmpErrors ??= new IcmpErrors(_icmpSource4.Ipv4Raw, _icmpSource6, limiter: null);
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        Packet e;
        IcmpResult built = kind switch
        {
            IcmpError.TimeExceeded => _icmpErrors.TimeExceeded(o, length, _slab, now, out e),
            IcmpError.PathMtu => _icmpErrors.TooBig(o, length, mtu, _slab, now, out e),
            _ => _icmpErrors.AdminProhibited(o, length, _slab, now, out e),
        };
        if (built != IcmpResult.Built) return;
        IpAddress16 dst = version == 4 ? IpAddress16.FromIpv4Raw(Ipv4Header.At(o).SourceRaw) : Ipv6Header.At(o).Source;
        if (TryNextHop(dst, now, out NextHop hop, out _) && Egress(ref e, hop) && _inside.Transmit(new ReadOnlySpan<Packet>(in e)) == 1)
        {
            Counters._icmpSent++;
            Counters._txInside++;
        }
        _slab.Return(e);
    }
}
