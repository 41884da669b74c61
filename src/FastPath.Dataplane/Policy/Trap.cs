using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace FastPath.Dataplane.Policy;

// %trap: the first packet of a flow that matches a %trap eroute is held, the control plane gets
// one ACQUIRE per eroute (not per packet) and negotiates; when the SA arrives the control plane
// replaces the eroute's action (%trap → tun0x...@peer) and resolves the ACQUIRE, and the workers
// hand their held packets back for a fresh lookup (which now encrypts them); when negotiation
// fails they are dropped (ShuntHold). Nothing here allocates or locks on the worker side:
// - AcquireBroker (shared): one int per eroute id, (generation << 2 | state), moved by CAS:
//   Idle → Pending (the worker that wins the CAS posts the ACQUIRE) → ResolvedOk / ResolvedFail
//   (control plane) → the next trapped packet starts generation+1. ACQUIREs go through a bounded
//   multi-producer ring; when it is full the state goes back to Idle so a later packet retries.
// - TrapHoldQueue (per worker): a fixed array of held packet handles (opaque: a frame index, a
//   struct), bounded in total and per eroute; Poll (between batches) releases or drops what was
//   resolved and what waited longer than the hold timeout.

/// <summary>An ACQUIRE for the control plane: eroute id and the packet key that triggered it.</summary>
public readonly record struct AcquireEvent<TKey>(int ErouteId, long Generation, FlowKey<TKey> Trigger)
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>;

/// <summary>The shared per-eroute ACQUIRE state and the event ring to the control plane.</summary>
public sealed class AcquireBroker<TKey> : IPerErouteState
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    internal const int Idle = 0, Pending = 1, ResolvedOk = 2, ResolvedFail = 3;

    private int[][] _states = [];
    private readonly BoundedMpscRing<AcquireEvent<TKey>> _events;

    /// <summary>Creates a broker whose event ring holds <paramref name="eventCapacity"/> (power of two) ACQUIREs.</summary>
    public AcquireBroker(int eventCapacity = 1024) => _events = new BoundedMpscRing<AcquireEvent<TKey>>(eventCapacity);

    /// <summary>ACQUIREs posted but not yet read.</summary>
    public long PendingEvents => _events.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref int StateRef(int id) => ref Volatile.Read(ref _states)[id >> IdChunks.Shift][id & IdChunks.Mask];

    internal int Word(int id) => Volatile.Read(ref StateRef(id));

    /// <summary>
    /// A worker trapped a packet of eroute <paramref name="id"/>: returns the generation the packet
    /// waits for, posting the ACQUIRE if this packet is the first of that generation.
    /// </summary>
    internal int OnTrap(int id, in FlowKey<TKey> key)
    {
        ref int state = ref StateRef(id);
        while (true)
        {
            int w = Volatile.Read(ref state);
            if ((w & 3) == Pending) return w >> 2;
            int gen = (w & 3) == Idle ? w >> 2 : (w >> 2) + 1;
            int pending = (gen << 2) | Pending;
            if (Interlocked.CompareExchange(ref state, pending, w) != w) continue;
            if (!_events.TryEnqueue(new AcquireEvent<TKey>(id, gen, key)))
                Interlocked.CompareExchange(ref state, gen << 2 | Idle, pending); // ring full: let a later packet retry
            return gen;
        }
    }

    /// <summary>Control plane: takes the next ACQUIRE.</summary>
    public bool TryTakeAcquire(out AcquireEvent<TKey> acquire) => _events.TryDequeue(out acquire);

    /// <summary>
    /// Control plane: negotiation for eroute <paramref name="id"/> finished. On success, replace the
    /// eroute's action first (so released packets find the SA); held packets are then released
    /// for a new lookup, else dropped.
    /// </summary>
    public void Resolve(int id, bool success)
    {
        ref int state = ref StateRef(id);
        while (true)
        {
            int w = Volatile.Read(ref state);
            if (Interlocked.CompareExchange(ref state, (w >> 2 << 2) | (success ? ResolvedOk : ResolvedFail), w) == w) return;
        }
    }

    /// <inheritdoc/>
    public void EnsureCapacity(int capacity) => Volatile.Write(ref _states, IdChunks.Grow(_states, capacity));

    /// <inheritdoc/>
    public void Reset(int id)
    {
        if (id >> IdChunks.Shift < _states.Length) Volatile.Write(ref StateRef(id), 0);
    }
}

/// <summary>Receives held packets when their eroute is resolved or they time out.</summary>
public interface IHeldPacketSink<THandle>
{
    /// <summary>Negotiation finished: look the packet up again (it now matches the SA) and send it.</summary>
    void Release(THandle packet, int erouteId);

    /// <summary>Negotiation failed, the hold timed out or the queue was full: drop with <paramref name="reason"/>.</summary>
    void Drop(THandle packet, int erouteId, DropReason reason);
}

