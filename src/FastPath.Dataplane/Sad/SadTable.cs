using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace FastPath.Dataplane.Sad;

// The inbound SAD: SPI → InboundSa, read by every worker without a lock (DESIGN.md §2, RCU-style
// publish). The table is an immutable snapshot: open addressing with linear probing over parallel
// arrays (keys, SAs), load factor ≤ 1/2, Fibonacci hashing of the SPI. SPI 0 is reserved by
// RFC 4303 §2.1 and never appears on the wire, so it marks an empty slot and a lookup of 0 misses
// naturally. The control plane builds a new snapshot for every install/remove (under a lock, off the
// data path) and publishes it with one volatile reference write; a worker reads the reference once
// per batch. An old snapshot stays valid for workers still using it and is reclaimed by the GC;
// a removed SA's transform must be disposed only after every worker has passed a quiescent point
// (end of a batch) — the caller owns that (see Remove).
//
// Inbound SPIs are chosen by this gateway (IKEv2 SPI allocation), so SPI alone identifies the SA for
// unicast (RFC 4301 §4.1); the destination is additionally compared with the SA's local address when
// one was installed (a NoState drop otherwise).

/// <summary>Lock-free-read SPI → inbound SA table with copy-on-write snapshots.</summary>
public sealed class SadTable
{
    /// <summary>One immutable version of the table.</summary>
    public sealed class Snapshot
    {
        private readonly uint[] _keys;
        private readonly InboundSa?[] _values;
        private readonly int _mask;
        private readonly int _shift;

        internal Snapshot(IReadOnlyCollection<InboundSa> sas)
        {
            int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, sas.Count * 2));
            _keys = new uint[size];
            _values = new InboundSa?[size];
            _mask = size - 1;
            _shift = 32 - BitOperations.Log2((uint)size);
            foreach (InboundSa sa in sas)
            {
                int i = Slot(sa.Spi);
                while (_keys[i] != 0) i = (i + 1) & _mask;
                _keys[i] = sa.Spi;
                _values[i] = sa;
            }
            Count = sas.Count;
        }

        public int Count { get; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int Slot(uint spi) => (int)((spi * 0x9E3779B1u) >> _shift);

        /// <summary>Prefetches the slot <see cref="Find"/> probes first for <paramref name="spi"/> (its key
        /// and its SA reference): a batch prefetches every packet's slot before looking any up.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Prefetch(uint spi)
        {
            if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
            int i = Slot(spi);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref _keys[i]));
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref _values[i]));
        }

        /// <summary>The SA with <paramref name="spi"/>, or null.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public InboundSa? Find(uint spi)
        {
            uint[] keys = _keys;
            int i = Slot(spi);
            while (true)
            {
                uint k = keys[i];
                if (k == spi) return spi != 0 ? _values[i] : null;
                if (k == 0) return null;
                i = (i + 1) & _mask;
            }
        }
    }

    private readonly object _writeLock = new();
    private readonly Dictionary<uint, InboundSa> _all = new();
    private Snapshot _current = new(Array.Empty<InboundSa>());

    /// <summary>The current snapshot (workers read it once per batch).</summary>
    public Snapshot Current => Volatile.Read(ref _current);

    public int Count => Current.Count;

    /// <summary>Installs (or replaces) an inbound SA; publishes a new snapshot.</summary>
    public void Install(InboundSa sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        lock (_writeLock)
        {
            _all[sa.Spi] = sa;
            Volatile.Write(ref _current, new Snapshot(_all.Values));
        }
    }

    /// <summary>Removes the SA with <paramref name="spi"/> and publishes a new snapshot. Returns the
    /// removed SA: dispose it only after all workers passed a quiescent point.</summary>
    public InboundSa? Remove(uint spi)
    {
        lock (_writeLock)
        {
            if (!_all.Remove(spi, out InboundSa? sa)) return null;
            Volatile.Write(ref _current, new Snapshot(_all.Values));
            return sa;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public InboundSa? Find(uint spi) => Current.Find(spi);

    private bool _staged;

    /// <summary>As <see cref="Install"/>, but the new snapshot is published only by
    /// <see cref="PublishStaged"/>: a worker applying a burst of installs (10,000 SAs at start-up)
    /// builds one snapshot per burst instead of one per SA (each is O(SAs): O(n²) otherwise).</summary>
    public void Stage(InboundSa sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        lock (_writeLock)
        {
            _all[sa.Spi] = sa;
            _staged = true;
        }
    }

    /// <summary>As <see cref="Remove"/>, published by <see cref="PublishStaged"/>.</summary>
    public InboundSa? Unstage(uint spi)
    {
        lock (_writeLock)
        {
            if (!_all.Remove(spi, out InboundSa? sa)) return null;
            _staged = true;
            return sa;
        }
    }

    /// <summary>Publishes the staged changes (if any) as one new snapshot.</summary>
    public void PublishStaged()
    {
        lock (_writeLock)
        {
            if (!_staged) return;
            _staged = false;
            Volatile.Write(ref _current, new Snapshot(_all.Values));
        }
    }
}
