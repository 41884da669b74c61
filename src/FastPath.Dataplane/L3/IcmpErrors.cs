using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;

namespace FastPath.Dataplane.L3;

// ICMP errors the gateway originates toward an inside host (source = the gateway's inside address,
// a parameter), each in a new slab frame whose Data is the IP header (headroom left for Ethernet):
//
//   ICMPv4 (RFC 792):  [IPv4 20, TTL 64, proto 1][type code cksum | rest 4][invoking packet ...]
//     3/4  fragmentation needed, rest = unused 16 | next-hop MTU 16 (RFC 1191 §4)
//     3/13 communication administratively prohibited (RFC 1812 §5.2.7.1) — %reject
//     11/0 TTL exceeded in transit
//     quoted: as much of the invoking packet as keeps the reply ≤ 576 bytes (RFC 1812 §4.3.2.3;
//     at least the header + 8 bytes RFC 792 asks for).
//   ICMPv6 (RFC 4443): [IPv6 40, hop limit 64, nh 58][type code cksum | rest 4][invoking ...]
//     2/0  packet too big, rest = MTU (RFC 4443 §3.2, RFC 8201; never below 1280, RFC 8200 §5)
//     1/1  destination unreachable, administratively prohibited — %reject
//     3/0  hop limit exceeded in transit
//     quoted: as much as fits in 1280 bytes (RFC 4443 §2.4(c)); checksum over the pseudo-header.
//
// Never sent (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e)): in answer to an ICMP error (or an ICMPv6
// error type < 128), to a non-first fragment, to a packet whose source is not a unicast address
// (0.0.0.0, 127/8, multicast, limited broadcast; ::, ::1, ff00::/8) or whose destination is
// multicast/broadcast. Rate limited per worker by a RejectRateLimiter (token bucket, RFC 4443
// §2.4(f), RFC 1812 §4.3.2.8). Zero allocation, no exceptions: a result code per call.

/// <summary>Outcome of building an ICMP error.</summary>
public enum IcmpResult : byte
{
    /// <summary>The reply is in <c>reply</c> (a rented frame: the caller sends and returns it).</summary>
    Built,
    /// <summary>The rate limiter refused (nothing built).</summary>
    RateLimited,
    /// <summary>RFC 1812 / RFC 4443 forbid an error for this packet (ICMP error, fragment, non-unicast).</summary>
    NotAllowed,
    /// <summary>The invoking packet is not a valid IPv4/IPv6 packet.</summary>
    Malformed,
    /// <summary>No free frame in the slab.</summary>
    NoFrame,
}

/// <summary>Per-worker ICMP error builder with rate limiting (one per worker: not thread-safe).</summary>
[SkipLocalsInit]
public sealed unsafe class IcmpErrors
{
    /// <summary>RFC 1812 §4.3.2.3: an ICMPv4 error should not exceed 576 bytes.</summary>
    public const int MaxIcmpv4Length = 576;
    /// <summary>RFC 4443 §2.4(c): an ICMPv6 error must not exceed the minimum IPv6 MTU.</summary>
    public const int MaxIcmpv6Length = 1280;

    public const byte V4DestinationUnreachable = 3, V4TimeExceeded = 11;
    public const byte V4CodeFragmentationNeeded = 4, V4CodeAdminProhibited = 13;
    public const byte V6DestinationUnreachable = 1, V6PacketTooBig = 2, V6TimeExceeded = 3;
    public const byte V6CodeAdminProhibited = 1;

    private readonly RejectRateLimiter? _limiter;
    private readonly uint _sourceV4Raw;
    private readonly IpAddress16 _sourceV6;

    /// <param name="sourceV4Raw">The gateway's inside IPv4 address as it sits in a header (network order).</param>
    /// <param name="sourceV6">The gateway's inside IPv6 address.</param>
    /// <param name="limiter">Null: no rate limit (tests).</param>
    public IcmpErrors(uint sourceV4Raw, in IpAddress16 sourceV6, RejectRateLimiter? limiter)
    {
        _sourceV4Raw = sourceV4Raw;
        _sourceV6 = sourceV6;
        _limiter = limiter;
    }

    public long Sent { get; private set; }
    public long RateLimited { get; private set; }
    public long NotAllowed { get; private set; }

    /// <summary>ICMPv4 3/4 with the next-hop MTU (RFC 1191).</summary>
    public IcmpResult FragmentationNeeded(byte* invoking, int length, int nextHopMtu, FrameSlab slab, long now, out Packet reply) =>
        BuildV4(V4DestinationUnreachable, V4CodeFragmentationNeeded, (uint)Math.Clamp(nextHopMtu, 0, 0xFFFF), invoking, length, slab, now, out reply);

