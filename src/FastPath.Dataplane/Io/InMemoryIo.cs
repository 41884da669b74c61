using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Io;

// In-memory packet I/O: two endpoints joined back to back, like the two ends of a veth pair —
// what one transmits the other receives. For tests and benchmarks of workers without a kernel.
//
// Each direction is a bounded single-producer/single-consumer ring of fixed-size slots in native
// memory (slot = 4-byte length + data). Transmit copies the data window of each packet into a slot
// (the sender keeps its frames, as with sendmmsg); Receive copies a slot into a frame rented from
// the receiver's FrameSlab at its headroom (as AfPacketIo does from the TPACKET ring). When the
// ring is full, Transmit stops and counts TxQueueFull; nothing blocks. Indices are published with
// Volatile reads/writes, so one thread may transmit on an endpoint while another receives on its
// peer. Zero allocation per packet and per batch. WaitForReceive spins, then sleeps 1 ms at a time,
// until the deadline (no kernel object; tests only).

/// <summary>One end of an in-memory link. Create a pair with <see cref="CreatePair"/>.</summary>
[SkipLocalsInit]
public sealed unsafe class InMemoryIo : IPacketIo
{
    /// <summary>Slots per direction by default.</summary>
    public const int DefaultCapacity = 4096;
    /// <summary>Largest frame by default (jumbo frames need more).</summary>
    public const int DefaultMaxFrame = 2048;

    private readonly Queue _tx;
    private readonly Queue _rx;
    private readonly Link _link;
    private int _disposed;

    private InMemoryIo(Link link, Queue tx, Queue rx)
    {
        _link = link;
        _tx = tx;
        _rx = rx;
    }

    /// <summary>Two endpoints joined back to back, each direction holding up to
    /// <paramref name="capacity"/> frames of at most <paramref name="maxFrame"/> bytes.</summary>
    public static (InMemoryIo A, InMemoryIo B) CreatePair(int capacity = DefaultCapacity, int maxFrame = DefaultMaxFrame)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two");
        if (maxFrame < 64) throw new ArgumentOutOfRangeException(nameof(maxFrame));
        var link = new Link(capacity, maxFrame);
        return (new InMemoryIo(link, link.AtoB, link.BtoA), new InMemoryIo(link, link.BtoA, link.AtoB));
    }

    public IoCounters Counters { get; } = new();

    /// <summary>Frames waiting to be received on this endpoint.</summary>
    public int Pending => _rx.Count;

    public int Receive(Span<Packet> packets, FrameSlab slab)
    {
        Queue q = _rx;
        long head = q.Head;
        long tail = Volatile.Read(ref q.Tail);
        int n = 0;
        long bytes = 0;
        int room = slab.FrameSize - slab.Headroom;
        while (head != tail && n < packets.Length)
        {
            byte* slot = q.Slot(head);
            int len = *(int*)slot;
            if (len > room)
            {
                Counters._rxTooBig++;
                head++;
                continue;
            }
            if (!slab.TryRent(out Packet p)) break;
            Buffer.MemoryCopy(slot + Queue.SlotHeader, p.Frame + p.Offset, room, len);
            p.Length = len;
            packets[n++] = p;
            bytes += len;
            head++;
        }
        Volatile.Write(ref q.Head, head);
        Counters._rxPackets += n;
        Counters._rxBytes += bytes;
        return n;
    }

    public int Transmit(ReadOnlySpan<Packet> packets)
    {
        Queue q = _tx;
        long tail = q.Tail;
        long head = Volatile.Read(ref q.Head);
        int sent = 0;
        long bytes = 0;
        for (int i = 0; i < packets.Length; i++)
        {
            ref readonly Packet p = ref packets[i];
            if ((uint)p.Length > (uint)q.MaxFrame)
            {
                Counters._txErrors++;
                continue;
            }
            if (tail - head == q.Capacity)
            {
                head = Volatile.Read(ref q.Head);
                if (tail - head == q.Capacity)
                {
                    Counters._txQueueFull += packets.Length - i;
                    break;
                }
            }
            byte* slot = q.Slot(tail);
            *(int*)slot = p.Length;
            Buffer.MemoryCopy(p.Frame + p.Offset, slot + Queue.SlotHeader, q.MaxFrame, p.Length);
            tail++;
            sent++;
            bytes += p.Length;
        }
        Volatile.Write(ref q.Tail, tail);
        Counters._txPackets += sent;
        Counters._txBytes += bytes;
        return sent;
    }

    public bool WaitForReceive(int timeoutMs)
    {
        if (_rx.Count > 0) return true;
        if (timeoutMs == 0) return false;
        long start = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (true)
        {
            if (_rx.Count > 0) return true;
            if (timeoutMs > 0 && Stopwatch.GetElapsedTime(start).TotalMilliseconds >= timeoutMs) return false;
            // Deliberate: an in-memory endpoint has no fd to poll, and signalling an event from every
            // Transmit would cost the sender per batch; spin briefly, then sleep 1 ms until the timeout.
            if (spin.NextSpinWillYield) Thread.Sleep(1);
            else spin.SpinOnce();
        }
    }

    /// <summary>Nothing to pull: the in-memory queues count everything as it happens.</summary>
    public void RefreshCounters() { }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _link.Release();
    }

    private sealed class Queue
    {
        public const int SlotHeader = 8;
        public readonly int Capacity;
        public readonly int MaxFrame;
        private readonly int _slotSize;
        private readonly long _mask;
        public byte* Memory;
        // Producer and consumer indices (may share a cache line: fine for tests and benchmarks of
        // one worker; a cross-core production queue would pad them apart).
        public long Tail;
        public long Head;

        public Queue(int capacity, int maxFrame)
        {
            Capacity = capacity;
            MaxFrame = maxFrame;
            _slotSize = (SlotHeader + maxFrame + 63) & ~63;
            _mask = capacity - 1;
            Memory = (byte*)NativeMemory.AlignedAlloc((nuint)capacity * (nuint)_slotSize, 64);
        }

        public int Count => (int)(Volatile.Read(ref Tail) - Volatile.Read(ref Head));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public byte* Slot(long index) => Memory + (index & _mask) * _slotSize;

        public void Free()
        {
            if (Memory != null)
            {
                NativeMemory.AlignedFree(Memory);
                Memory = null;
            }
        }
    }

    /// <summary>The two queues of a pair; freed when both endpoints are disposed (or finalized).</summary>
    private sealed class Link
    {
        public readonly Queue AtoB;
        public readonly Queue BtoA;
        private int _refs = 2;

        public Link(int capacity, int maxFrame)
        {
            AtoB = new Queue(capacity, maxFrame);
            BtoA = new Queue(capacity, maxFrame);
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _refs) == 0)
            {
                AtoB.Free();
                BtoA.Free();
                GC.SuppressFinalize(this);
            }
        }

        ~Link()
        {
            AtoB.Free();
            BtoA.Free();
        }
    }
}
