using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;

namespace FastPath.Dataplane.Pipeline;

// Classification: what a received frame is, before any policy or crypto. Pure functions over the
// frame (no state, no allocation); the worker acts on the answer.
//
//   Ethernet [802.1Q/802.1ad tag, up to 2] ─► EtherType
//     0x0800 / 0x86DD ─► IP header checks (version, IHL, lengths, IPv4 header checksum),
//                        Ethernet padding trimmed (frames are padded to 60 bytes)
//     anything else (ARP 0x0806, LLDP, ...) ─► NotIp: left to the kernel (AF_PACKET copies, the
//                        kernel has its own copy of the frame and answers ARP itself)
//   ICMPv6 133-137 (RS/RA/NS/NA/Redirect, RFC 4861) ─► NotIp as well: ND is the kernel's
//   multicast / broadcast / link-local destinations ─► LocalDelivery (never forwarded by a router)
//
// Outside port (Classify(Outside)), in this order:
//   destination is one of our addresses:
//     IP protocol 50                                 ─► Esp          (RFC 4303)
//     UDP dport 4500, payload = 1 byte 0xFF           ─► NatKeepalive (RFC 3948 §2.3; counted drop)
//     UDP dport 4500, first 4 payload bytes zero      ─► Ike          (non-ESP marker, RFC 3948 §2.2)
//     UDP dport 4500, anything else                   ─► Esp          (ESP-in-UDP, RFC 3948 §2.1)
//     UDP dport 500                                   ─► Ike          (RFC 7296 §2)
//     anything else (ICMP echo to us, SSH, ...)       ─► LocalDelivery
//     a fragment of any of these                      ─► Fragment     (later: reassembly, Hooks.cs)
//   otherwise                                         ─► Transit      (cleartext: eroute check)
// Inside port: every valid IP packet not addressed to us is Transit (outbound eroute lookup).
//
// IKE is NOT handed to the control plane through the dataplane: with AF_PACKET the kernel gets its
// own copy of every frame, so charon-style UDP sockets on 500/4500 receive IKE directly (the nft
// netdev-ingress rule of docs/pipeline.md drops only the ESP-in-UDP copies from the kernel's view,
// matching the non-zero marker). The worker counts IKE (WorkerCounters.IkeSeen) and drops its copy.
// With AF_XDP the XDP program will XDP_PASS IKE to the kernel stack instead of redirecting it.
// The same holds for LocalDelivery and NotIp: the kernel has the frame already; the dataplane's
// copy is counted and released.

/// <summary>What a frame is (see the table at the top of Classifier.cs).</summary>
internal enum FrameClass : byte
{
    /// <summary>Dropped while parsing; the reason is in <see cref="ParsedIp.Reason"/>.</summary>
    Invalid,
    NotIp,
    /// <summary>Ours but not ESP/IKE: the kernel handles it.</summary>
    LocalDelivery,
    /// <summary>ESP or ESP-in-UDP to us.</summary>
    Esp,
    Ike,
    NatKeepalive,
    /// <summary>An IP fragment addressed to us (ESP needs the whole datagram).</summary>
    LocalFragment,
    /// <summary>Not addressed to us: forwarded if policy says so.</summary>
    Transit,
}

/// <summary>The facts about one IP packet a worker needs (offsets relative to the L3 start).</summary>
internal struct ParsedIp
{
    public FrameClass Class;
    public DropReason Reason;
    /// <summary>4 or 6.</summary>
    public byte Version;
    /// <summary>Transport protocol (IPv6: after a fragment header).</summary>
    public byte Protocol;
    public bool Fragment;
    public ushort SourcePort;
    public ushort DestinationPort;
    /// <summary>Offset of the transport header from the L3 start.</summary>
    public int L4Offset;
}

/// <summary>Frame and IP classification (stateless).</summary>
[SkipLocalsInit]
internal static unsafe class Classifier
{
    public const ushort EtherTypeIpv4 = 0x0800;
    public const ushort EtherTypeIpv6 = 0x86DD;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeVlan = 0x8100;
    public const ushort EtherTypeQinQ = 0x88A8;
    public const int EthernetHeaderLength = 14;
    public const ushort IkePort = 500;
    private const byte Ipv6FragmentHeader = 44;

