using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Policy;

// Selectors and packet keys of the eroute table, generic over the address type:
// uint for IPv4 and UInt128 for IPv6, both in host order (the most significant bit is the first
// bit of the address on the wire). The JIT specializes every generic method per struct type, so
// `(key & mask) == prefix` compiles to one AND + CMP on uint and two of each on UInt128.

/// <summary>
/// The packet fields an eroute lookup uses: source and destination address (host order),
/// IP protocol and ports (0 when the protocol has none).
/// </summary>
public record struct FlowKey<TKey>(TKey Src, TKey Dst, byte Protocol = 0, ushort SrcPort = 0, ushort DstPort = 0)
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>The key of the reverse direction (source and destination, and ports, swapped).</summary>
    public readonly FlowKey<TKey> Reversed() => new(Dst, Src, Protocol, DstPort, SrcPort);
}

/// <summary>
/// An eroute's selectors: source prefix, destination prefix and optional protocol and port ranges
/// (IKEv2 traffic selectors, RFC 7296 §3.13.1). Protocol 0 means any; port ranges default to
/// 0-65535 (any) and only restrict when a protocol is given. Host bits below a prefix length are
/// cleared, so equal prefixes compare equal.
/// </summary>
public readonly record struct ErouteSelector<TKey>
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>Source prefix (host bits cleared).</summary>
    public TKey Src { get; }
    /// <summary>Destination prefix (host bits cleared).</summary>
    public TKey Dst { get; }
    /// <summary>Source prefix length.</summary>
    public byte SrcLen { get; }
    /// <summary>Destination prefix length.</summary>
    public byte DstLen { get; }
    /// <summary>IP protocol (0 = any).</summary>
    public byte Protocol { get; }
    /// <summary>Lowest source port.</summary>
    public ushort SrcPortLo { get; }
    /// <summary>Highest source port.</summary>
    public ushort SrcPortHi { get; }
    /// <summary>Lowest destination port.</summary>
    public ushort DstPortLo { get; }
    /// <summary>Highest destination port.</summary>
    public ushort DstPortHi { get; }

    /// <summary>Creates a selector; prefix lengths must be 0..address width, ports lo ≤ hi; port ranges need a protocol.</summary>
    public ErouteSelector(TKey src, int srcLen, TKey dst, int dstLen, byte protocol = 0,
        ushort srcPortLo = 0, ushort srcPortHi = ushort.MaxValue, ushort dstPortLo = 0, ushort dstPortHi = ushort.MaxValue)
    {
        if ((uint)srcLen > (uint)KeyBits<TKey>.Width) throw new ArgumentOutOfRangeException(nameof(srcLen));
        if ((uint)dstLen > (uint)KeyBits<TKey>.Width) throw new ArgumentOutOfRangeException(nameof(dstLen));
        if (srcPortLo > srcPortHi || dstPortLo > dstPortHi) throw new ArgumentException("port range lo > hi");
        bool anyPorts = srcPortLo == 0 && srcPortHi == ushort.MaxValue && dstPortLo == 0 && dstPortHi == ushort.MaxValue;
        if (protocol == 0 && !anyPorts) throw new ArgumentException("port selectors need a protocol selector");
        Src = src & KeyBits<TKey>.Mask(srcLen);
        Dst = dst & KeyBits<TKey>.Mask(dstLen);
        SrcLen = (byte)srcLen;
        DstLen = (byte)dstLen;
        Protocol = protocol;
        SrcPortLo = srcPortLo;
        SrcPortHi = srcPortHi;
        DstPortLo = dstPortLo;
        DstPortHi = dstPortHi;
    }

    /// <summary>True when the packet key satisfies every selector.</summary>
    public bool Matches(in FlowKey<TKey> key) =>
        (key.Src & KeyBits<TKey>.Mask(SrcLen)) == Src && (key.Dst & KeyBits<TKey>.Mask(DstLen)) == Dst
        && (Protocol == 0 || (Protocol == key.Protocol
            && key.SrcPort >= SrcPortLo && key.SrcPort <= SrcPortHi && key.DstPort >= DstPortLo && key.DstPort <= DstPortHi));

    /// <summary>True when protocol or ports restrict the selector.</summary>
    public bool HasProtocolOrPorts => Protocol != 0;

    /// <summary>`192.0.2.0/25` style text of the source (with `:port` when ports are selected).</summary>
    public string SrcText => KeyBits<TKey>.FormatPrefix(Src, SrcLen) + PortSuffix(SrcPortLo, SrcPortHi);
    /// <summary>`192.0.2.128/25` style text of the destination (with `:port` when ports are selected).</summary>
    public string DstText => KeyBits<TKey>.FormatPrefix(Dst, DstLen) + PortSuffix(DstPortLo, DstPortHi);

    private string PortSuffix(ushort lo, ushort hi) =>
        Protocol == 0 ? "" : lo == 0 && hi == ushort.MaxValue ? ":0" : lo == hi ? ":" + lo.ToString(CultureInfo.InvariantCulture) : $":{lo}-{hi}";

    /// <summary>Parses `src -> dst` halves: each `address/len`.</summary>
    public static ErouteSelector<TKey> Parse(string src, string dst, byte protocol = 0)
    {
        var (s, sl) = KeyBits<TKey>.ParsePrefix(src);
        var (d, dl) = KeyBits<TKey>.ParsePrefix(dst);
        return new ErouteSelector<TKey>(s, sl, d, dl, protocol);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{SrcText} -> {DstText}" + (Protocol != 0 ? $" proto {Protocol}" : "");
}

