using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Esp;

// Anti-replay window of one inbound SA (RFC 4303 §3.4.3) with 64-bit extended sequence numbers
// (RFC 4303 §2.2.1, Appendix A) and the bitmap layout of RFC 6479: the bitmap is a ring of 64-bit
// blocks; sequence number s lives in block (s / 64) mod N, bit s mod 64. Advancing the window only
// clears the blocks the top moved across (at most N, usually none or one) instead of shifting the
// whole bitmap, so a 4096-packet window costs the same per packet as a 64-packet one. N is a power
// of two with N·64 ≥ W + 64, so the lowest block of the window never shares its slot with the top.
//
// Two-phase use, as RFC 4303 §3.4.3 requires: Check() before decryption (cheap rejection of
// duplicates and old packets, and, with ESN, inference of the high 32 bits that the ICV covers),
// and CheckAndUpdate() only after the ICV verified. A forged packet therefore never moves the
// window. CheckAndUpdate re-checks because two copies of one sequence number may both pass Check in
// one batch before either is committed.
//
// ESN inference (RFC 4303 Appendix A2.2): with T the highest authenticated sequence number (Th|Tl)
// and W the window size,
//   case A (Tl ≥ W − 1): Seql ≥ Tl − W + 1 → Seqh = Th, else Seqh = Th + 1 (the counter wrapped);
//   case B (Tl < W − 1): Seql ≥ Tl − W + 1 (mod 2^32) → Seqh = Th − 1, else Seqh = Th.
// A guess that is wrong simply fails the ICV (the high bits are in it) and is counted as an
// integrity failure, again without touching the window.
//
// Owned by one worker (DESIGN.md: SA ownership): no locks, no atomics.

/// <summary>The anti-replay window of one inbound SA.</summary>
public sealed class ReplayWindow
{
    public const int MinSize = 32;
    public const int MaxSize = 65536;

    private readonly ulong[] _blocks;
    private readonly int _blockMask;
    private ulong _top; // highest authenticated sequence number; 0 = none yet

    public ReplayWindow(int size, bool esn)
    {
        if (size < MinSize || size > MaxSize) throw new ArgumentOutOfRangeException(nameof(size), size, $"replay window must be {MinSize}..{MaxSize} packets");
        Size = size;
        Esn = esn;
        int blocks = (int)BitOperations.RoundUpToPowerOf2((uint)((size + 63) / 64 + 1));
        _blocks = new ulong[blocks];
        _blockMask = blocks - 1;
    }

    /// <summary>Window size W in packets.</summary>
    public int Size { get; }

    public bool Esn { get; }

    /// <summary>The highest authenticated sequence number (64-bit with ESN).</summary>
    public ulong Top => _top;

    /// <summary>Prefetches the bitmap word around the top of the window (where in-order packets land);
    /// for multi-SA batches, once this object's line is in cache.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal unsafe void PrefetchTop()
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        ulong[] b = _blocks;
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(System.Runtime.CompilerServices.Unsafe.AsPointer(ref b[(int)(_top >> 6) & _blockMask]));
    }

    /// <summary>Before decryption: infers the full sequence number from the low 32 bits on the wire
    /// and says whether it may be new. False = a duplicate, left of the window, or (without ESN)
    /// sequence number 0, which is never sent (RFC 4303 §3.3.3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Check(uint sequenceLow, out ulong sequence)
    {
        if (!Esn)
        {
            sequence = sequenceLow;
            if (sequenceLow == 0) return false;
        }
        else
        {
            uint tl = (uint)_top, th = (uint)(_top >> 32);
            uint w = (uint)Size;
            uint bottom = tl - w + 1; // wraps in case B, as Appendix A intends
            uint sh;
            if (tl >= w - 1)
            {
                sh = sequenceLow >= bottom ? th : th + 1;
                if (sh == 0 && th != 0) { sequence = 0; return false; } // the 64-bit space is exhausted
            }
            else
            {
                if (sequenceLow >= bottom)
                {
                    if (th == 0) { sequence = 0; return false; } // would be below zero: too old
                    sh = th - 1;
                }
                else sh = th;
            }
            sequence = ((ulong)sh << 32) | sequenceLow;
            if (sequence == 0) return false;
        }
        return IsNew(sequence);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsNew(ulong sequence)
    {
        if (sequence > _top) return true;
        if (_top - sequence >= (ulong)Size) return false; // left of the window
        ulong block = _blocks[(int)(sequence >> 6) & _blockMask];
        return (block & (1UL << (int)(sequence & 63))) == 0;
    }

    /// <summary>After the ICV verified: checks again and marks <paramref name="sequence"/> seen,
    /// advancing the window when it is the new top. False = replay (nothing changed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool CheckAndUpdate(ulong sequence)
    {
        if (sequence == 0 || !IsNew(sequence)) return false;
        if (sequence > _top)
        {
            ulong oldBlock = _top >> 6, newBlock = sequence >> 6;
            ulong diff = newBlock - oldBlock;
            if (diff != 0)
            {
                if (diff > (ulong)_blocks.Length) diff = (ulong)_blocks.Length;
                for (ulong i = 1; i <= diff; i++) _blocks[(int)(oldBlock + i) & _blockMask] = 0;
            }
            _top = sequence;
        }
        _blocks[(int)(sequence >> 6) & _blockMask] |= 1UL << (int)(sequence & 63);
        return true;
    }

    /// <summary>For tests and rekey bookkeeping: starts the window at a given top (e.g. to exercise
    /// the 2^32 ESN rollover without sending four billion packets).</summary>
    public void Reset(ulong top)
    {
        Array.Clear(_blocks);
        _top = top;
        if (top != 0) _blocks[(int)(top >> 6) & _blockMask] = 1UL << (int)(top & 63);
    }
}
