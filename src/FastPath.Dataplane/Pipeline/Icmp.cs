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
//     ─► a frame from the slab: IP header (source = the configured inside address of the family;
//        none configured ─► nothing sent), ICMP header, as much of the original as fits in
//        576 bytes (IPv4, RFC 1812 §4.3.2.3) / 1280 bytes (IPv6, RFC 4443 §2.4(c)), checksums
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
    private void SendIcmpError(ref Packet original, IcmpError kind, int mtu = 0)
    {
        byte* o = original.Frame + original.Offset;
        int version = o[0] >> 4;
        int length = original.Length;
        if (version == 4 ? _icmpSource4 == default : _icmpSource6 == default) return;
        IpAddress16 dst;
        if (version == 4)
        {
            ref Ipv4Header h = ref Ipv4Header.At(o);
            if ((h.FlagsFragment & Ipv4Header.FragmentOffsetMask) != 0) return;
            if (h.Protocol == IpProtocol.Icmp && length > h.HeaderLength && o[h.HeaderLength] is 3 or 4 or 5 or 11 or 12) return;
            dst = IpAddress16.FromIpv4Raw(h.SourceRaw);
        }
        else
        {
            ref Ipv6Header h = ref Ipv6Header.At(o);
            if (h.NextHeader == IpProtocol.Icmpv6 && length > Ipv6Header.Length && o[Ipv6Header.Length] < 128) return;
            dst = h.Source;
        }
        if (!TryNextHop(dst, System.Diagnostics.Stopwatch.GetTimestamp(), out NextHop hop, out _)) return;
        if (!_slab.TryRent(out Packet e)) return;
        byte* ip = e.Frame + e.Offset;
        if (version == 4)
        {
            int quote = Math.Min(length, 576 - Ipv4Header.MinLength - IcmpHeader.Length);
            int total = Ipv4Header.MinLength + IcmpHeader.Length + quote;
            ref Ipv4Header h = ref Ipv4Header.At(ip);
            h.VersionIhl = 0x45;
            h.Tos = 0xC0; // internetwork control (RFC 1812 §4.3.2.5)
            h.TotalLength = (ushort)total;
            h.Identification = 0;
            h.FlagsFragment = 0;
            h.Ttl = 64;
            h.Protocol = IpProtocol.Icmp;
            h.SourceRaw = _icmpSource4.Ipv4Raw;
            h.DestinationRaw = dst.Ipv4Raw;
            h.UpdateChecksum();
            byte* icmp = ip + Ipv4Header.MinLength;
            ref IcmpHeader c = ref IcmpHeader.At(icmp);
            c.Type = kind == IcmpError.TimeExceeded ? (byte)11 : (byte)3;
            c.Code = kind switch { IcmpError.TimeExceeded => 0, IcmpError.PathMtu => 4, _ => 13 };
            // RFC 1191 §4: unused (16 bits) | next-hop MTU (16 bits), network order.
            c.RestOfHeader = kind == IcmpError.PathMtu ? (uint)(ushort)mtu : 0;
            c.Checksum = 0;
            Buffer.MemoryCopy(o, icmp + IcmpHeader.Length, quote, quote);
            c.Checksum = Checksum.Compute(icmp, IcmpHeader.Length + quote);
            e.Length = total;
        }
        else
        {
            int quote = Math.Min(length, 1280 - Ipv6Header.Length - IcmpHeader.Length);
            int payload = IcmpHeader.Length + quote;
            ref Ipv6Header h = ref Ipv6Header.At(ip);
            h.SetVersionClassFlow(0, 0);
            h.PayloadLength = (ushort)payload;
            h.NextHeader = IpProtocol.Icmpv6;
            h.HopLimit = 64;
            h.Source = _icmpSource6;
            h.Destination = dst;
            byte* icmp = ip + Ipv6Header.Length;
            ref IcmpHeader c = ref IcmpHeader.At(icmp);
            c.Type = kind switch { IcmpError.TimeExceeded => 3, IcmpError.PathMtu => 2, _ => 1 };
            c.Code = kind switch { IcmpError.TimeExceeded => 0, IcmpError.PathMtu => 0, _ => 1 };
            // RFC 4443 §3.2: the 32-bit MTU field.
            c.RestOfHeader = kind == IcmpError.PathMtu ? (uint)mtu : 0;
            c.Checksum = 0;
            Buffer.MemoryCopy(o, icmp + IcmpHeader.Length, quote, quote);
            c.Checksum = Checksum.TransportIpv6(h.Source, h.Destination, IpProtocol.Icmpv6, icmp, payload);
            e.Length = Ipv6Header.Length + payload;
        }
        e.Verdict = PacketVerdict.Forward;
        if (Egress(ref e, hop) && _inside.Transmit(new ReadOnlySpan<Packet>(in e)) == 1)
        {
            Counters._icmpSent++;
            Counters._txInside++;
        }
        _slab.Return(e);
    }
}
