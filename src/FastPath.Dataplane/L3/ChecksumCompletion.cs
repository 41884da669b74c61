using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.L3;

// Completing CHECKSUM_PARTIAL frames. A local socket sending through a veth (or any device that
// advertises NETIF_F_HW_CSUM) leaves the TCP/UDP checksum to "the hardware": the checksum field
// holds only the folded pseudo-header sum (~csum_tcpudp_magic(src, dst, len, proto, 0), see
// udp4_hwcsum / tcp_v4_send_check) and skb->csum_start/csum_offset say where to finish it. A veth
// has no hardware, so AF_PACKET hands such frames up with TP_STATUS_CSUMNOTREADY (Packet.Flags
// ChecksumNotReady) — TPACKET_V3 does not carry csum_start, so we parse to the L4 header. Before
// the gateway encrypts (or forwards) such a packet the checksum must be made real, or the far end
// drops it.
//
//   [Ethernet 14 (+4 per 802.1Q/802.1ad tag)] → IPv4 (ihl, not a fragment) | IPv6 (+ HBH/routing/
//   dest-options headers) → TCP (checksum at +16) | UDP (at +6, length from the UDP header)
//   field ← 0; sum(pseudo-header, L4 header + data) (RFC 793 §3.1, RFC 768, RFC 8200 §8.1);
//   UDP: a computed 0 is sent as 0xFFFF (RFC 768); flag cleared.
//
// The sum is computed from scratch, not by folding the data onto the pseudo-header sum already in
// the field: the result is the same for a correct partial frame, and it is also right when the
// kernel put anything else there. Cost: one pass over the L4 bytes (~0.1 ns/byte with the 64-bit
// adder of Checksum.Add). In place, zero allocation, no exceptions.

/// <summary>Outcome of a checksum completion.</summary>
public enum ChecksumCompletionResult : byte
{
    /// <summary>The TCP/UDP checksum was computed and written; the flag was cleared.</summary>
    Completed,
    /// <summary>Nothing to complete (not TCP/UDP, an IPv4/IPv6 fragment, not IP); the flag was cleared.</summary>
    NotApplicable,
    /// <summary>Lengths inconsistent with the frame (DropReason.BadHeader); nothing written.</summary>
    Malformed,
}

/// <summary>Completes TCP/UDP checksums of ChecksumNotReady frames in place.</summary>
[SkipLocalsInit]
public static unsafe class ChecksumCompletion
{
    private const int TcpChecksumOffset = 16, UdpChecksumOffset = 6;

    /// <summary>Frame with an Ethernet header first (as AfPacketIo delivers it).</summary>
    public static ChecksumCompletionResult CompleteEthernet(ref Packet packet)
    {
        byte* p = packet.Data;
        int length = packet.Length;
        int at = 12;
        if (length < 14) return ChecksumCompletionResult.Malformed;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(p + at, 2));
        while (type is 0x8100 or 0x88A8)
        {
            at += 4;
            if (length < at + 2) return ChecksumCompletionResult.Malformed;
            type = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(p + at, 2));
        }
        at += 2;
        var r = type is 0x0800 or 0x86DD ? CompleteIp(p + at, length - at) : ChecksumCompletionResult.NotApplicable;
        if (r != ChecksumCompletionResult.Malformed) packet.Flags &= ~PacketFlags.ChecksumNotReady;
        return r;
    }

    /// <summary>Packet whose Data starts at the IP header.</summary>
    public static ChecksumCompletionResult CompleteIpPacket(ref Packet packet)
    {
        var r = CompleteIp(packet.Data, packet.Length);
        if (r != ChecksumCompletionResult.Malformed) packet.Flags &= ~PacketFlags.ChecksumNotReady;
        return r;
    }

    /// <summary>IPv4/IPv6 packet at <paramref name="ip"/> of <paramref name="length"/> bytes (trailing link padding allowed).</summary>
    public static ChecksumCompletionResult CompleteIp(byte* ip, int length)
    {
        if (length < 1) return ChecksumCompletionResult.Malformed;
        int version = ip[0] >> 4;
        if (version == 4)
        {
            if (length < Ipv4Header.MinLength) return ChecksumCompletionResult.Malformed;
            ref Ipv4Header h = ref Ipv4Header.At(ip);
            int ihl = h.HeaderLength, total = h.TotalLength;
            if (ihl < Ipv4Header.MinLength || total < ihl || total > length) return ChecksumCompletionResult.Malformed;
            if (h.IsFragment) return ChecksumCompletionResult.NotApplicable;
            byte proto = h.Protocol;
            byte* l4 = ip + ihl;
            int l4Length = total - ihl;
            if (!Prepare(proto, l4, ref l4Length, out int field)) return l4Length < 0 ? ChecksumCompletionResult.Malformed : ChecksumCompletionResult.NotApplicable;
            l4[field] = 0;
            l4[field + 1] = 0;
            ushort c = Checksum.TransportIpv4(h.SourceRaw, h.DestinationRaw, proto, l4, l4Length);
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(l4 + field, 2), c);
            return ChecksumCompletionResult.Completed;
        }
        if (version == 6)
        {
            if (length < Ipv6Header.Length) return ChecksumCompletionResult.Malformed;
            ref Ipv6Header h = ref Ipv6Header.At(ip);
            int total = Ipv6Header.Length + h.PayloadLength;
            if (total > length) return ChecksumCompletionResult.Malformed;
            byte nh = h.NextHeader;
            int at = Ipv6Header.Length;
            while (nh is 0 or 43 or 60)
            {
                if (at + 8 > total) return ChecksumCompletionResult.Malformed;
                nh = ip[at];
                at += (ip[at + 1] + 1) * 8;
            }
            if (at > total) return ChecksumCompletionResult.Malformed;
            if (nh == 44) return ChecksumCompletionResult.NotApplicable;   // a fragment: the checksum spans the datagram
            byte* l4 = ip + at;
            int l4Length = total - at;
            if (!Prepare(nh, l4, ref l4Length, out int field)) return l4Length < 0 ? ChecksumCompletionResult.Malformed : ChecksumCompletionResult.NotApplicable;
            l4[field] = 0;
            l4[field + 1] = 0;
            ushort c = Checksum.TransportIpv6(h.Source, h.Destination, nh, l4, l4Length);
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(l4 + field, 2), c);
            return ChecksumCompletionResult.Completed;
        }
        return ChecksumCompletionResult.NotApplicable;
    }

    /// <summary>Checks the L4 header; sets <paramref name="l4Length"/> to the checksummed length
    /// (UDP: its own length field) or -1 when malformed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Prepare(byte proto, byte* l4, ref int l4Length, out int field)
    {
        field = 0;
        if (proto == IpProtocol.Tcp)
        {
            if (l4Length < 20 || (l4[12] >> 4) * 4 < 20 || (l4[12] >> 4) * 4 > l4Length) { l4Length = -1; return false; }
            field = TcpChecksumOffset;
            return true;
        }
        if (proto == IpProtocol.Udp)
        {
            if (l4Length < UdpHeader.Length) { l4Length = -1; return false; }
            int udpLength = UdpHeader.At(l4).DatagramLength;
            if (udpLength < UdpHeader.Length || udpLength > l4Length) { l4Length = -1; return false; }
            l4Length = udpLength;
            field = UdpChecksumOffset;
            return true;
        }
        return false;
    }
}