    /// <summary>Moves the data window of <paramref name="p"/> past the Ethernet header (and up to two
    /// VLAN tags) and returns the EtherType, or 0 when the frame is too short.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort StripEthernet(ref Packet p)
    {
        if (p.Length < EthernetHeaderLength) return 0;
        byte* f = p.Frame + p.Offset;
        int l2 = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(f + l2, 2));
        for (int tags = 0; (type == EtherTypeVlan || type == EtherTypeQinQ) && tags < 2; tags++)
        {
            l2 += 4;
            if (p.Length < l2 + 2) return 0;
            type = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(f + l2, 2));
        }
        l2 += 2;
        p.Offset += l2;
        p.Length -= l2;
        return type;
    }

    /// <summary>
    /// Parses the IP header at the data window of <paramref name="p"/> (EtherType already known),
    /// trims Ethernet padding, and classifies it. <paramref name="isLocal"/> is the gateway's
    /// address set; <paramref name="outside"/> selects the outside rules (ESP, IKE).
    /// </summary>
    public static ParsedIp Parse(ref Packet p, ushort etherType, LocalAddresses isLocal, bool outside)
    {
        ParsedIp r = default;
        byte* ip = p.Frame + p.Offset;
        int length = p.Length;
        int headerLength;
        bool local, multicast;
        if (etherType == EtherTypeIpv4)
        {
            if (length < Ipv4Header.MinLength || (ip[0] >> 4) != 4) return Bad(ref r, DropReason.BadHeader);
            ref Ipv4Header h = ref Ipv4Header.At(ip);
            headerLength = h.HeaderLength;
            int total = h.TotalLength;
            if (headerLength < Ipv4Header.MinLength || total < headerLength || total > length || !Checksum.Ipv4HeaderValid(ip, headerLength))
                return Bad(ref r, DropReason.BadHeader);
            p.Length = length = total;
            r.Version = 4;
            r.Protocol = h.Protocol;
            ushort ff = h.FlagsFragment;
            r.Fragment = (ff & (Ipv4Header.MoreFragments | Ipv4Header.FragmentOffsetMask)) != 0;
            bool firstFragment = (ff & Ipv4Header.FragmentOffsetMask) == 0;
            uint dst = h.Destination;
            local = isLocal.ContainsV4(h.DestinationRaw);
            multicast = (dst >> 28) == 0xE || dst == 0xFFFFFFFF;
            if (firstFragment) ReadPorts(ref r, ip + headerLength, length - headerLength);
            r.L4Offset = headerLength;
        }
        else if (etherType == EtherTypeIpv6)
        {
            if (length < Ipv6Header.Length || (ip[0] >> 4) != 6) return Bad(ref r, DropReason.BadHeader);
            ref Ipv6Header h = ref Ipv6Header.At(ip);
            int total = Ipv6Header.Length + h.PayloadLength;
            if (total > length) return Bad(ref r, DropReason.BadHeader);
            p.Length = length = total;
            r.Version = 6;
            headerLength = Ipv6Header.Length;
            byte next = h.NextHeader;
            bool firstFragment = true;
            if (next == Ipv6FragmentHeader)
            {
                // RFC 8200 §4.5: next header, reserved, offset(13)|res(2)|M(1), identification.
                if (length < headerLength + 8) return Bad(ref r, DropReason.Runt);
                byte* fh = ip + headerLength;
                r.Fragment = true;
                firstFragment = (BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(fh + 2, 2)) & 0xFFF8) == 0;
                next = fh[0];
                headerLength += 8;
            }
            r.Protocol = next;
            local = isLocal.ContainsV6(h.Destination);
            byte first = (byte)h.Destination.Upper;                  // first address byte (network order in memory)
            byte second = (byte)(h.Destination.Upper >> 8);
            multicast = first == 0xFF || (first == 0xFE && (second & 0xC0) == 0x80); // ff00::/8, fe80::/10
            if (next == IpProtocol.Icmpv6 && !r.Fragment && length >= headerLength + 1)
            {
                byte type = ip[headerLength];
                if (type is >= 133 and <= 137) // RS, RA, NS, NA, Redirect: the kernel's neighbor discovery
                {
                    r.Class = FrameClass.NotIp;
                    r.Reason = DropReason.NotIp;
                    return r;
                }
            }
            if (firstFragment) ReadPorts(ref r, ip + headerLength, length - headerLength);
            r.L4Offset = headerLength;
        }
        else
        {
            r.Class = FrameClass.NotIp;
            r.Reason = DropReason.NotIp;
            return r;
        }

        if (multicast)
        {
            r.Class = FrameClass.LocalDelivery;
            r.Reason = DropReason.LocalDelivery;
            return r;
        }
        if (!local)
        {
            r.Class = FrameClass.Transit;
            return r;
        }
        if (outside && r.Fragment)
        {
            r.Class = FrameClass.LocalFragment;
            r.Reason = DropReason.Fragment;
            return r;
        }
        if (outside)
        {
            if (r.Protocol == IpProtocol.Esp)
            {
                r.Class = FrameClass.Esp;
                return r;
            }
            if (r.Protocol == IpProtocol.Udp && length >= headerLength + UdpHeader.Length)
            {
                if (r.DestinationPort == EspProcessor.NatTraversalPort)
                {
                    byte* payload = ip + headerLength + UdpHeader.Length;
                    int payloadLength = Math.Min(UdpHeader.At(ip + headerLength).DatagramLength, length - headerLength) - UdpHeader.Length;
                    if (payloadLength == 1 && payload[0] == 0xFF)
                    {
                        r.Class = FrameClass.NatKeepalive;
                        r.Reason = DropReason.NatKeepalive;
                        return r;
                    }
                    if (payloadLength >= 4 && *(uint*)payload == 0)
                    {
                        r.Class = FrameClass.Ike;
                        return r;
                    }
                    r.Class = FrameClass.Esp; // ESP-in-UDP (the ESP engine checks lengths: Runt, BadHeader)
                    return r;
                }
                if (r.DestinationPort == IkePort)
                {
                    r.Class = FrameClass.Ike;
                    return r;
                }
            }
        }
        r.Class = FrameClass.LocalDelivery;
        r.Reason = DropReason.LocalDelivery;
        return r;
    }

    /// <summary>The eroute key of a validated IPv4 packet (host-order addresses; ports of TCP/UDP
    /// unless the packet is a non-first fragment, else 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FlowKey<uint> KeyV4(byte* ip, int length)
    {
        ref Ipv4Header h = ref Ipv4Header.At(ip);
        ParsedIp r = default;
        r.Protocol = h.Protocol;
        int hl = h.HeaderLength;
        if ((h.FlagsFragment & Ipv4Header.FragmentOffsetMask) == 0) ReadPorts(ref r, ip + hl, length - hl);
        return new FlowKey<uint>(h.Source, h.Destination, r.Protocol, r.SourcePort, r.DestinationPort);
    }

    /// <summary>The eroute key of a validated IPv6 packet (a fragment header is looked through).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FlowKey<UInt128> KeyV6(byte* ip, int length)
    {
        ref Ipv6Header h = ref Ipv6Header.At(ip);
        ParsedIp r = default;
        byte next = h.NextHeader;
        int hl = Ipv6Header.Length;
        bool first = true;
        if (next == Ipv6FragmentHeader && length >= hl + 8)
        {
            first = (BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(ip + hl + 2, 2)) & 0xFFF8) == 0;
            next = ip[hl];
            hl += 8;
        }
        r.Protocol = next;
        if (first) ReadPorts(ref r, ip + hl, length - hl);
        return new FlowKey<UInt128>(Host128(ip + 8), Host128(ip + 24), r.Protocol, r.SourcePort, r.DestinationPort);
    }

    /// <summary>A 16-byte network-order address as the host-order UInt128 the eroute trie uses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Host128(byte* a) => BinaryPrimitives.ReadUInt128BigEndian(new ReadOnlySpan<byte>(a, 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ReadPorts(ref ParsedIp r, byte* l4, int l4Length)
    {
        if ((r.Protocol == IpProtocol.Tcp || r.Protocol == IpProtocol.Udp) && l4Length >= 4)
        {
            r.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(l4, 2));
            r.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(l4 + 2, 2));
        }
    }

    private static ParsedIp Bad(ref ParsedIp r, DropReason reason)
    {
        r.Class = FrameClass.Invalid;
        r.Reason = reason;
        return r;
    }
}

