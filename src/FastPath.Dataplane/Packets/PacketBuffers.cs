using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Packets;

// Frames and batches: where packets live while a worker processes them.
//
// A FrameSlab is one aligned native block cut into fixed-size frames (2 KiB by default), owned by
// one worker: no GC object per packet, no pinning, addresses never move, so the crypto can be
// handed raw pointers (EspPacket). Each frame reserves headroom in front of the data (outer IP
// header + UDP + ESP header + IV: 40 + 8 + 8 + 16 = 72 bytes at most; 128 by default) and tailroom
// behind it (ESP padding up to 255 + pad length + next header + ICV up to 32), so encapsulation and
// decapsulation only move the data offset and never copy the payload (VPP's vlib_buffer_t
// pre-data, DPDK's rte_mbuf headroom).
//
// A PacketBatch is a fixed-capacity array of Packet descriptors (pointer, offset, length, verdict)
// allocated once per worker. The engine processes a whole batch per call and writes a verdict per
// packet; nothing is allocated per packet or per batch.

/// <summary>What the engine decided for one packet.</summary>
public enum PacketVerdict : byte
{
    /// <summary>Processed; forward the (now encapsulated or decapsulated) data.</summary>
    Forward = 0,
    /// <summary>Dropped; <see cref="Packet.Drop"/> says why (one counter was incremented).</summary>
    Drop,
    /// <summary>IKE on UDP 4500 (non-ESP marker, RFC 3948 §2.2): hand to the control plane untouched.</summary>
    ToControlPlane,
    /// <summary>Not ESP (neither protocol 50 nor UDP to the NAT-T port): the caller decides.</summary>
    NotEsp,
}

/// <summary>Per-packet facts from the receiving I/O layer.</summary>
[Flags]
public enum PacketFlags : byte
{
    None = 0,
    /// <summary>The kernel left the L4 checksum incomplete (CHECKSUM_PARTIAL; AF_PACKET
    /// TP_STATUS_CSUMNOTREADY, typical on veth): the pseudo-header sum is in the checksum field
    /// and the gateway must complete it before forwarding or encrypting (docs/io.md, IO.md #1).</summary>
    ChecksumNotReady = 1,
    /// <summary>The kernel verified the L4 checksum (TP_STATUS_CSUM_VALID).</summary>
    ChecksumValid = 2,
}

/// <summary>One packet of a batch: a frame (base pointer and size) and the data window inside it.</summary>
public unsafe struct Packet
{
    /// <summary>Start of the frame (headroom begins here).</summary>
    public byte* Frame;
    /// <summary>Frame size in bytes (headroom + data + tailroom).</summary>
    public int FrameSize;
    /// <summary>Offset of the first data byte from <see cref="Frame"/>.</summary>
    public int Offset;
    /// <summary>Data length in bytes.</summary>
    public int Length;
    public PacketVerdict Verdict;
    /// <summary>Why, when <see cref="Verdict"/> is <see cref="PacketVerdict.Drop"/>.</summary>
    public DropReason Drop;
    /// <summary>What the receiving I/O knew about the frame (fits in the struct's padding: the
    /// descriptor stays 24 bytes).</summary>
    public PacketFlags Flags;

    public readonly byte* Data => Frame + Offset;
    public readonly Span<byte> Span => new(Frame + Offset, Length);
    public readonly int Headroom => Offset;
    public readonly int Tailroom => FrameSize - Offset - Length;

    /// <summary>Marks the packet dropped for <paramref name="reason"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetDrop(DropReason reason)
    {
        Verdict = PacketVerdict.Drop;
        Drop = reason;
    }
}

/// <summary>A per-worker slab of fixed-size frames in aligned native memory, with a free list.
/// Not thread-safe: one worker owns it.</summary>
public sealed unsafe class FrameSlab : IDisposable
{
    public const int DefaultFrameSize = 2048;
    public const int DefaultHeadroom = 128;

    private byte* _memory;
    private readonly int[] _free;
    private int _freeCount;

    public FrameSlab(int frameCount, int frameSize = DefaultFrameSize, int headroom = DefaultHeadroom)
    {
        if (frameCount <= 0) throw new ArgumentOutOfRangeException(nameof(frameCount));
        if (frameSize < 256 || frameSize % 64 != 0) throw new ArgumentOutOfRangeException(nameof(frameSize), "a multiple of 64, at least 256");
        if (headroom < 0 || headroom >= frameSize) throw new ArgumentOutOfRangeException(nameof(headroom));
        FrameCount = frameCount;
        FrameSize = frameSize;
        Headroom = headroom;
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)frameCount * (nuint)frameSize, 64);
        NativeMemory.Clear(_memory, (nuint)frameCount * (nuint)frameSize);
        _free = new int[frameCount];
        for (int i = 0; i < frameCount; i++) _free[i] = frameCount - 1 - i;
        _freeCount = frameCount;
    }

    public int FrameCount { get; }
    public int FrameSize { get; }
    public int Headroom { get; }
    public int FreeCount => _freeCount;

    /// <summary>The frame with index <paramref name="index"/>.</summary>
    public byte* FrameAt(int index) => _memory + (nint)index * FrameSize;

    /// <summary>Takes a free frame and describes it as an empty packet with the default headroom;
    /// false when the slab is exhausted.</summary>
    public bool TryRent(out Packet packet)
    {
        if (_freeCount == 0)
        {
            packet = default;
            return false;
        }
        int index = _free[--_freeCount];
        packet = new Packet { Frame = FrameAt(index), FrameSize = FrameSize, Offset = Headroom, Length = 0 };
        return true;
    }

    /// <summary>Returns the frame of <paramref name="packet"/> to the free list.</summary>
    public void Return(in Packet packet)
    {
        long index = (packet.Frame - _memory) / FrameSize;
        if ((ulong)index >= (ulong)FrameCount || _freeCount == FrameCount) throw new ArgumentException("not a rented frame of this slab", nameof(packet));
        _free[_freeCount++] = (int)index;
    }

    public void Dispose()
    {
        if (_memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
        GC.SuppressFinalize(this);
    }

    ~FrameSlab()
    {
        if (_memory != null) NativeMemory.AlignedFree(_memory);
    }
}

/// <summary>A batch of packet descriptors, allocated once per worker (capacity fixed).</summary>
public sealed class PacketBatch
{
    public const int DefaultCapacity = 256;

    private readonly Packet[] _packets;

    public PacketBatch(int capacity = DefaultCapacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity));
        _packets = new Packet[capacity];
    }

    public int Capacity => _packets.Length;

    /// <summary>Number of packets in the batch.</summary>
    public int Count { get; set; }

    public ref Packet this[int index] => ref _packets[index];

    public Span<Packet> Packets => _packets.AsSpan(0, Count);

    /// <summary>All <see cref="Capacity"/> descriptors (what an I/O Receive fills before setting <see cref="Count"/>).</summary>
    public Span<Packet> Slots => _packets.AsSpan();

    /// <summary>Appends a packet (false when full).</summary>
    public bool TryAdd(in Packet packet)
    {
        if (Count == _packets.Length) return false;
        _packets[Count++] = packet;
        return true;
    }

    public void Clear() => Count = 0;
}