    /// <summary>ICMPv6 2/0 with the MTU (clamped to ≥ 1280).</summary>
    public IcmpResult PacketTooBig(byte* invoking, int length, int mtu, FrameSlab slab, long now, out Packet reply) =>
        BuildV6(V6PacketTooBig, 0, (uint)Math.Max(1280, mtu), invoking, length, slab, now, out reply);

    /// <summary>"Too big" for either family: 3/4 for IPv4, 2/0 for IPv6 (the invoking packet decides).</summary>
    public IcmpResult TooBig(byte* invoking, int length, int mtu, FrameSlab slab, long now, out Packet reply) =>
        length > 0 && invoking[0] >> 4 == 6
            ? PacketTooBig(invoking, length, mtu, slab, now, out reply)
            : FragmentationNeeded(invoking, length, mtu, slab, now, out reply);

    /// <summary>%reject: ICMPv4 3/13 or ICMPv6 1/1.</summary>
    public IcmpResult AdminProhibited(byte* invoking, int length, FrameSlab slab, long now, out Packet reply) =>
        length > 0 && invoking[0] >> 4 == 6
            ? BuildV6(V6DestinationUnreachable, V6CodeAdminProhibited, 0, invoking, length, slab, now, out reply)
            : BuildV4(V4DestinationUnreachable, V4CodeAdminProhibited, 0, invoking, length, slab, now, out reply);

    /// <summary>TTL / hop limit exceeded in transit: ICMPv4 11/0 or ICMPv6 3/0.</summary>
    public IcmpResult TimeExceeded(byte* invoking, int length, FrameSlab slab, long now, out Packet reply) =>
        length > 0 && invoking[0] >> 4 == 6
            ? BuildV6(V6TimeExceeded, 0, 0, invoking, length, slab, now, out reply)
            : BuildV4(V4TimeExceeded, 0, 0, invoking, length, slab, now, out reply);

    /// <summary>Any ICMPv4 error: type, code, the 4 "rest of header" bytes, the invoking IPv4 packet.</summary>
    public IcmpResult BuildV4(byte type, byte code, uint rest, byte* invoking, int length, FrameSlab slab, long now, out Packet reply)
    {
        reply = default;
        if (length < Ipv4Header.MinLength || invoking[0] >> 4 != 4) return IcmpResult.Malformed;
        ref Ipv4Header h = ref Ipv4Header.At(invoking);
        int ihl = h.HeaderLength;
        if (ihl < Ipv4Header.MinLength || ihl > length) return IcmpResult.Malformed;
        int total = Math.Min(h.TotalLength, length);
        if (total < ihl) return IcmpResult.Malformed;
        if (!V4Allowed(ref h, invoking + ihl, total - ihl)) { NotAllowed++; return IcmpResult.NotAllowed; }
        if (_limiter != null && !_limiter.ShouldSendUnreachable(now)) { RateLimited++; return IcmpResult.RateLimited; }
        if (!slab.TryRent(out reply)) return IcmpResult.NoFrame;
        int quoted = Math.Min(total, Math.Min(MaxIcmpv4Length, reply.Tailroom) - Ipv4Header.MinLength - IcmpHeader.Length);
        byte* o = reply.Data;
        ref Ipv4Header oh = ref Ipv4Header.At(o);
        oh.VersionIhl = 0x45;
        oh.Tos = 0xC0;                      // precedence "internetwork control", as Linux icmp_send
        oh.TotalLength = (ushort)(Ipv4Header.MinLength + IcmpHeader.Length + quoted);
        oh.Identification = (ushort)Sent;
        oh.FlagsFragment = 0;
        oh.Ttl = 64;
        oh.Protocol = IpProtocol.Icmp;
        oh.SourceRaw = _sourceV4Raw;
        oh.DestinationRaw = h.SourceRaw;
        oh.UpdateChecksum();
        byte* icmp = o + Ipv4Header.MinLength;
        ref IcmpHeader ih = ref IcmpHeader.At(icmp);
        ih.Type = type;
        ih.Code = code;
        ih.Checksum = 0;
        ih.RestOfHeader = rest;
        Buffer.MemoryCopy(invoking, icmp + IcmpHeader.Length, quoted, quoted);
        ih.Checksum = Checksum.Compute(icmp, IcmpHeader.Length + quoted);
        reply.Length = Ipv4Header.MinLength + IcmpHeader.Length + quoted;
        reply.Verdict = PacketVerdict.Forward;
        Sent++;
        return IcmpResult.Built;
    }