/// <summary>
/// One worker's held %trap packets: at most <c>capacity</c> in total and <c>perEroute</c> per
/// eroute, preallocated; single-threaded (the owning worker).
/// </summary>
public sealed class TrapHoldQueue<THandle, TKey>
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    private struct Held
    {
        public THandle Packet;
        public long Since;
        public int ErouteId;
        public int Generation;
    }

    private readonly AcquireBroker<TKey> _broker;
    private readonly Held[] _held;
    private readonly int _perEroute;
    private int _count;

    /// <summary>Creates a queue holding at most <paramref name="capacity"/> packets, <paramref name="perEroute"/> per eroute.</summary>
    public TrapHoldQueue(AcquireBroker<TKey> broker, int capacity = 256, int perEroute = 8)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perEroute, 1);
        _broker = broker;
        _held = new Held[capacity];
        _perEroute = perEroute;
    }

    /// <summary>Packets held now.</summary>
    public int Count => _count;

    /// <summary>
    /// Holds <paramref name="packet"/> for %trap eroute <paramref name="erouteId"/> (posting the
    /// ACQUIRE if it is the first). False when the queue (or this eroute's share) is full: the
    /// caller drops the packet with <see cref="DropReason.ShuntHold"/>.
    /// </summary>
    public bool Hold(int erouteId, THandle packet, in FlowKey<TKey> key, long nowTimestamp)
    {
        int gen = _broker.OnTrap(erouteId, key);
        if (_count == _held.Length) return false;
        int same = 0;
        for (int i = 0; i < _count; i++)
            if (_held[i].ErouteId == erouteId && ++same >= _perEroute) return false;
        _held[_count++] = new Held { Packet = packet, Since = nowTimestamp, ErouteId = erouteId, Generation = gen };
        return true;
    }

    /// <summary>
    /// Between batches: releases the packets whose eroute was resolved successfully (or whose
    /// generation moved on), drops those whose negotiation failed (ShuntHold) or that waited more
    /// than <paramref name="maxHoldTicks"/> (ShuntHold). Returns how many left the queue.
    /// </summary>
    public int Poll<TSink>(ref TSink sink, long nowTimestamp, long maxHoldTicks) where TSink : IHeldPacketSink<THandle>
    {
        int kept = 0, done = 0;
        for (int i = 0; i < _count; i++)
        {
            Held h = _held[i];
            int w = _broker.Word(h.ErouteId);
            int gen = w >> 2, state = w & 3;
            if (gen > h.Generation || (gen == h.Generation && state == AcquireBroker<TKey>.ResolvedOk))
            {
                sink.Release(h.Packet, h.ErouteId);
                done++;
            }
            else if ((gen == h.Generation && state == AcquireBroker<TKey>.ResolvedFail) || nowTimestamp - h.Since > maxHoldTicks)
            {
                sink.Drop(h.Packet, h.ErouteId, DropReason.ShuntHold);
                done++;
            }
            else
            {
                _held[kept++] = h;
            }
        }
        for (int i = kept; i < _count; i++) _held[i] = default;
        _count = kept;
        return done;
    }
}

/// <summary>
/// %reject: the packet is dropped (ShuntReject) and an ICMP destination unreachable may be sent.
/// This token bucket decides whether to send one (the ICMP is built by the dataplane): at most
/// <c>burst</c> at once, refilled at <c>perSecond</c>. One per worker (single-threaded, no atomics).
/// </summary>
public sealed class RejectRateLimiter
{
    private readonly double _tokensPerTick;
    private readonly double _burst;
    private double _tokens;
    private long _last;

    /// <summary>Allows <paramref name="perSecond"/> ICMP replies per second with bursts of <paramref name="burst"/>.</summary>
    public RejectRateLimiter(double perSecond = 100, int burst = 10, long nowTimestamp = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _tokensPerTick = perSecond / System.Diagnostics.Stopwatch.Frequency;
        _burst = burst;
        _tokens = burst;
        _last = nowTimestamp;
    }

    /// <summary>True when an ICMP unreachable may be sent now (<paramref name="nowTimestamp"/> = Stopwatch.GetTimestamp()).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ShouldSendUnreachable(long nowTimestamp)
    {
        long elapsed = nowTimestamp - _last;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_burst, _tokens + elapsed * _tokensPerTick);
            _last = nowTimestamp;
        }
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }
}

/// <summary>Bounded multi-producer single-consumer ring (D. Vyukov's sequence-numbered cells).</summary>
internal sealed class BoundedMpscRing<T>
{
    private struct Cell
    {
        public long Sequence;
        public T Item;
    }

    private readonly Cell[] _cells;
    private readonly long _mask;
    private long _enqueue;
    private long _dequeue;

    public BoundedMpscRing(int capacity)
    {
        if (capacity < 2 || !BitOperations.IsPow2(capacity)) throw new ArgumentException("capacity must be a power of two ≥ 2", nameof(capacity));
        _cells = new Cell[capacity];
        for (int i = 0; i < capacity; i++) _cells[i].Sequence = i;
        _mask = capacity - 1;
    }

    public long Count => Volatile.Read(ref _enqueue) - Volatile.Read(ref _dequeue);

    public bool TryEnqueue(in T item)
    {
        while (true)
        {
            long pos = Volatile.Read(ref _enqueue);
            ref Cell cell = ref _cells[pos & _mask];
            long dif = Volatile.Read(ref cell.Sequence) - pos;
            if (dif == 0)
            {
                if (Interlocked.CompareExchange(ref _enqueue, pos + 1, pos) == pos)
                {
                    cell.Item = item;
                    Volatile.Write(ref cell.Sequence, pos + 1);
                    return true;
                }
            }
            else if (dif < 0)
            {
                return false;
            }
        }
    }

    public bool TryDequeue(out T item)
    {
        long pos = _dequeue;
        ref Cell cell = ref _cells[pos & _mask];
        if (Volatile.Read(ref cell.Sequence) != pos + 1)
        {
            item = default!;
            return false;
        }
        item = cell.Item;
        cell.Item = default!;
        Volatile.Write(ref cell.Sequence, pos + _mask + 1);
        Volatile.Write(ref _dequeue, pos + 1);
        return true;
    }
}
