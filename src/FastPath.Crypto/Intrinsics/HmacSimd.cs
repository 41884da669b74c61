using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// HMAC for the intrinsics engine: single messages use the scalar cores (Internal/HmacCore, the same
// code as the portable engine; .NET 10 exposes no SHA-NI), and ComputeMulti hashes independent
// messages (the ESP packets of one batch) in SIMD lanes for SHA-1 and SHA-256: 16 lanes with
// AVX-512 (Lanes512), 8 with AVX2 (Lanes256; Lanes256Vl for short last groups on AVX-512 CPUs).
// MD5 and SHA-384/512 go through the scalar per-job loop.
//
// Multi-buffer HMAC of one group (MultiBufferHmac.Group):
// - per lane, its full 64-byte blocks are read straight from the packet; its last 1-2 blocks
//   (tail ‖ trailer ‖ 0x80 ‖ zeros ‖ BE64 bit length counting the ipad block) are built in a
//   128-byte per-lane stack scratch area, so the data is never copied and the trailer (ESN high
//   bits) is never appended to the packet;
// - all lanes start from the broadcast ipad state; per block step each lane's pointer is chosen
//   (packet block or scratch block), the 16 blocks are loaded, byte-swapped and transposed, and one
//   lane-parallel compression runs; lanes that have finished (mixed lengths) keep their state through
//   a mask (ActiveLanes/Select), dummy lanes of a short group are masked from the start;
// - the outer hash is exactly one block per lane whose words are the inner state itself
//   (H ‖ 0x80 ‖ 0 ‖ BE64((64 + L)·8)), built directly in registers with no transpose, from the
//   broadcast opad state; the final state is stored once and each lane's truncated ICV written
//   big-endian to its output (after all input was read: outputs may follow their data, as in ESP).
// Jobs with trailers longer than 56 bytes (not ESP; the two-block scratch would not hold them) and a
// single leftover job use the scalar path.
//
// Jobs are grouped in order, except that a window of more than one group with different lengths
// is first sorted by block count, so lanes of a group finish together (bimodal 64/1420 B x64: ~3x
// less per message than unsorted).
//
// Measured on this host (AMD Zen 4 at 2.6 GHz, 2 cores shared with other builds: load 11-17, so
// absolute numbers are noisy; ratios taken side by side in one process, best of 7; ns per message,
// HMAC-SHA-x-96 output, no trailer; BCL = HMACSHAx.HashData on OpenSSL with SHA-NI):
//                 SHA-1                              SHA-256
//   size   single  multi16   BCL   BCL/multi   single  multi16   BCL   BCL/multi
//   64       670      50    2171     44x        1654      70    1939     28x
//   576     1237     112    2625     23x        3309     156    2094     13x
//   1420    2400     217    1705      7.9x      4000     326    1810      5.6x
//   8192   12843    1111    4888      4.4x     20848    1689    5074      3.0x
// AVX2 only (DOTNET_EnableAVX512=0), 8 lanes: multi16 SHA-1 94/283/600/3145 ns (BCL/multi 14.6x,
// 4.8x, 2.9x, 1.6x), SHA-256 130/432/922/4839 ns (12.9x, 3.2x, 1.9x, 1.06x).
// `openssl speed -evp sha1 -bytes 1420` (SHA-NI, no HMAC): 1.88 GB/s = 755 ns per 1420-byte message,
// so 16 lanes hash a packet ~3.4x faster than OpenSSL's SHA-NI loop (SHA-256: 805 ns vs 326 ns).
// A 16-lane SHA-1 block step is ~370 cycles (~23 per lane-block), about the AVX-512 issue bound of
// the ~800 lane-parallel ops per block; the transpose is ~10% of it. Gathers were not measured:
// .NET 10 exposes no AVX-512 gather, and with arbitrary packet pointers (and the stack scratch
// blocks) AVX2 would need 64-bit-index VPGATHERQD, 32 per 8-lane block step, against 48 shuffles.
// Single messages use the scalar cores (~3.9 cycles/byte SHA-1, ~6.5 SHA-256). A variant with the
// message schedule precomputed 4 words at a time in SSE registers (W+K to the stack, scalar rounds)
// measured slower here (0.69x SHA-1, 0.85x SHA-256 vs the plain scalar cores), so it was dropped.
internal sealed unsafe class HmacSimd : PrecomputedHmac
{
    public HmacSimd(HashAlgorithmKind hash, ReadOnlySpan<byte> key) : base(hash, key) { }

