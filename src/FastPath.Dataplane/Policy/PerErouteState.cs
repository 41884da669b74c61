using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace FastPath.Dataplane.Policy;

// Per-eroute state that workers update without locks, indexed by eroute id.
//
// Ids are small dense integers handed out by the ErouteTable. Storage is a directory of fixed
// 4096-element chunks: the control plane adds chunks (copy-on-write directory, one Volatile.Write)
// *before* it publishes a snapshot that uses the new ids, so a worker never indexes past the end
// and never allocates; chunks never move, so an increment is never lost to a resize.
// A recycled id is reset only after every worker passed a quiescent point (QuiescentState), so no
// worker can still be counting for the eroute that had the id before.

/// <summary>Implemented by per-eroute state the table must grow and reset with its ids.</summary>
public interface IPerErouteState
{
    /// <summary>Makes ids [0, capacity) addressable (control plane; may allocate).</summary>
    void EnsureCapacity(int capacity);
    /// <summary>Resets the state of a recycled id (control plane, after a grace period).</summary>
    void Reset(int id);
}

internal static class IdChunks
{
    internal const int Shift = 12;
    internal const int Size = 1 << Shift;
    internal const int Mask = Size - 1;

    internal static T[][] Grow<T>(T[][] dir, int capacity)
    {
        int need = (capacity + Size - 1) >> Shift;
        if (need <= dir.Length) return dir;
        var grown = new T[need][];
        Array.Copy(dir, grown, dir.Length);
        for (int i = dir.Length; i < need; i++) grown[i] = new T[Size];
        return grown;
    }
}

/// <summary>
/// One worker's eroute hit counters: plain increments by the owning worker (single writer), read
/// by the control plane with <see cref="Volatile"/> (64-bit reads are atomic on 64-bit hosts).
/// The table sums all workers' counters for the listing.
/// </summary>
public sealed class HitCounters : IPerErouteState
{
    private long[][] _chunks = [];

    /// <summary>Counts one hit of eroute <paramref name="id"/> (owning worker only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Count(int id)
    {
        long[][] dir = Volatile.Read(ref _chunks);
        dir[id >> IdChunks.Shift][id & IdChunks.Mask]++;
    }

    /// <summary>Counts <paramref name="n"/> hits of eroute <paramref name="id"/> (owning worker only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int id, long n)
    {
        long[][] dir = Volatile.Read(ref _chunks);
        dir[id >> IdChunks.Shift][id & IdChunks.Mask] += n;
    }

    /// <summary>This worker's count for <paramref name="id"/>.</summary>
    public long Read(int id)
    {
        long[][] dir = Volatile.Read(ref _chunks);
        return id >> IdChunks.Shift < dir.Length ? Volatile.Read(ref dir[id >> IdChunks.Shift][id & IdChunks.Mask]) : 0;
    }

    /// <inheritdoc/>
    public void EnsureCapacity(int capacity) => Volatile.Write(ref _chunks, IdChunks.Grow(_chunks, capacity));

    /// <inheritdoc/>
    public void Reset(int id)
    {
        long[][] dir = _chunks;
        if (id >> IdChunks.Shift < dir.Length) Volatile.Write(ref dir[id >> IdChunks.Shift][id & IdChunks.Mask], 0);
    }
}

/// <summary>
/// Quiescent-state tracking (RCU style) for the few things the GC cannot decide alone: when a
/// deleted eroute's id (its counters, its ACQUIRE state) may be reused. Each worker calls
/// <see cref="WorkerEpoch.Quiesce"/> between batches, before it reads the table's current snapshot,
/// and holds no snapshot across that call. A retirement tagged with epoch E is safe once every
/// online worker has quiesced at or after E. Old snapshots themselves are ordinary objects: the GC
/// reclaims them once no worker references them, which is at the latest its next quiescent point.
/// </summary>
public sealed class QuiescentState
{
    private long _epoch = 1;
    private WorkerEpoch[] _workers = [];
    private readonly object _lock = new();

    internal long Epoch => Volatile.Read(ref _epoch);

    /// <summary>Registers a worker (starts offline: call <see cref="WorkerEpoch.Quiesce"/> to go online).</summary>
    public WorkerEpoch Register()
    {
        var w = new WorkerEpoch(this);
        lock (_lock)
        {
            var grown = new WorkerEpoch[_workers.Length + 1];
            _workers.CopyTo(grown, 0);
            grown[^1] = w;
            Volatile.Write(ref _workers, grown);
        }
        return w;
    }

    /// <summary>Removes a worker (it must hold no snapshot any more).</summary>
    public void Unregister(WorkerEpoch worker)
    {
        lock (_lock) Volatile.Write(ref _workers, Array.FindAll(_workers, w => !ReferenceEquals(w, worker)));
    }

    /// <summary>Starts a new epoch and returns it: the tag of something retired now.</summary>
    internal long Advance() => Interlocked.Increment(ref _epoch);

    /// <summary>True when every online worker quiesced at or after <paramref name="epoch"/>.</summary>
    internal bool AllPassed(long epoch)
    {
        foreach (WorkerEpoch w in Volatile.Read(ref _workers))
            if (w.Observed < epoch) return false;
        return true;
    }
}

/// <summary>A worker's quiescent-point marker.</summary>
public sealed class WorkerEpoch
{
    private readonly QuiescentState _owner;
    private long _observed = long.MaxValue;

    internal WorkerEpoch(QuiescentState owner) => _owner = owner;

    internal long Observed => Volatile.Read(ref _observed);

    /// <summary>Declares a quiescent point (no snapshot held); call between batches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Quiesce() => Interlocked.Exchange(ref _observed, _owner.Epoch);

    /// <summary>Marks the worker idle (holds no snapshot until its next <see cref="Quiesce"/>).</summary>
    public void Offline() => Volatile.Write(ref _observed, long.MaxValue);
}
