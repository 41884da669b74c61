using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Crypto.Esp;

// Which cache lines of an SA's key material a packet will touch, so a dataplane that processes a
// batch of packets of many different SAs (VPP/DPDK style: look every SA up first, prefetch a few
// packets ahead, then do the crypto) can have them in flight before the crypto needs them.
//
//   Block: the 64-byte aligned native key buffer of the keyed cipher (it never moves, so the address
//   can be copied into the SA's runtime struct at install); bit k of a mask = line Block + 64·k.
//   SmallMask: the lines a short packet (payload ≤ 128 bytes) uses, LargeMask those of a long one.
//   For AES-GCM (AesGcmNi): the round keys (lines 0..3) and the low powers of H with their Karatsuba
//   values (H^1..H^8); a long packet also the powers up to H^33 of the bulk loop and Finish512.
// A default value (Block 0) prefetches nothing (engines whose keys live in managed objects or in
// OpenSSL). Prefetching is a hint: a stale or freed address costs a wasted line, never a fault.

/// <summary>The key lines one packet of an SA touches (see the file comment); copied by value.</summary>
public readonly unsafe struct KeyPrefetch
{
    /// <summary>Payloads up to this many bytes use <see cref="SmallMask"/>.</summary>
    public const int SmallPayload = 128;

    public readonly nint Block;
    public readonly ulong SmallMask;
    public readonly ulong LargeMask;

    public KeyPrefetch(nint block, ulong smallMask, ulong largeMask)
    {
        Block = block; SmallMask = smallMask; LargeMask = largeMask;
    }

    /// <summary>A mask of the lines covering bytes [offset, offset + length) of the block.</summary>
    public static ulong Lines(int offset, int length)
    {
        if (length <= 0) return 0;
        int first = offset >> 6, last = (offset + length - 1) >> 6;
        if (last > 63) throw new ArgumentOutOfRangeException(nameof(length), "a key block of at most 4 KiB");
        ulong upTo = last == 63 ? ulong.MaxValue : (1UL << (last + 1)) - 1;
        return upTo & ~((1UL << first) - 1);
    }

    /// <summary>Issues the prefetches for a packet of <paramref name="payloadLength"/> bytes (PREFETCHT0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int payloadLength)
    {
        if (!Sse.IsSupported || Block == 0) return;
        ulong m = payloadLength <= SmallPayload ? SmallMask : LargeMask;
        byte* b = (byte*)Block;
        while (m != 0)
        {
            Sse.Prefetch0(b + 64 * BitOperations.TrailingZeroCount(m));
            m &= m - 1;
        }
    }

    /// <summary>Prefetches the first line of a managed object (its header and first fields). The
    /// address is only a hint: the GC may move the object at any time afterwards.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchObject(object? o)
    {
        if (!Sse.IsSupported || o is null) return;
        Sse.Prefetch0((void*)Unsafe.As<object, nint>(ref o));
    }

    /// <summary>As <see cref="PrefetchObject"/>, the lines of the first 192 bytes (an SA object: its
    /// fields span three lines at an arbitrary alignment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchObject3(object? o)
    {
        if (!Sse.IsSupported || o is null) return;
        byte* p = (byte*)Unsafe.As<object, nint>(ref o);
        Sse.Prefetch0(p);
        Sse.Prefetch0(p + 64);
        Sse.Prefetch0(p + 128);
    }
}
