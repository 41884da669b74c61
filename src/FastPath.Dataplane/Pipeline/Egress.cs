using System;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Pipeline;

// Egress: from "this IP packet leaves on port X" to a frame accepted by the port.
//
//   destination (SA remote address for ESP, inner destination for decrypted/clear packets)
//     ─► NextHopTable (RCU, read lock-free): miss ─► NoRoute; entry with MAC 0 (route known,
//        ARP/ND incomplete: how the resolver publishes a pending neighbor) ─► NoNeighbor;
//        both post one ResolveNextHop event per address per ResolveDedupeInterval (a direct-mapped
//        64-entry cache of recent requests), so a burst does not flood the event ring
//     ─► MTU: L3 length > NextHop.Mtu (0 = unknown: no check) ─► Hooks.HandleOversize
//     ─► Ethernet header written into the headroom: destination MAC, source MAC, EtherType
//        (0x0800 / 0x86DD from the IP version); frames leave untagged (NextHop carries no VLAN)
//     ─► compacted into the TX array, one Transmit per port per batch; what the port refuses is
//        counted TxFull (the port counts TxQueueFull/TxErrors itself too)
// The egress interface is the worker's port for the direction (ESP and %pass out of the outside
// port, decrypted and inbound %pass out of the inside port); NextHop.InterfaceIndex is for the
// control plane (which port a resolved route uses) and is not consulted per packet.

public sealed unsafe partial class Worker
{
    /// <summary>Decrements the IPv4 TTL (RFC 1624 incremental checksum) or the IPv6 hop limit;
    /// false when the packet may not be forwarded (TTL ≤ 1, RFC 1812 §5.3.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool DecrementTtl(byte* ip, int version)
    {
        if (version == 4)
        {
            ref Ipv4Header h = ref Ipv4Header.At(ip);
            if (h.Ttl <= 1) return false;
            ushort before = (ushort)((h.Ttl << 8) | h.Protocol);
            h.Ttl--;
            h.Checksum = Checksum.Update(h.Checksum, before, (ushort)((h.Ttl << 8) | h.Protocol));
            return true;
        }
        ref Ipv6Header h6 = ref Ipv6Header.At(ip);
        if (h6.HopLimit <= 1) return false;
        h6.HopLimit--;
        return true;
    }

    /// <summary>The next hop of <paramref name="destination"/>, or the drop reason (a resolve
    /// request is posted, deduplicated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryNextHop(in IpAddress16 destination, long now, out NextHop hop, out DropReason miss)
    {
        bool found = destination.IsIpv4 ? _nextHops.TryGetV4(destination.Ipv4Raw, out hop) : _nextHops.TryGetV6(destination, out hop);
        if (found && hop.DestinationMac != 0)
        {
            miss = default;
            return true;
        }
        miss = found ? DropReason.NoNeighbor : DropReason.NoRoute;
        RequestResolve(destination, miss, now);
        return false;
    }

    private void RequestResolve(in IpAddress16 address, DropReason reason, long now)
    {
        int slot = (int)(((address.Upper ^ address.Lower) * 0x9E3779B97F4A7C15UL) >> 58);
        long when = _recentWhen[slot];
        if (when != 0 && _recentAddress[slot] == address && now - when < _dedupeTicks)
        {
            Counters._resolveSuppressed++;
            return;
        }
        _recentAddress[slot] = address;
        _recentWhen[slot] = now;
        if (_events.TryEnqueue(new DataplaneEvent(DataplaneEventKind.ResolveNextHop, Address: address, Reason: reason, Worker: Index)))
            Counters._resolveRequests++;
        else
            Counters._eventOverflows++;
    }

    /// <summary>MTU check and Ethernet header for a packet whose data window is an IP packet.
    /// False (and counted) when it cannot leave.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Egress(ref Packet p, in NextHop hop)
    {
        if (hop.Mtu != 0 && p.Length > hop.Mtu)
        {
            HandleOversize(ref p, hop);
            return false;
        }
        if (p.Offset < Classifier.EthernetHeaderLength)
        {
            Drop(ref p, DropReason.NoTailSpace);
            return false;
        }
        byte* ip = p.Frame + p.Offset;
        byte* eth = ip - Classifier.EthernetHeaderLength;
        NextHop.WriteMac(eth, hop.DestinationMac);
        NextHop.WriteMac(eth + 6, hop.SourceMac);
        ushort type = (ip[0] >> 4) == 6 ? Classifier.EtherTypeIpv6 : Classifier.EtherTypeIpv4;
        eth[12] = (byte)(type >> 8);
        eth[13] = (byte)type;
        p.Offset -= Classifier.EthernetHeaderLength;
        p.Length += Classifier.EthernetHeaderLength;
        return true;
    }

    /// <summary>Sends the Forward and Clear packets of <paramref name="packets"/> on <paramref name="io"/> in one call.</summary>
    private void Transmit(Span<Packet> packets, IPacketIo io, ref long sentCounter)
    {
        int n = 0;
        for (int i = 0; i < packets.Length; i++)
        {
            ref Packet p = ref packets[i];
            if (p.Verdict == PacketVerdict.Forward || p.Verdict == Clear) _tx[n++] = p;
        }
        if (n == 0) return;
        int sent = io.Transmit(new ReadOnlySpan<Packet>(_tx, 0, n));
        sentCounter += sent;
        if (sent < n)
        {
            // The port refused the rest (full queue or send error): one reason for all of them.
            for (int i = sent; i < n; i++) Counters.AddDrop(DropReason.TxFull);
        }
    }
}
