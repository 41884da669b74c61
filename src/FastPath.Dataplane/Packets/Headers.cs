using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Packets;

// Zero-copy protocol headers: blittable structs laid out exactly as on the wire (RFC 791, RFC 8200,
// RFC 768, RFC 792/4443, RFC 4303), overlaid on packet memory with `ref Ipv4Header.At(p)`. Fields
// are stored in network byte order; the properties convert (BinaryPrimitives.ReverseEndianness is a
// single BSWAP/MOVBE). Nothing is copied or parsed into objects (no PacketDotNet); a header is only
// valid to read after the caller checked that the packet is long enough.

/// <summary>Protocol numbers used by the data path (IANA "Assigned Internet Protocol Numbers").</summary>
public static class IpProtocol
{
    public const byte Icmp = 1;
    public const byte IpInIp = 4;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6 = 41;
    public const byte Esp = 50;
    public const byte Icmpv6 = 58;
    /// <summary>"No next header": an ESP TFC dummy packet (RFC 4303 §2.6).</summary>
    public const byte NoNextHeader = 59;
}

/// <summary>IPv4 header without options (RFC 791 §3.1); options are skipped via <see cref="HeaderLength"/>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 20)]
public unsafe struct Ipv4Header
{
    public const int MinLength = 20;
    public const ushort DontFragment = 0x4000;
    public const ushort MoreFragments = 0x2000;
    public const ushort FragmentOffsetMask = 0x1FFF;

    public byte VersionIhl;
    public byte Tos;
    private ushort _totalLength;
    private ushort _identification;
    private ushort _flagsFragment;
    public byte Ttl;
    public byte Protocol;
    private ushort _checksum;
    public uint SourceRaw;
    public uint DestinationRaw;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref Ipv4Header At(byte* p) => ref *(Ipv4Header*)p;

    public readonly int Version => VersionIhl >> 4;
    public readonly int HeaderLength => (VersionIhl & 0xF) * 4;
    public ushort TotalLength { readonly get => BinaryPrimitives.ReverseEndianness(_totalLength); set => _totalLength = BinaryPrimitives.ReverseEndianness(value); }
    public ushort Identification { readonly get => BinaryPrimitives.ReverseEndianness(_identification); set => _identification = BinaryPrimitives.ReverseEndianness(value); }
    public ushort FlagsFragment { readonly get => BinaryPrimitives.ReverseEndianness(_flagsFragment); set => _flagsFragment = BinaryPrimitives.ReverseEndianness(value); }
    /// <summary>Header checksum as stored (network order folded: use <see cref="Checksum"/> helpers).</summary>
    public ushort Checksum { readonly get => BinaryPrimitives.ReverseEndianness(_checksum); set => _checksum = BinaryPrimitives.ReverseEndianness(value); }
    public readonly bool IsFragment => (FlagsFragment & (MoreFragments | FragmentOffsetMask)) != 0;
    public uint Source { readonly get => BinaryPrimitives.ReverseEndianness(SourceRaw); set => SourceRaw = BinaryPrimitives.ReverseEndianness(value); }
    public uint Destination { readonly get => BinaryPrimitives.ReverseEndianness(DestinationRaw); set => DestinationRaw = BinaryPrimitives.ReverseEndianness(value); }
    /// <summary>ECN field (RFC 3168): the low 2 bits of the TOS byte.</summary>
    public readonly int Ecn => Tos & 3;

    /// <summary>Recomputes the header checksum over <see cref="HeaderLength"/> bytes.</summary>
    public void UpdateChecksum()
    {
        _checksum = 0;
        fixed (Ipv4Header* self = &this)
            Checksum = Packets.Checksum.Ipv4Header((byte*)self, HeaderLength);
    }
}

/// <summary>IPv6 fixed header (RFC 8200 §3).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 40)]
public unsafe struct Ipv6Header
{
    public const int Length = 40;

    private uint _versionClassFlow;
    private ushort _payloadLength;
    public byte NextHeader;
    public byte HopLimit;
    public IpAddress16 Source;
    public IpAddress16 Destination;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref Ipv6Header At(byte* p) => ref *(Ipv6Header*)p;

    public uint VersionClassFlow { readonly get => BinaryPrimitives.ReverseEndianness(_versionClassFlow); set => _versionClassFlow = BinaryPrimitives.ReverseEndianness(value); }
    public readonly int Version => (int)(VersionClassFlow >> 28);
    public readonly byte TrafficClass => (byte)(VersionClassFlow >> 20);
    public ushort PayloadLength { readonly get => BinaryPrimitives.ReverseEndianness(_payloadLength); set => _payloadLength = BinaryPrimitives.ReverseEndianness(value); }

    public void SetVersionClassFlow(byte trafficClass, uint flowLabel) => VersionClassFlow = (6u << 28) | ((uint)trafficClass << 20) | (flowLabel & 0xFFFFF);
}

/// <summary>UDP header (RFC 768).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
public unsafe struct UdpHeader
{
    public const int Length = 8;

    private ushort _sourcePort;
    private ushort _destinationPort;
    private ushort _length;
    private ushort _checksum;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref UdpHeader At(byte* p) => ref *(UdpHeader*)p;

    public ushort SourcePort { readonly get => BinaryPrimitives.ReverseEndianness(_sourcePort); set => _sourcePort = BinaryPrimitives.ReverseEndianness(value); }
    public ushort DestinationPort { readonly get => BinaryPrimitives.ReverseEndianness(_destinationPort); set => _destinationPort = BinaryPrimitives.ReverseEndianness(value); }
    public ushort DatagramLength { readonly get => BinaryPrimitives.ReverseEndianness(_length); set => _length = BinaryPrimitives.ReverseEndianness(value); }
    public ushort Checksum { readonly get => BinaryPrimitives.ReverseEndianness(_checksum); set => _checksum = BinaryPrimitives.ReverseEndianness(value); }
}

