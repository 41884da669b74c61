using System;
using System.Threading;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Io;

// The packet I/O seen by a worker: one interface, several back ends (AF_PACKET, AF_XDP; in-memory for
// tests and benchmarks; PacketIoFactory picks AF_XDP or AF_PACKET). A worker loop is
//
//   while (running) {
//       if (!io.WaitForReceive(timeoutMs)) { between-batch work; continue; }
//       batch.Count = io.Receive(batch.Slots, slab);      // frames rented from the worker's slab
//       ... parse, eroute, ESP in place ...
//       io.Transmit(forwarded packets);                     // the kernel/queue copies the data
//       return every frame to the slab;                     // the caller owns frames throughout
//   }
//
// Why RX copies into slab frames instead of handing out ring slots: the TPACKET_V3 ring places
// frames back to back inside a block with no room in front (outer IP + ESP header + IV) or behind
// (ESP trailer + ICV), and a block can only go back to the kernel when every frame in it is done,
// so holding ring memory across ESP processing would stall the ring. One memcpy of <= 1.5 KB per
// packet is cheap next to the kernel's ~0.5-1.5 us per packet (IO.md), and it gives every packet the
// headroom/tailroom of FrameSlab. TX needs no copy by us: sendmmsg copies into an skb.
//
// Frames are Ethernet: Packet.Offset points at the Ethernet header (destination MAC), Length
// includes the 14-byte L2 header (18 with an 802.1Q tag); the worker parses L2 itself. On
// transmit, the data window must likewise start at an Ethernet header.
//
// Contract: Receive and Transmit never throw and never allocate in steady state; failures of the
// system calls under them are counted in IoCounters. One thread (the owning worker) calls Receive,
// Transmit, WaitForReceive and RefreshCounters; other threads may read the counters (64-bit reads
// are atomic; values may be a batch behind).

/// <summary>Counters of one I/O endpoint. Written by the owning worker only.</summary>
public sealed class IoCounters
{
    internal long _rxPackets, _rxBytes, _txPackets, _txBytes;
    internal long _rxRingDrops, _rxRingFreezes, _rxTooBig, _rxChecksumNotReady, _rxVlanReinserted;
    internal long _txErrors, _txQueueFull, _pollErrors;
    internal long _rxFillRingEmpty, _rxInvalidDescs, _txInvalidDescs;

    /// <summary>Frames handed to the worker.</summary>
    public long RxPackets => Volatile.Read(ref _rxPackets);
    /// <summary>Bytes of those frames (L2 header included).</summary>
    public long RxBytes => Volatile.Read(ref _rxBytes);
    /// <summary>Frames accepted for transmission by the kernel (or the in-memory queue).</summary>
    public long TxPackets => Volatile.Read(ref _txPackets);
    public long TxBytes => Volatile.Read(ref _txBytes);
    /// <summary>Frames the kernel dropped because the RX ring was full (PACKET_STATISTICS tp_drops;
    /// AF_XDP: XDP_STATISTICS rx_ring_full + rx_dropped), accumulated by
    /// <see cref="IPacketIo.RefreshCounters"/>.</summary>
    public long RxRingDrops => Volatile.Read(ref _rxRingDrops);
    /// <summary>Times the kernel froze the ring queue (tp_freeze_q_cnt).</summary>
    public long RxRingFreezes => Volatile.Read(ref _rxRingFreezes);
    /// <summary>Frames larger than a slab frame minus headroom (e.g. GRO super-frames): dropped.</summary>
    public long RxTooBig => Volatile.Read(ref _rxTooBig);
    /// <summary>Frames received with TP_STATUS_CSUMNOTREADY (also flagged per packet).</summary>
    public long RxChecksumNotReady => Volatile.Read(ref _rxChecksumNotReady);
    /// <summary>Frames whose VLAN tag the kernel had stripped and the I/O put back.</summary>
    public long RxVlanReinserted => Volatile.Read(ref _rxVlanReinserted);
    /// <summary>Frames the kernel refused on transmit (sendmmsg errors, e.g. ENOBUFS, ENETDOWN, EMSGSIZE).</summary>
    public long TxErrors => Volatile.Read(ref _txErrors);
    /// <summary>Frames not transmitted because the queue was full (in-memory I/O) or the socket
    /// buffer stayed full (EAGAIN).</summary>
    public long TxQueueFull => Volatile.Read(ref _txQueueFull);
    /// <summary>poll(2) failures other than EINTR.</summary>
    public long PollErrors => Volatile.Read(ref _pollErrors);
    /// <summary>AF_XDP: times the kernel found the fill ring empty (rx_fill_ring_empty_descs): the
    /// worker returns UMEM frames too slowly; frames are dropped meanwhile.</summary>
    public long RxFillRingEmpty => Volatile.Read(ref _rxFillRingEmpty);
    /// <summary>AF_XDP: invalid descriptors the kernel rejected on the fill ring (rx_invalid_descs).</summary>
    public long RxInvalidDescs => Volatile.Read(ref _rxInvalidDescs);
    /// <summary>AF_XDP: invalid TX descriptors the kernel skipped (tx_invalid_descs).</summary>
    public long TxInvalidDescs => Volatile.Read(ref _txInvalidDescs);