/// <summary>The gateway's own addresses (both ports), as the worker compares them: IPv4 raw
/// (network order in a native uint) and IPv6 16-byte values; a handful, so a linear scan.</summary>
internal sealed class LocalAddresses
{
    private readonly uint[] _v4;
    private readonly IpAddress16[] _v6;

    public LocalAddresses(System.Collections.Generic.IEnumerable<System.Net.IPAddress> addresses)
    {
        var v4 = new System.Collections.Generic.List<uint>();
        var v6 = new System.Collections.Generic.List<IpAddress16>();
        foreach (System.Net.IPAddress a in addresses)
        {
            IpAddress16 x = IpAddress16.From(a);
            if (x.IsIpv4) v4.Add(x.Ipv4Raw);
            else v6.Add(x);
        }
        _v4 = v4.ToArray();
        _v6 = v6.ToArray();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ContainsV4(uint raw)
    {
        foreach (uint a in _v4)
            if (a == raw) return true;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ContainsV6(in IpAddress16 address)
    {
        foreach (IpAddress16 a in _v6)
            if (a == address) return true;
        return false;
    }

    /// <summary>The first IPv4 / IPv6 address (source of ICMP errors the gateway sends), or default.</summary>
    public IpAddress16 FirstV4 => _v4.Length > 0 ? IpAddress16.FromIpv4Raw(_v4[0]) : default;
    public IpAddress16 FirstV6 => _v6.Length > 0 ? _v6[0] : default;
}
