using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FastPath.Ike.Messages;

namespace FastPath.Ike.Exchanges;

// Traffic selector arithmetic (RFC 7296 §2.9, §3.13.1) shared by IKE_AUTH's first CHILD_SA and
// CREATE_CHILD_SA:
//   FromPrefix / FromAddress   ipsec.conf leftsubnet= → TS_IPV4_ADDR_RANGE / TS_IPV6_ADDR_RANGE
//   Intersect                  one selector ∩ another (protocol 0 = any, ports and addresses as ranges)
//   Narrow                     responder: each proposed selector ∩ each configured one, in the
//                              initiator's order (its first selector — the packet that triggered an
//                              ACQUIRE — comes first, §2.9), duplicates and empty results removed
//   ToPrefixes                 a range as the CIDR blocks the eroute table takes
// Addresses compare as unsigned 128-bit integers (IPv4 in the low 32 bits); v4 never meets v6.

/// <summary>Traffic selector helpers.</summary>
public static class TrafficSelectors
{
    /// <summary>Any address of the family, any protocol and port.</summary>
    public static TrafficSelector Any(AddressFamily family) => family == AddressFamily.InterNetworkV6
        ? new(TsType.Ipv6AddrRange, 0, 0, 65535, new byte[16], Ones(16))
        : new(TsType.Ipv4AddrRange, 0, 0, 65535, new byte[4], Ones(4));

