using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace FastPath.Dataplane.Pipeline;

// A bounded single-producer/single-consumer ring: the control plane -> worker command channel
// (DESIGN.md §3 "per-worker SPSC rings drained between batches"), and the shape a per-worker-pair
// handoff ring (VPP's handoff) will take.
//
//   producer (one thread)                        consumer (the worker, between batches)
//   t = _tail; if t - _headCache == cap:         h = _head; if h == _tailCache:
//       _headCache = Volatile.Read(_head)            _tailCache = Volatile.Read(_tail)
//       full? -> false                               empty? -> false
//   slot[t & mask] = item                        item = slot[h & mask]; slot = default
//   Volatile.Write(_tail, t + 1)  (release)      Volatile.Write(_head, h + 1)  (release)
//
// Lock-free and wait-free on both sides: one plain store of the item, one release store of the
// index. The producer's and the consumer's indices live on separate 64-byte cache lines (with a
// private cached copy of the other side's index next to each), so the two cores only exchange a
// line when one of them actually has to look at the other's progress — once per ring-full of
// items at most, not once per item (the "cached index" trick of Rigtorp's SPSCQueue / DPDK
// rte_ring). Capacity is a power of two so the slot index is a mask, not a division.
// Several control-plane threads must serialize their TryEnqueue calls themselves (the Dataplane
// facade takes a lock per worker ring; the worker side never locks).

/// <summary>Bounded lock-free single-producer single-consumer ring (power-of-two capacity).</summary>
public sealed class SpscRing<T>
{
    private readonly T[] _slots;
    private readonly long _mask;
    private SpscIndices _i;

    /// <summary>Creates a ring of <paramref name="capacity"/> slots (a power of two, at least 2).</summary>
    public SpscRing(int capacity)
    {
        if (capacity < 2 || !BitOperations.IsPow2(capacity)) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two >= 2");
        _slots = new T[capacity];
        _mask = capacity - 1;
    }

    public int Capacity => _slots.Length;

    /// <summary>Items waiting (a racy snapshot when read by neither side).</summary>
    public int Count => (int)(Volatile.Read(ref _i.Tail) - Volatile.Read(ref _i.Head));

    /// <summary>Producer: appends <paramref name="item"/>; false when the ring is full. Never blocks or allocates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(in T item)
    {
        long tail = _i.Tail;
        if (tail - _i.HeadCache >= _slots.Length)
        {
            _i.HeadCache = Volatile.Read(ref _i.Head);
            if (tail - _i.HeadCache >= _slots.Length) return false;
        }
        _slots[tail & _mask] = item;
        Volatile.Write(ref _i.Tail, tail + 1);
        return true;
    }

    /// <summary>Consumer: takes the oldest item; false when empty. Never blocks or allocates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out T item)
    {
        long head = _i.Head;
        if (head == _i.TailCache)
        {
            _i.TailCache = Volatile.Read(ref _i.Tail);
            if (head == _i.TailCache)
            {
                item = default!;
                return false;
            }
        }
        ref T slot = ref _slots[head & _mask];
        item = slot;
        slot = default!; // drop the reference (commands carry SA objects) so the GC is not kept from them
        Volatile.Write(ref _i.Head, head + 1);
        return true;
    }
}

/// <summary>The two sides' indices of an <see cref="SpscRing{T}"/> on separate cache lines (a
/// non-generic type: explicit layout is not allowed on generic types). 64 bytes of padding in
/// front keep the consumer line off whatever the object header shares a line with.</summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct SpscIndices
{
    // Consumer line: its index and its cached view of the producer's.
    [FieldOffset(64)] public long Head;
    [FieldOffset(72)] public long TailCache;
    // Producer line.
    [FieldOffset(128)] public long Tail;
    [FieldOffset(136)] public long HeadCache;
}
