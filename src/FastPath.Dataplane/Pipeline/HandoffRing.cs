using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Pipeline;

// A bounded SPSC ring of packet copies from one worker to another (VPP's handoff queue): when
// several workers share fanout ports, a packet can reach a worker that does not own its SA; that
// worker copies the packet's data window (an IP packet) into a slot here, and the owner copies it
// out into a frame of its own slab between two batches. Slabs stay private to their worker (no
// cross-thread free lists); the price is one copy of the packet each way, ~50-100 ns for 1.5 KB,
// paid only by the packets that land on the wrong worker.
//
//   slot = [length:int32][flags:byte][pad][data: up to MaxFrame bytes], 64-byte aligned slots
//   producer: tail (own line), cached head; consumer: head (own line), cached tail — as SpscRing.
// Full: the producer counts a HandoffQueueFull drop; nothing blocks.

/// <summary>Bounded SPSC ring of packet copies between two workers.</summary>
[SkipLocalsInit]
internal sealed unsafe class HandoffRing : IDisposable
{
    private const int SlotHeader = 8;
    private readonly int _capacity;
    private readonly long _mask;
    private readonly int _slotSize;
    private byte* _memory;
    private SpscIndices _i;

    public HandoffRing(int capacity, int maxFrame)
    {
        if (capacity < 2 || !BitOperations.IsPow2(capacity)) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two >= 2");
        _capacity = capacity;
        _mask = capacity - 1;
        MaxFrame = maxFrame;
        _slotSize = (SlotHeader + maxFrame + 63) & ~63;
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)capacity * (nuint)_slotSize, 64);
    }

    public int MaxFrame { get; }

    public int Count => (int)(Volatile.Read(ref _i.Tail) - Volatile.Read(ref _i.Head));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Slot(long index) => _memory + (index & _mask) * _slotSize;

    /// <summary>Producer: copies the data window of <paramref name="p"/>; false when full or too big.</summary>
    public bool TryEnqueue(in Packet p)
    {
        if ((uint)p.Length > (uint)MaxFrame) return false;
        long tail = _i.Tail;
        if (tail - _i.HeadCache >= _capacity)
        {
            _i.HeadCache = Volatile.Read(ref _i.Head);
            if (tail - _i.HeadCache >= _capacity) return false;
        }
        byte* slot = Slot(tail);
        *(int*)slot = p.Length;
        slot[4] = (byte)p.Flags;
        Buffer.MemoryCopy(p.Frame + p.Offset, slot + SlotHeader, MaxFrame, p.Length);
        Volatile.Write(ref _i.Tail, tail + 1);
        return true;
    }

    /// <summary>Consumer: fills up to <paramref name="packets"/>.Length packets with frames rented
    /// from <paramref name="slab"/> (data at the slab's headroom, verdict Forward, flags restored).</summary>
    public int Dequeue(Span<Packet> packets, FrameSlab slab)
    {
        long head = _i.Head;
        if (head == _i.TailCache)
        {
            _i.TailCache = Volatile.Read(ref _i.Tail);
            if (head == _i.TailCache) return 0;
        }
        long tail = _i.TailCache;
        int n = 0;
        int room = slab.FrameSize - slab.Headroom;
        while (head != tail && n < packets.Length)
        {
            byte* slot = Slot(head);
            int length = *(int*)slot;
            if (length > room)
            {
                head++; // cannot happen with equal frame sizes on both workers; skip rather than wedge
                continue;
            }
            if (!slab.TryRent(out Packet p)) break;
            Buffer.MemoryCopy(slot + SlotHeader, p.Frame + p.Offset, room, length);
            p.Length = length;
            p.Flags = (PacketFlags)slot[4];
            p.Verdict = PacketVerdict.Forward;
            packets[n++] = p;
            head++;
        }
        Volatile.Write(ref _i.Head, head);
        return n;
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

    ~HandoffRing()
    {
        if (_memory != null) NativeMemory.AlignedFree(_memory);
    }
}
