using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Packets;

// The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words. Summed here
// 64 bits at a time in native (little-endian) order with end-around carry: the one's-complement sum
// is byte-order independent (RFC 1071 §2(B)), so a single byte swap of the folded result gives the
// network-order value. Incremental update per RFC 1624 (HC' = ~(~HC + ~m + m')). Used for the outer
// IPv4 header (every encapsulated packet), UDP over IPv6 (NAT-T with IPv6 outer: a zero UDP
// checksum is not allowed there, RFC 8200 §8.1) and for tests of inner packets.

/// <summary>Internet checksum helpers (RFC 1071, RFC 1624, RFC 768/8200 pseudo-headers).</summary>
public static unsafe class Checksum
{
    /// <summary>Adds <paramref name="length"/> bytes to a running 64-bit one's-complement sum
    /// (native byte order). An odd trailing byte is padded with zero, as RFC 1071 says.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Add(ulong sum, byte* p, int length)
    {
        while (length >= 32)
        {
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(p));
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(p + 8));
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(p + 16));
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(p + 24));
            p += 32;
            length -= 32;
        }
        while (length >= 8)
        {
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(p));
            p += 8;
            length -= 8;
        }
        if (length >= 4)
        {
            sum = AddCarry(sum, Unsafe.ReadUnaligned<uint>(p));
            p += 4;
            length -= 4;
        }
        if (length >= 2)
        {
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ushort>(p));
            p += 2;
            length -= 2;
        }
        if (length == 1) sum = AddCarry(sum, *p); // little-endian: the byte is the high half of its big-endian word
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddCarry(ulong a, ulong b)
    {
        ulong s = a + b;
        return s + (s < a ? 1UL : 0UL);
    }

    /// <summary>Folds a running sum to 16 bits, complements it and returns it in host order
    /// (store it with a big-endian write).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Finish(ulong sum)
    {
        sum = (sum & 0xFFFFFFFF) + (sum >> 32);
        sum = (sum & 0xFFFFFFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return BinaryPrimitives.ReverseEndianness((ushort)~(uint)sum);
    }

    /// <summary>Checksum of <paramref name="length"/> bytes (host order).</summary>
    public static ushort Compute(byte* p, int length) => Finish(Add(0, p, length));

    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data) return Compute(p, data.Length);
    }

    /// <summary>IPv4 header checksum (RFC 791): the checksum field must be zero or is included as-is;
    /// a header with a valid checksum sums to zero (<see cref="Ipv4HeaderValid"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Ipv4Header(byte* header, int headerLength)
    {
        if (headerLength == 20)
        {
            ulong s = Unsafe.ReadUnaligned<ulong>(header);
            s = AddCarry(s, Unsafe.ReadUnaligned<ulong>(header + 8));
            s = AddCarry(s, Unsafe.ReadUnaligned<uint>(header + 16));
            return Finish(s);
        }
        return Compute(header, headerLength);
    }

    /// <summary>Whether an IPv4 header (with its checksum field) verifies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Ipv4HeaderValid(byte* header, int headerLength) => Ipv4Header(header, headerLength) == 0;

    /// <summary>UDP/TCP checksum over an IPv4 pseudo-header (RFC 768) and <paramref name="length"/>
    /// bytes of transport header + data (checksum field zeroed by the caller). A computed zero is
    /// sent as 0xFFFF for UDP (RFC 768).</summary>
    public static ushort TransportIpv4(uint sourceRaw, uint destinationRaw, byte protocol, byte* transport, int length)
    {
        ulong s = (ulong)sourceRaw + destinationRaw;
        s += (ulong)BinaryPrimitives.ReverseEndianness((ushort)protocol) + BinaryPrimitives.ReverseEndianness((ushort)length);
        ushort c = Finish(Add(s, transport, length));
        return protocol == IpProtocol.Udp && c == 0 ? (ushort)0xFFFF : c;
    }

    /// <summary>UDP/TCP/ICMPv6 checksum over the IPv6 pseudo-header (RFC 8200 §8.1).</summary>
    public static ushort TransportIpv6(in IpAddress16 source, in IpAddress16 destination, byte protocol, byte* transport, int length)
    {
        ulong s = AddCarry(source.Upper, source.Lower);
        s = AddCarry(s, destination.Upper);
        s = AddCarry(s, destination.Lower);
        s = AddCarry(s, BinaryPrimitives.ReverseEndianness((uint)length));
        s = AddCarry(s, BinaryPrimitives.ReverseEndianness((uint)protocol));
        ushort c = Finish(Add(s, transport, length));
        return protocol == IpProtocol.Udp && c == 0 ? (ushort)0xFFFF : c;
    }

    /// <summary>RFC 1624 eqn. 3 incremental update of a checksum (host order) when one 16-bit
    /// word (host order) changes from <paramref name="oldWord"/> to <paramref name="newWord"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Update(ushort checksum, ushort oldWord, ushort newWord)
    {
        uint s = (uint)(ushort)~checksum + (ushort)~oldWord + newWord;
        s = (s & 0xFFFF) + (s >> 16);
        s = (s & 0xFFFF) + (s >> 16);
        return (ushort)~s;
    }

    /// <summary>RFC 1624 update for a 32-bit field (e.g. an IPv4 address) change.</summary>
    public static ushort Update(ushort checksum, uint oldValue, uint newValue) =>
        Update(Update(checksum, (ushort)(oldValue >> 16), (ushort)(newValue >> 16)), (ushort)oldValue, (ushort)newValue);


}