/// <summary>Bit helpers for address keys (uint = IPv4, UInt128 = IPv6).</summary>
public static class KeyBits<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>Address width in bits (32 or 128); a JIT-time constant.</summary>
    public static int Width
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Unsafe.SizeOf<TKey>() * 8;
    }

    /// <summary>The network mask of a prefix length (0 → all zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TKey Mask(int len) => len == 0 ? TKey.Zero : TKey.AllBitsSet << (Width - len);

    /// <summary>The 8-bit chunk of <paramref name="key"/> that starts <paramref name="depth"/> bits from the top.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Chunk(TKey key, int depth) => int.CreateTruncating(key >> (Width - 8 - depth)) & 0xFF;

    /// <summary>Parses an address of this family.</summary>
    public static TKey ParseAddress(string text)
    {
        IPAddress ip = IPAddress.Parse(text);
        return FromIPAddress(ip);
    }

    /// <summary>Converts an <see cref="IPAddress"/> of this family to a host-order key.</summary>
    public static TKey FromIPAddress(IPAddress ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        Span<byte> b = stackalloc byte[16];
        if (!ip.TryWriteBytes(b, out int n) || n * 8 != Width) throw new FormatException($"{ip} is not an IPv{(Width == 32 ? 4 : 6)} address");
        return Width == 32
            ? TKey.CreateTruncating(BinaryPrimitives.ReadUInt32BigEndian(b))
            : TKey.CreateTruncating(BinaryPrimitives.ReadUInt128BigEndian(b));
    }

    /// <summary>Converts a key back to an <see cref="IPAddress"/>.</summary>
    public static IPAddress ToIPAddress(TKey key)
    {
        Span<byte> b = stackalloc byte[16];
        if (Width == 32)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, uint.CreateTruncating(key));
            return new IPAddress(b[..4]);
        }
        BinaryPrimitives.WriteUInt128BigEndian(b, UInt128.CreateTruncating(key));
        return new IPAddress(b);
    }

    /// <summary>Parses `address/len` (a bare address is a host prefix).</summary>
    public static (TKey Prefix, int Length) ParsePrefix(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0) return (ParseAddress(text), Width);
        int len = int.Parse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture);
        if (len > Width) throw new FormatException($"prefix length {len} > {Width}");
        return (ParseAddress(text[..slash]) & Mask(len), len);
    }

    /// <summary>`192.0.2.0/25` / `2001:db8::/64`.</summary>
    public static string FormatPrefix(TKey prefix, int len) =>
        ToIPAddress(prefix).ToString() + "/" + len.ToString(CultureInfo.InvariantCulture);

    internal static AddressFamily Family => Width == 32 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
}