/// <summary>ICMP / ICMPv6 header: type, code, checksum, 4 bytes rest of header (RFC 792, RFC 4443).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
public unsafe struct IcmpHeader
{
    public const int Length = 8;

    public byte Type;
    public byte Code;
    private ushort _checksum;
    private uint _rest;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref IcmpHeader At(byte* p) => ref *(IcmpHeader*)p;

    public ushort Checksum { readonly get => BinaryPrimitives.ReverseEndianness(_checksum); set => _checksum = BinaryPrimitives.ReverseEndianness(value); }
    public uint RestOfHeader { readonly get => BinaryPrimitives.ReverseEndianness(_rest); set => _rest = BinaryPrimitives.ReverseEndianness(value); }
}

/// <summary>ESP header (RFC 4303 §2): SPI and the low 32 bits of the sequence number.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
public unsafe struct EspHeader
{
    public const int Length = 8;

    private uint _spi;
    private uint _sequence;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref EspHeader At(byte* p) => ref *(EspHeader*)p;

    public uint Spi { readonly get => BinaryPrimitives.ReverseEndianness(_spi); set => _spi = BinaryPrimitives.ReverseEndianness(value); }
    public uint Sequence { readonly get => BinaryPrimitives.ReverseEndianness(_sequence); set => _sequence = BinaryPrimitives.ReverseEndianness(value); }
}

/// <summary>A 16-byte IP address in network byte order; IPv4 is held IPv4-mapped (::ffff:a.b.c.d,
/// RFC 4291 §2.5.5.2) so one type serves both families. Compared as two 64-bit words.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 16)]
public struct IpAddress16 : IEquatable<IpAddress16>
{
    public ulong Upper;
    public ulong Lower;


    public readonly bool IsIpv4 => Upper == 0 && (uint)Lower == 0xFFFF0000u;

    /// <summary>The IPv4 address (network order in memory, as <see cref="Ipv4Header.SourceRaw"/>).</summary>
    public readonly uint Ipv4Raw => (uint)(Lower >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpAddress16 FromIpv4Raw(uint raw) => new() { Upper = 0, Lower = ((ulong)raw << 32) | 0xFFFF0000UL };

    public static IpAddress16 From(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> b = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(b[12..], out _);
            return FromIpv4Raw(MemoryMarshal.Read<uint>(b[12..]));
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) throw new ArgumentException("not an IP address", nameof(address));
        address.TryWriteBytes(b, out _);
        return MemoryMarshal.Read<IpAddress16>(b);
    }

    public static IpAddress16 Parse(string text) => From(IPAddress.Parse(text));

    public readonly IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        MemoryMarshal.Write(b, in this);
        return IsIpv4 ? new IPAddress(b[12..]) : new IPAddress(b);
    }

    public readonly bool Equals(IpAddress16 other) => Upper == other.Upper && Lower == other.Lower;
    public override readonly bool Equals(object? obj) => obj is IpAddress16 o && Equals(o);
    public override readonly int GetHashCode() => HashCode.Combine(Upper, Lower);
    public static bool operator ==(IpAddress16 a, IpAddress16 b) => a.Equals(b);
    public static bool operator !=(IpAddress16 a, IpAddress16 b) => !a.Equals(b);
    public override readonly string ToString() => ToIPAddress().ToString();

}

/// <summary>An address prefix (IPv4 prefixes are held IPv4-mapped: /24 is stored as /120).
/// Matching is two masked 64-bit compares.</summary>
public readonly struct IpPrefix
{
    public readonly IpAddress16 Network;
    private readonly ulong _maskUpper;
    private readonly ulong _maskLower;
    public readonly int Length;
    public readonly bool IsIpv4;

    public IpPrefix(IpAddress16 address, int prefixLength)
    {
        IsIpv4 = address.IsIpv4;
        int bits = IsIpv4 ? 96 + prefixLength : prefixLength;
        if (prefixLength < 0 || bits > 128) throw new ArgumentOutOfRangeException(nameof(prefixLength));
        Length = prefixLength;
        // Masks over the network-order bytes: build big-endian and swap to the in-memory view.
        ulong hi = bits >= 64 ? ulong.MaxValue : bits == 0 ? 0 : ulong.MaxValue << (64 - bits);
        int lowBits = bits - 64;
        ulong lo = lowBits <= 0 ? 0 : lowBits >= 64 ? ulong.MaxValue : ulong.MaxValue << (64 - lowBits);
        _maskUpper = BinaryPrimitives.ReverseEndianness(hi);
        _maskLower = BinaryPrimitives.ReverseEndianness(lo);
        Network = new IpAddress16 { Upper = address.Upper & _maskUpper, Lower = address.Lower & _maskLower };
    }

    /// <summary>Parses "192.0.2.0/25" or "2001:db8:1::/64" (a bare address is a host prefix).</summary>
    public static IpPrefix Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        var address = IpAddress16.Parse(slash < 0 ? text : text[..slash]);
        int length = slash < 0 ? (address.IsIpv4 ? 32 : 128) : int.Parse(text.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture);
        return new IpPrefix(address, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(in IpAddress16 a) =>
        ((a.Upper & _maskUpper) ^ Network.Upper | (a.Lower & _maskLower) ^ Network.Lower) == 0 && a.IsIpv4 == IsIpv4;

    public override string ToString() => $"{Network}/{Length}";
}
