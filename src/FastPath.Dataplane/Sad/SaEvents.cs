using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace FastPath.Dataplane.Sad;

// Events from the data path to the control plane (DESIGN.md §3: "one multi-producer ring back"):
// soft/hard lifetime reached, sequence number exhausted. Workers must never block or allocate, so
// the queue is a bounded multi-producer/single-consumer ring (D. Vyukov's bounded MPMC queue
// algorithm, used with one consumer): a slot's sequence stamp says whether it is free for the
// producer at ticket t (stamp == t) or full for the consumer (stamp == t + 1). A full queue drops
// the event and counts it (Overflows); each SA raises each event kind once, so the ring only needs
// to hold one burst of expiries.

public enum SaDirection : byte { Inbound, Outbound }

public enum SaEventKind : byte
{
    /// <summary>Soft byte or packet lifetime reached: the control plane should rekey.</summary>
    SoftLifetime,
    /// <summary>Hard lifetime reached: the SA no longer carries traffic (drops are LifetimeExpired).</summary>
    HardLifetime,
    /// <summary>Outbound sequence number exhausted (RFC 4303 §3.3.3): the SA stopped (drops are SeqCycled).</summary>
    SequenceExhausted,
}

/// <summary>One data-path event about an SA.</summary>
public readonly record struct SaEvent(SaEventKind Kind, SaDirection Direction, uint Spi, ulong Packets, ulong Bytes);

/// <summary>Bounded lock-free multi-producer, single-consumer event ring.</summary>
public sealed class SaEventQueue
{
    private struct Slot
    {
        public long Stamp;
        public SaEvent Event;
    }

    private readonly Slot[] _slots;
    private readonly int _mask;
    private long _enqueue;
    private long _dequeue;
    private long _overflows;

    public SaEventQueue(int capacity = 1024)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two ≥ 2");
        _slots = new Slot[capacity];
        for (int i = 0; i < capacity; i++) _slots[i].Stamp = i;
        _mask = capacity - 1;
    }

    public int Capacity => _slots.Length;

    /// <summary>Events lost because the ring was full.</summary>
    public long Overflows => Volatile.Read(ref _overflows);

    /// <summary>Enqueues from any thread; false (and counted) when full. Never blocks.</summary>
    public bool TryEnqueue(in SaEvent e)
    {
        long ticket = Volatile.Read(ref _enqueue);
        while (true)
        {
            ref Slot slot = ref _slots[(int)ticket & _mask];
            long stamp = Volatile.Read(ref slot.Stamp);
            long diff = stamp - ticket;
            if (diff == 0)
            {
                long seen = Interlocked.CompareExchange(ref _enqueue, ticket + 1, ticket);
                if (seen == ticket)
                {
                    slot.Event = e;
                    Volatile.Write(ref slot.Stamp, ticket + 1);
                    return true;
                }
                ticket = seen;
            }
            else if (diff < 0)
            {
                Interlocked.Increment(ref _overflows);
                return false;
            }
            else ticket = Volatile.Read(ref _enqueue);
        }
    }

    /// <summary>Dequeues on the single consumer (the control plane).</summary>
    public bool TryDequeue(out SaEvent e)
    {
        long ticket = _dequeue;
        ref Slot slot = ref _slots[(int)ticket & _mask];
        if (Volatile.Read(ref slot.Stamp) != ticket + 1)
        {
            e = default;
            return false;
        }
        e = slot.Event;
        Volatile.Write(ref slot.Stamp, ticket + _slots.Length);
        _dequeue = ticket + 1;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void Raise(SaEventKind kind, SaDirection direction, uint spi, ulong packets, ulong bytes) =>
        TryEnqueue(new SaEvent(kind, direction, spi, packets, bytes));
}