    public override void ComputeMulti(ReadOnlySpan<MacJob> jobs)
    {
        HashAlgorithmKind hash = Hash;
        if (jobs.Length < 2 || !MultiBufferHmac.IsSupported || (hash != HashAlgorithmKind.Sha1 && hash != HashAlgorithmKind.Sha256))
        {
            base.ComputeMulti(jobs);
            return;
        }
        foreach (ref readonly MacJob job in jobs)
        {
            CheckOutput(job.OutputLength);
            if (job.Length < 0 || job.TrailerLength < 0) ThrowHelper.Length("data", Math.Min(job.Length, job.TrailerLength), "non-negative lengths");
        }
        byte* states = Keys.Pointer;
        if (hash == HashAlgorithmKind.Sha1) MultiBufferHmac.Run<Sha1MultiBuffer, Sha1Hash>(states, jobs);
        else MultiBufferHmac.Run<Sha256MultiBuffer, Sha256Hash>(states, jobs);
    }
}

/// <summary>The lane driver for multi-buffer HMAC-SHA-1/SHA-256 (see HmacSimd).</summary>
internal static unsafe class MultiBufferHmac
{
    /// <summary>Longest trailer a lane takes: tail (≤ 63) ‖ trailer ‖ 0x80 ‖ length (8) within two blocks.</summary>
    public const int MaxLaneTrailer = 128 - 63 - 1 - 8;

    private const int MaxLanes = 16;
    private const int ScratchPerLane = 128;

    public static bool IsSupported => Lanes512.IsSupported || Lanes256.IsSupported;

    /// <summary>Jobs sorted per window (bounded stack use for the sort keys).</summary>
    private const int SortWindow = 512;

    public static void Run<TLaneHash, THash>(byte* states, ReadOnlySpan<MacJob> jobs)
        where TLaneHash : ILaneHash where THash : IHashCore
    {
        for (int start = 0; start < jobs.Length; start += SortWindow)
            RunWindow<TLaneHash, THash>(states, jobs.Slice(start, Math.Min(SortWindow, jobs.Length - start)));
    }

