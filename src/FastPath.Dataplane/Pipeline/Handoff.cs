using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Threading;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// SA ownership across workers (DESIGN.md §2; VPP's handoff). Every SA has one owner worker: only
// the owner touches its sequence counter / replay window, so there is no lock per packet. When
// several workers share ports (PACKET_FANOUT), a packet can arrive on a worker that does not own
// its SA; that worker hands the packet to the owner over the per-worker-pair SPSC ring:
//
//   worker i, outbound: eroute → SA handle h, h not in i's table, owners[h] = j ≠ i
//       ─► HandoffRing(i→j, outbound).TryEnqueue(inner IP packet, TTL already decremented)
//   worker i, inbound: ESP with SPI s to us, owners[s] = j ≠ i
//       ─► HandoffRing(i→j, inbound).TryEnqueue(outer IP packet)
//   worker j, between batches (RunOnce): drain every ring towards j, at most one batch per ring:
//       outbound ─► OutboundL3 again (fresh eroute lookup; encrypted with j's SA; TX on j's outside port)
//       inbound  ─► the decapsulation half of the inbound path (TX on j's inside port)
//   full ring ─► HandoffQueueFull drop at i. A handed-off packet is never handed on again (an SA
//   that moved meanwhile makes it a NoState drop, not a ping-pong).
//
// The owner map (SPI → worker, per direction) is an immutable snapshot the Dataplane republishes
// on every install/delete (RCU: one reference swap); workers read it once per batch. It is only
// consulted when a worker misses an SA itself, so a single worker never pays for it.

/// <summary>SPI → owner worker, per direction, published by the control plane.</summary>
internal sealed class SaOwnerMap
{
    private sealed class Snapshot(Dictionary<uint, int> outbound, Dictionary<uint, int> inbound)
    {
        public readonly Dictionary<uint, int> Outbound = outbound;
        public readonly Dictionary<uint, int> Inbound = inbound;
    }

    private Snapshot _current = new(new Dictionary<uint, int>(), new Dictionary<uint, int>());

    /// <summary>Control plane: publishes copies of the two maps (under the caller's lock).</summary>
    public void Publish(Dictionary<uint, int> outbound, Dictionary<uint, int> inbound) =>
        Volatile.Write(ref _current, new Snapshot(new Dictionary<uint, int>(outbound), new Dictionary<uint, int>(inbound)));

    /// <summary>The owner of the SA, or -1.</summary>
    public int Owner(uint spi, SaDirection direction)
    {
        Snapshot s = Volatile.Read(ref _current);
        return (direction == SaDirection.Outbound ? s.Outbound : s.Inbound).TryGetValue(spi, out int w) ? w : -1;
    }
}

public sealed unsafe partial class Worker
{
    /// <summary>Marks a packet whose copy went to another worker: its frame is recycled here, it is
    /// neither sent nor counted as a drop (Drop verdict with the out-of-range reason Count).</summary>
    private void HandedOff(ref Packet p)
    {
        p.Verdict = PacketVerdict.Drop;
        p.Drop = DropReason.Count;
        Counters._handedOff++;
    }

    /// <summary>Wires the rings: <paramref name="toOutbound"/>[j] / <paramref name="toInbound"/>[j]
    /// carry packets from this worker to worker j (null for itself), the from* arrays the reverse.</summary>
    internal void ConnectHandoff(SaOwnerMap owners, HandoffRing?[] toOutbound, HandoffRing?[] toInbound, HandoffRing?[] fromOutbound, HandoffRing?[] fromInbound)
    {
        _owners = owners;
        _toOutbound = toOutbound;
        _toInbound = toInbound;
        _fromOutbound = fromOutbound;
        _fromInbound = fromInbound;
    }

    /// <summary>Outbound miss of SA <paramref name="handle"/>: hands the Forward packets of the run to
    /// the owner; false when no other worker owns it (the caller drops NoState).</summary>
    private bool TryHandOffOutbound(Span<Packet> run, uint handle)
    {
        if (_owners is null) return false;
        int owner = _owners.Owner(handle, SaDirection.Outbound);
        if (owner < 0 || owner == Index || _toOutbound![owner] is not { } ring) return false;
        for (int i = 0; i < run.Length; i++)
        {
            ref Packet p = ref run[i];
            if (p.Verdict != PacketVerdict.Forward) continue;
            if (ring.TryEnqueue(p)) HandedOff(ref p);
            else Drop(ref p, DropReason.HandoffQueueFull);
        }
        return true;
    }

    /// <summary>Inbound ESP with <paramref name="spi"/>: true when another worker owns the SA and
    /// the packet was handed to it (or dropped because its ring was full).</summary>
    private bool TryHandOffInbound(ref Packet p, uint spi)
    {
        if (_owners is null || _sad.Find(spi) is not null) return false;
        int owner = _owners.Owner(spi, SaDirection.Inbound);
        if (owner < 0 || owner == Index || _toInbound![owner] is not { } ring) return false;
        if (ring.TryEnqueue(p)) HandedOff(ref p);
        else Drop(ref p, DropReason.HandoffQueueFull);
        return true;
    }

    /// <summary>Between batches: what other workers handed to this one.</summary>
    private void DrainHandoffs(long now)
    {
        if (_fromOutbound is null || _fromInbound is null) return;
        for (int j = 0; j < _fromOutbound.Length; j++)
        {
            if (_fromOutbound[j] is { } ring && ring.Dequeue(_handoff.Slots, _slab) is int n && n > 0)
            {
                _handoff.Count = n;
                Counters._handoffReceived += n;
                OutboundL3(_handoff, now, allowHandoff: false);
                Transmit(_handoff.Packets, _outside, ref Counters._txOutside);
                Recycle(_handoff, keepHeld: true);
            }
        }
        for (int j = 0; j < _fromInbound.Length; j++)
        {
            if (_fromInbound[j] is { } ring && ring.Dequeue(_handoff.Slots, _slab) is int n && n > 0)
            {
                _handoff.Count = n;
                Counters._handoffReceived += n;
                Span<Packet> pk = _handoff.Packets;
                for (int i = 0; i < pk.Length; i++) _spi[i] = SpiOf(pk[i]);
                FinishInbound(_handoff, now, null, null);
            }
        }
    }

    /// <summary>The SPI of an ESP or ESP-in-UDP packet whose data window is the outer IP header (0 if too short).</summary>
    private static uint SpiOf(in Packet p)
    {
        byte* ip = p.Frame + p.Offset;
        int at = (ip[0] >> 4) == 4 ? (ip[0] & 0xF) * 4 : Ipv6Header.Length;
        byte protocol = (ip[0] >> 4) == 4 ? Ipv4Header.At(ip).Protocol : Ipv6Header.At(ip).NextHeader;
        if (protocol == IpProtocol.Udp) at += UdpHeader.Length;
        return p.Length >= at + 4 ? BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(ip + at, 4)) : 0;
    }
}