    public override string ToString() =>
        $"rx {RxPackets} ({RxBytes} B) tx {TxPackets} ({TxBytes} B) ringDrops {RxRingDrops} freezes {RxRingFreezes} " +
        $"tooBig {RxTooBig} csumNotReady {RxChecksumNotReady} vlan {RxVlanReinserted} txErrors {TxErrors} txFull {TxQueueFull} pollErrors {PollErrors}" +
        (RxFillRingEmpty + RxInvalidDescs + TxInvalidDescs != 0 ? $" fillEmpty {RxFillRingEmpty} rxInvalid {RxInvalidDescs} txInvalid {TxInvalidDescs}" : "");
}

/// <summary>A packet I/O endpoint used by one worker.</summary>
public interface IPacketIo : IDisposable
{
    /// <summary>Counters of this endpoint.</summary>
    IoCounters Counters { get; }

    /// <summary>Fills up to <paramref name="packets"/>.Length descriptors with received frames, each
    /// copied into a frame rented from <paramref name="slab"/> at its headroom (Offset = slab
    /// headroom, at the Ethernet header; Verdict Forward; Flags from the kernel). Returns the number
    /// filled (0 when nothing is pending or the slab is empty). The caller returns the frames to the
    /// slab. Never blocks, throws or allocates.</summary>
    int Receive(Span<Packet> packets, FrameSlab slab);

    /// <summary>Transmits the data windows of <paramref name="packets"/> (each starting at an Ethernet
    /// header). Returns the number accepted; the rest were counted (TxErrors/TxQueueFull). The frames
    /// stay the caller's (the data was copied). Never blocks long, throws or allocates.</summary>
    int Transmit(ReadOnlySpan<Packet> packets);

    /// <summary>True when <see cref="Receive"/> has something to return, waiting up to
    /// <paramref name="timeoutMs"/> milliseconds (0: just check; negative: forever).</summary>
    bool WaitForReceive(int timeoutMs);

    /// <summary>Pulls kernel-side statistics (ring drops) into <see cref="Counters"/>; cheap enough to
    /// call every few batches, meant for once per millisecond or less.</summary>
    void RefreshCounters();
}

/// <summary>Batch helpers on <see cref="IPacketIo"/>.</summary>
public static class PacketIoExtensions
{
    /// <summary>Receives into <paramref name="batch"/> (replacing its contents); returns the count.</summary>
    public static int Receive(this IPacketIo io, PacketBatch batch, FrameSlab slab)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(batch);
        int n = io.Receive(batch.Slots, slab);
        batch.Count = n;
        return n;
    }

    /// <summary>Transmits the packets of <paramref name="batch"/>.</summary>
    public static int Transmit(this IPacketIo io, PacketBatch batch)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(batch);
        return io.Transmit(batch.Packets);
    }

    /// <summary>Returns the frames of the first <paramref name="count"/> packets to the slab.</summary>
    public static void ReturnAll(this FrameSlab slab, ReadOnlySpan<Packet> packets)
    {
        ArgumentNullException.ThrowIfNull(slab);
        for (int i = 0; i < packets.Length; i++) slab.Return(packets[i]);
    }
}