    [SkipLocalsInit]
    private static void RunWindow<TLaneHash, THash>(byte* states, ReadOnlySpan<MacJob> jobs)
        where TLaneHash : ILaneHash where THash : IHashCore
    {
        int groupSize = Lanes512.IsSupported ? 16 : 8;
        int n = jobs.Length;
        // Order of the jobs: as given, or by block count when there is more than one group and the
        // lengths differ, so that a group's lanes finish together (a lane that is done still costs
        // its share of every block step until the group's longest message ends).
        long* order = stackalloc long[n];
        int minBlocks = int.MaxValue, maxBlocks = 0;
        for (int i = 0; i < n; i++)
        {
            int blocks = (int)(((long)jobs[i].Length + jobs[i].TrailerLength + 9 + 63) >> 6);
            minBlocks = Math.Min(minBlocks, blocks);
            maxBlocks = Math.Max(maxBlocks, blocks);
            order[i] = ((long)blocks << 32) | (uint)i;
        }
        if (n > groupSize && maxBlocks - minBlocks > 2) new Span<long>(order, n).Sort();

        int* laneJobs = stackalloc int[MaxLanes];
        int next = 0;
        while (next < n)
        {
            int count = 0;
            while (next < n && count < groupSize)
            {
                int index = (int)order[next++];
                ref readonly MacJob job = ref jobs[index];
                if (job.TrailerLength <= MaxLaneTrailer) laneJobs[count++] = index;
                else HmacCore.Compute<THash>(states, job.Data, job.Length, job.Trailer, job.TrailerLength, job.Output, job.OutputLength);
            }
            if (count == 1)
            {
                ref readonly MacJob job = ref jobs[laneJobs[0]];
                HmacCore.Compute<THash>(states, job.Data, job.Length, job.Trailer, job.TrailerLength, job.Output, job.OutputLength);
            }
            else if (count > 8 && Lanes512.IsSupported) Group<TLaneHash, Lanes512, Vector512<uint>>(states, jobs, laneJobs, count);
            else if (count > 1 && Lanes256Vl.IsSupported) Group<TLaneHash, Lanes256Vl, Vector256<uint>>(states, jobs, laneJobs, count);
            else if (count > 1) Group<TLaneHash, Lanes256, Vector256<uint>>(states, jobs, laneJobs, count);
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group<TLaneHash, TOps, TVec>(byte* states, ReadOnlySpan<MacJob> jobs, int* laneJobs, int count)
        where TLaneHash : ILaneHash where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        int lanes = TOps.Lanes;
        int stateWords = TLaneHash.StateWords;
        byte* scratch = stackalloc byte[MaxLanes * ScratchPerLane];
        byte** data = stackalloc byte*[MaxLanes];
        byte** pointers = stackalloc byte*[MaxLanes];
        int* fullBlocks = stackalloc int[MaxLanes];
        int* totalBlocks = stackalloc int[MaxLanes];
        TVec* block = stackalloc TVec[16];
        TVec* state = stackalloc TVec[8];

        int maxBlocks = 0;
        for (int j = 0; j < lanes; j++)
        {
            byte* s = scratch + ScratchPerLane * j;
            if (j < count)
            {
                ref readonly MacJob job = ref jobs[laneJobs[j]];
                int full = job.Length >> 6, tail = job.Length & 63;
                Unsafe.CopyBlockUnaligned(s, job.Data + ((nint)full << 6), (uint)tail);
                Unsafe.CopyBlockUnaligned(s + tail, job.Trailer, (uint)job.TrailerLength);
                int pos = tail + job.TrailerLength;
                s[pos++] = 0x80;
                int end = pos + 8 <= 64 ? 64 : 128;
                Unsafe.InitBlockUnaligned(s + pos, 0, (uint)(end - 8 - pos));
                ulong bits = (ulong)(64L + job.Length + job.TrailerLength) << 3;
                Unsafe.WriteUnaligned(s + end - 8, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(bits) : bits);
                data[j] = job.Data;
                fullBlocks[j] = full;
                totalBlocks[j] = full + end / 64;
                maxBlocks = Math.Max(maxBlocks, totalBlocks[j]);
            }
            else
            {
                // Dummy lane: reads its (uninitialized) scratch, masked out from the first block.
                data[j] = s;
                fullBlocks[j] = 0;
                totalBlocks[j] = 0;
            }
        }

        uint* inner = (uint*)(states + HmacCore.InnerOffset);
        for (int i = 0; i < stateWords; i++) state[i] = TOps.Broadcast(inner[i]);
        for (int b = 0; b < maxBlocks; b++)
        {
            for (int j = 0; j < lanes; j++)
            {
                int full = fullBlocks[j];
                pointers[j] = b < full ? data[j] + ((nint)b << 6) : scratch + ScratchPerLane * j + (b > full ? 64 : 0);
            }
            TOps.LoadTransposed(pointers, block);
            TLaneHash.Compress<TOps, TVec>(state, block, TOps.ActiveLanes(totalBlocks, b));
        }

        // Outer hash: one block per lane, H_inner ‖ 0x80 ‖ 0.. ‖ BE64((64 + digest) · 8), in registers.
        for (int i = 0; i < stateWords; i++) block[i] = state[i];
        block[stateWords] = TOps.Broadcast(0x80000000u);
        for (int i = stateWords + 1; i < 15; i++) block[i] = TOps.Broadcast(0);
        block[15] = TOps.Broadcast((uint)(64 + 4 * stateWords) << 3);
        uint* outer = (uint*)(states + HmacCore.OuterOffset);
        for (int i = 0; i < stateWords; i++) state[i] = TOps.Broadcast(outer[i]);
        TLaneHash.Compress<TOps, TVec>(state, block, TOps.Broadcast(uint.MaxValue));

        uint* words = (uint*)block;
        for (int i = 0; i < stateWords; i++) TOps.Store(state[i], words + i * lanes);
        for (int j = 0; j < count; j++)
        {
            ref readonly MacJob job = ref jobs[laneJobs[j]];
            byte* o = job.Output;
            int n = job.OutputLength;
            uint* w = words + j;
            for (; n >= 4; n -= 4, o += 4, w += lanes)
                Unsafe.WriteUnaligned(o, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(*w) : *w);
            for (int k = 0; k < n; k++) o[k] = (byte)(*w >> (24 - 8 * k));
        }
        CryptographicOperations.ZeroMemory(new Span<byte>(block, 16 * sizeof(TVec)));
        CryptographicOperations.ZeroMemory(new Span<byte>(state, 8 * sizeof(TVec)));
    }
}