    /// <summary>"192.0.2.0/25", "2001:db8:1::/64" or a bare address (host selector).</summary>
    public static TrafficSelector FromPrefix(string prefix, byte protocol = 0, ushort startPort = 0, ushort endPort = 65535)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        int slash = prefix.IndexOf('/', StringComparison.Ordinal);
        var addr = IPAddress.Parse(slash < 0 ? prefix : prefix[..slash]);
        int bytes = addr.AddressFamily == AddressFamily.InterNetworkV6 ? 16 : 4;
        int len = slash < 0 ? bytes * 8 : int.Parse(prefix.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture);
        if (len < 0 || len > bytes * 8) throw new FormatException($"prefix length {len} out of range in '{prefix}'");
        UInt128 v = ToInt(addr.GetAddressBytes());
        UInt128 hostMask = Mask(bytes * 8 - len);
        UInt128 start = v & ~hostMask, end = v | hostMask;
        if (bytes == 4) { start &= uint.MaxValue; end &= uint.MaxValue; }
        return new(bytes == 16 ? TsType.Ipv6AddrRange : TsType.Ipv4AddrRange, protocol, startPort, endPort, ToBytes(start, bytes), ToBytes(end, bytes));
    }

    /// <summary>A selector for exactly one address.</summary>
    public static TrafficSelector FromAddress(IPAddress address, byte protocol = 0, ushort startPort = 0, ushort endPort = 65535)
    {
        ArgumentNullException.ThrowIfNull(address);
        byte[] b = address.GetAddressBytes();
        return new(b.Length == 16 ? TsType.Ipv6AddrRange : TsType.Ipv4AddrRange, protocol, startPort, endPort, b, (byte[])b.Clone());
    }

    /// <summary>The common part of two selectors, or null when they do not overlap.</summary>
    public static TrafficSelector? Intersect(TrafficSelector a, TrafficSelector b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.TsType != b.TsType) return null;
        if (a.IpProtocol != 0 && b.IpProtocol != 0 && a.IpProtocol != b.IpProtocol) return null;
        byte proto = a.IpProtocol != 0 ? a.IpProtocol : b.IpProtocol;
        ushort sp = Math.Max(a.StartPort, b.StartPort), ep = Math.Min(a.EndPort, b.EndPort);
        if (sp > ep) return null;
        UInt128 s = UInt128.Max(ToInt(a.StartAddress), ToInt(b.StartAddress));
        UInt128 e = UInt128.Min(ToInt(a.EndAddress), ToInt(b.EndAddress));
        if (s > e) return null;
        int n = a.StartAddress.Length;
        return new(a.TsType, proto, sp, ep, ToBytes(s, n), ToBytes(e, n));
    }

    /// <summary>True when every packet <paramref name="inner"/> matches also matches <paramref name="outer"/>.</summary>
    public static bool IsSubsetOf(TrafficSelector inner, TrafficSelector outer)
    {
        var i = Intersect(inner, outer);
        return i is not null && SameRange(i, inner);
    }

    /// <summary>Responder-side narrowing (RFC 7296 §2.9): the proposed selectors intersected with the
    /// configured ones, proposals in order; empty when nothing is acceptable (TS_UNACCEPTABLE).</summary>
    public static IReadOnlyList<TrafficSelector> Narrow(IReadOnlyList<TrafficSelector> proposed, IReadOnlyList<TrafficSelector> configured)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        ArgumentNullException.ThrowIfNull(configured);
        var result = new List<TrafficSelector>();
        foreach (var p in proposed)
            foreach (var c in configured)
            {
                var i = Intersect(p, c);
                if (i is null) continue;
                bool dup = false;
                foreach (var r in result)
                    if (SameRange(r, i)) { dup = true; break; }
                if (!dup) result.Add(i);
            }
        // Drop selectors contained in an earlier, wider one (a packet selector inside the subnet).
        for (int x = result.Count - 1; x >= 0; x--)
            for (int y = 0; y < result.Count; y++)
                if (x != y && !SameRange(result[x], result[y]) && IsSubsetOf(result[x], result[y])) { result.RemoveAt(x); break; }
        return result;
    }

    /// <summary>Initiator-side check of the responder's answer: every returned selector must lie inside
    /// one we proposed (a responder may only narrow).</summary>
    public static bool AllWithin(IReadOnlyList<TrafficSelector> returned, IReadOnlyList<TrafficSelector> proposed)
    {
        ArgumentNullException.ThrowIfNull(returned);
        ArgumentNullException.ThrowIfNull(proposed);
        if (returned.Count == 0) return false;
        foreach (var r in returned)
        {
            bool ok = false;
            foreach (var p in proposed)
                if (IsSubsetOf(r, p)) { ok = true; break; }
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>The address range as CIDR blocks (address, prefix length), smallest number of blocks.</summary>
    public static IReadOnlyList<(IPAddress Address, int PrefixLength)> ToPrefixes(TrafficSelector ts)
    {
        ArgumentNullException.ThrowIfNull(ts);
        int bits = ts.StartAddress.Length * 8;
        UInt128 s = ToInt(ts.StartAddress), e = ToInt(ts.EndAddress);
        var list = new List<(IPAddress, int)>();
        if (s > e) return list;
        while (true)
        {
            // Largest block aligned at s that does not pass e.
            int size = s == UInt128.Zero ? bits : Math.Min(bits, (int)UInt128.TrailingZeroCount(s));
            while (size > 0 && s + Mask(size) > e) size--;
            list.Add((new IPAddress(ToBytes(s, ts.StartAddress.Length)), bits - size));
            UInt128 last = s + Mask(size);
            if (last >= e) break;
            s = last + 1;
        }
        return list;
    }

    private static UInt128 Mask(int bits) => bits >= 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;

    /// <summary>strongSwan's spelling: "192.0.2.0/25", "192.0.2.1..192.0.2.9", with "[tcp/80]" / "[17/500-600]" when restricted.</summary>
    public static string Format(TrafficSelector ts)
    {
        ArgumentNullException.ThrowIfNull(ts);
        var prefixes = ToPrefixes(ts);
        string addr = prefixes.Count == 1
            ? $"{prefixes[0].Address}/{prefixes[0].PrefixLength}"
            : $"{new IPAddress(ts.StartAddress)}..{new IPAddress(ts.EndAddress)}";
        if (ts.IpProtocol == 0 && ts.StartPort == 0 && ts.EndPort == 65535) return addr;
        string proto = ts.IpProtocol switch { 0 => "0", 1 => "icmp", 6 => "tcp", 17 => "udp", 58 => "ipv6-icmp", _ => ts.IpProtocol.ToString(CultureInfo.InvariantCulture) };
        string ports = ts.StartPort == 0 && ts.EndPort == 65535 ? "" : ts.StartPort == ts.EndPort ? $"/{ts.StartPort}" : $"/{ts.StartPort}-{ts.EndPort}";
        return $"{addr}[{proto}{ports}]";
    }

    /// <summary>Formats a list, space-separated.</summary>
    public static string Format(IReadOnlyList<TrafficSelector> list) => string.Join(" ", System.Linq.Enumerable.Select(list, Format));

    /// <summary>Same protocol, ports and addresses.</summary>
    public static bool SameRange(TrafficSelector a, TrafficSelector b) =>
        a.TsType == b.TsType && a.IpProtocol == b.IpProtocol && a.StartPort == b.StartPort && a.EndPort == b.EndPort &&
        a.StartAddress.AsSpan().SequenceEqual(b.StartAddress) && a.EndAddress.AsSpan().SequenceEqual(b.EndAddress);

    private static byte[] Ones(int n)
    {
        var b = new byte[n];
        b.AsSpan().Fill(0xFF);
        return b;
    }

    private static UInt128 ToInt(ReadOnlySpan<byte> b)
    {
        Span<byte> w = stackalloc byte[16];
        w.Clear();
        b.CopyTo(w[(16 - b.Length)..]);
        return BinaryPrimitives.ReadUInt128BigEndian(w);
    }

    private static byte[] ToBytes(UInt128 v, int n)
    {
        Span<byte> w = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(w, v);
        return w[(16 - n)..].ToArray();
    }
}