    /// <summary>Any ICMPv6 error: type, code, the 4 "rest" bytes (MTU / pointer / unused), the invoking IPv6 packet.</summary>
    public IcmpResult BuildV6(byte type, byte code, uint rest, byte* invoking, int length, FrameSlab slab, long now, out Packet reply)
    {
        reply = default;
        if (length < Ipv6Header.Length || invoking[0] >> 4 != 6) return IcmpResult.Malformed;
        ref Ipv6Header h = ref Ipv6Header.At(invoking);
        int total = Math.Min(Ipv6Header.Length + h.PayloadLength, length);
        if (!V6Allowed(ref h, invoking, total)) { NotAllowed++; return IcmpResult.NotAllowed; }
        if (_limiter != null && !_limiter.ShouldSendUnreachable(now)) { RateLimited++; return IcmpResult.RateLimited; }
        if (!slab.TryRent(out reply)) return IcmpResult.NoFrame;
        int quoted = Math.Min(total, Math.Min(MaxIcmpv6Length, reply.Tailroom) - Ipv6Header.Length - IcmpHeader.Length);
        byte* o = reply.Data;
        ref Ipv6Header oh = ref Ipv6Header.At(o);
        oh.SetVersionClassFlow(0, 0);
        oh.PayloadLength = (ushort)(IcmpHeader.Length + quoted);
        oh.NextHeader = IpProtocol.Icmpv6;
        oh.HopLimit = 64;
        oh.Source = _sourceV6;
        oh.Destination = h.Source;
        byte* icmp = o + Ipv6Header.Length;
        ref IcmpHeader ih = ref IcmpHeader.At(icmp);
        ih.Type = type;
        ih.Code = code;
        ih.Checksum = 0;
        ih.RestOfHeader = rest;
        Buffer.MemoryCopy(invoking, icmp + IcmpHeader.Length, quoted, quoted);
        ih.Checksum = Checksum.TransportIpv6(oh.Source, oh.Destination, IpProtocol.Icmpv6, icmp, IcmpHeader.Length + quoted);
        reply.Length = Ipv6Header.Length + IcmpHeader.Length + quoted;
        reply.Verdict = PacketVerdict.Forward;
        Sent++;
        return IcmpResult.Built;
    }

    private static bool V4Allowed(ref Ipv4Header h, byte* l4, int l4Length)
    {
        if ((h.FlagsFragment & Ipv4Header.FragmentOffsetMask) != 0) return false;   // non-first fragment
        uint src = h.Source, dst = h.Destination;
        if (src == 0 || (src >> 24) == 127 || (src >> 28) == 0xE || src == 0xFFFFFFFF || (src >> 28) == 0xF) return false;
        if ((dst >> 28) == 0xE || dst == 0xFFFFFFFF) return false;
        if (h.Protocol == IpProtocol.Icmp)
        {
            if (l4Length < 1) return false;
            byte t = l4[0];
            // Only informational messages may be answered: echo reply/request (0/8), timestamp (13/14),
            // address mask (17/18); everything else is (or may be) an error (RFC 1812 §4.3.2.7).
            if (t is not (0 or 8 or 13 or 14 or 17 or 18)) return false;
        }
        return true;
    }

    private static bool V6Allowed(ref Ipv6Header h, byte* packet, int total)
    {
        ref readonly IpAddress16 s = ref h.Source;
        ref readonly IpAddress16 d = ref h.Destination;
        if ((s.Upper == 0 && (s.Lower == 0 || s.Lower == 0x0100000000000000UL)) || (byte)s.Upper == 0xFF) return false;   // ::, ::1, ff00::/8
        if ((byte)d.Upper == 0xFF) return false;
        // Walk extension headers to the upper layer: a non-first fragment or an ICMPv6 error gets no reply.
        byte nh = h.NextHeader;
        int at = Ipv6Header.Length;
        for (int i = 0; i < 8; i++)
        {
            if (nh is 0 or 43 or 60)
            {
                if (at + 2 > total) return true;
                byte next = packet[at];
                at += (packet[at + 1] + 1) * 8;
                nh = next;
                continue;
            }
            if (nh == 44)
            {
                if (at + 8 > total) return true;
                if ((BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(packet + at + 2, 2)) & 0xFFF8) != 0) return false;
                nh = packet[at];
                at += 8;
                continue;
            }
            break;
        }
        if (nh == IpProtocol.Icmpv6) return at < total && packet[at] >= 128;   // RFC 4443 §2.4(e.1): no error about an error
        return true;
    }
}
