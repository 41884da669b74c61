using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// Vectorized Poly1305 bulk (RFC 8439 §2.5) for long inputs: W-way Horner in radix 2^26, W = 8 with
// AVX-512F (Vector512<ulong>) or 4 with AVX2 (Vector256<ulong>), multiplies by VPMULUDQ
// (32×32→64 per 64-bit lane). The shape is that of Goll & Gueron, "Vectorization of Poly1305 Message
// Authentication Code" (ITNG 2015) and of OpenSSL's poly1305-x86_64 AVX2/AVX-512 code; .NET exposes
// no AVX-512 IFMA, so radix 2^26 it is.
//
// Lane j of the accumulator vector A takes blocks j, j+W, j+2W, ...:
//     A = M_0 (+ h in lane 0);   A = A·r^W + M_k  (k = 1..K-1);   h = Σ_j A_j · r^(W-j)
// which equals the serial ((h + m_1)·r + m_2)·r ... of §2.5. A product of 5-limb numbers is 25
// VPMULUDQ with 5·r_k precomputed for the wrap-around (2^130 ≡ 5), then a lazy carry pass (two
// interleaved chains, limbs left slightly above 2^26, as OpenSSL does); limbs stay below 2^32, so
// VPMULUDQ's 32-bit inputs are exact, and 5 products stay below 2^60.
// The powers r^2..r^W are computed per message (the key is one-time) with the same vector product,
// lane-wise, in log2(W) + 1 dependent steps; the final per-lane multipliers r^W..r^1 come out of the
// same steps. Whatever does not fill W blocks (and the padding, lengths, final reduction) is left to
// the scalar radix-2^64 code (Internal/Poly1305), whose accumulator is handed over in both directions.
// Measured on this host (Zen 4 VM): 8 KB in 0.64 µs (8 lanes) / 1.21 µs (4 lanes) against 3.24 µs for the
// scalar radix-2^64 code; 1420 B in 180 / 272 ns against 580 ns. The crossover (set-up of the powers
// ≈ 5 vector products) is between 192 and 256 bytes for 8 lanes and between 128 and 192 for 4 lanes:
// MinBytes. Two groups per step (A·r^16 + M_k·r^8 + M_k+1, only one product on the chain) was tried
// and measured: 5% at 8 KB with 8 lanes, nothing at 1420 B, and 30% slower with 4 lanes (ymm spills),
// so the loop is throughput-bound already and stays one group per step.
internal static unsafe class Poly1305Simd
{
    private const ulong Mask26 = (1UL << 26) - 1;

    /// <summary>Inputs shorter than this go to the scalar code (the per-message power set-up does not
    /// pay for itself below; measured).</summary>
    public static int MinBytes => Avx512F.IsSupported ? MinBytes512 : MinBytes256;
    private const int MinBytes512 = 256;
    private const int MinBytes256 = 192;

    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>Absorbs the longest prefix of whole W-block groups of <paramref name="m"/> (every block full,
    /// 2^128 added) into <paramref name="poly"/>; returns the number of bytes consumed (0 when too short).</summary>
    public static nint Blocks(ref Poly1305 poly, byte* m, nint length)
    {
        if (!IsSupported || length < MinBytes) return 0;
        if (Avx512F.IsSupported) return Blocks512(ref poly, m, length);
        return Blocks256(ref poly, m, length);
    }

    // ------------------------------------------------------------------ radix 2^26 helpers (scalar)

    private static void ToLimbs(ulong lo, ulong hi, ulong top, out ulong l0, out ulong l1, out ulong l2, out ulong l3, out ulong l4)
    {
        l0 = lo & Mask26;
        l1 = (lo >> 26) & Mask26;
        l2 = ((lo >> 52) | (hi << 12)) & Mask26;
        l3 = (hi >> 14) & Mask26;
        l4 = (hi >> 40) | (top << 24);
    }

    /// <summary>Σ L_k·2^(26k) (L_k below 2^34) back into the scalar accumulator.</summary>
    private static void FromLimbs(ref Poly1305 poly, ulong l0, ulong l1, ulong l2, ulong l3, ulong l4)
    {
        // Full carry pass: L0..L3 below 2^26 afterwards, L4 takes the rest (no wrap: SetAccumulator folds).
        l1 += l0 >> 26; l0 &= Mask26;
        l2 += l1 >> 26; l1 &= Mask26;
        l3 += l2 >> 26; l2 &= Mask26;
        l4 += l3 >> 26; l3 &= Mask26;
        ulong h0 = l0 | (l1 << 26) | (l2 << 52);
        ulong h1 = (l2 >> 12) | (l3 << 14) | (l4 << 40);
        ulong h2 = l4 >> 24;
        poly.SetAccumulator(h0, h1, h2);
    }

    // ------------------------------------------------------------------ 512 bits, 8 lanes

    private struct Limbs512
    {
        public Vector512<ulong> L0, L1, L2, L3, L4;
    }

    /// <summary>d = a·r mod 2^130 - 5 lane-wise (lazy: limbs just above 2^26 allowed), s = 5·r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs512 Mul(in Limbs512 a, in Limbs512 r, in Limbs512 s)
    {
        Vector512<uint> a0 = a.L0.AsUInt32(), a1 = a.L1.AsUInt32(), a2 = a.L2.AsUInt32(), a3 = a.L3.AsUInt32(), a4 = a.L4.AsUInt32();
        Vector512<uint> r0 = r.L0.AsUInt32(), r1 = r.L1.AsUInt32(), r2 = r.L2.AsUInt32(), r3 = r.L3.AsUInt32(), r4 = r.L4.AsUInt32();
        Vector512<uint> s1 = s.L1.AsUInt32(), s2 = s.L2.AsUInt32(), s3 = s.L3.AsUInt32(), s4 = s.L4.AsUInt32();
        Vector512<ulong> d0 = Avx512F.Multiply(a0, r0) + Avx512F.Multiply(a1, s4) + Avx512F.Multiply(a2, s3) + Avx512F.Multiply(a3, s2) + Avx512F.Multiply(a4, s1);
        Vector512<ulong> d1 = Avx512F.Multiply(a0, r1) + Avx512F.Multiply(a1, r0) + Avx512F.Multiply(a2, s4) + Avx512F.Multiply(a3, s3) + Avx512F.Multiply(a4, s2);
        Vector512<ulong> d2 = Avx512F.Multiply(a0, r2) + Avx512F.Multiply(a1, r1) + Avx512F.Multiply(a2, r0) + Avx512F.Multiply(a3, s4) + Avx512F.Multiply(a4, s3);
        Vector512<ulong> d3 = Avx512F.Multiply(a0, r3) + Avx512F.Multiply(a1, r2) + Avx512F.Multiply(a2, r1) + Avx512F.Multiply(a3, r0) + Avx512F.Multiply(a4, s4);
        Vector512<ulong> d4 = Avx512F.Multiply(a0, r4) + Avx512F.Multiply(a1, r3) + Avx512F.Multiply(a2, r2) + Avx512F.Multiply(a3, r1) + Avx512F.Multiply(a4, r0);
        Vector512<ulong> mask = Vector512.Create(Mask26);
        Vector512<ulong> c;
        c = d0 >>> 26; d0 &= mask; d1 += c;
        c = d3 >>> 26; d3 &= mask; d4 += c;
        c = d1 >>> 26; d1 &= mask; d2 += c;
        c = d4 >>> 26; d4 &= mask; d0 += c + (c << 2);
        c = d2 >>> 26; d2 &= mask; d3 += c;
        c = d0 >>> 26; d0 &= mask; d1 += c;
        c = d3 >>> 26; d3 &= mask; d4 += c;
        Limbs512 d;
        d.L0 = d0; d.L1 = d1; d.L2 = d2; d.L3 = d3; d.L4 = d4;
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs512 Times5(in Limbs512 r)
    {
        Limbs512 s;
        s.L0 = r.L0 + (r.L0 << 2);
        s.L1 = r.L1 + (r.L1 << 2);
        s.L2 = r.L2 + (r.L2 << 2);
        s.L3 = r.L3 + (r.L3 << 2);
        s.L4 = r.L4 + (r.L4 << 2);
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs512 Select(Vector512<ulong> mask, in Limbs512 x, in Limbs512 y)
    {
        Limbs512 z;
        z.L0 = Vector512.ConditionalSelect(mask, x.L0, y.L0);
        z.L1 = Vector512.ConditionalSelect(mask, x.L1, y.L1);
        z.L2 = Vector512.ConditionalSelect(mask, x.L2, y.L2);
        z.L3 = Vector512.ConditionalSelect(mask, x.L3, y.L3);
        z.L4 = Vector512.ConditionalSelect(mask, x.L4, y.L4);
        return z;
    }

    /// <summary>Blocks j..j+7 (lane j = block j) of 128 bytes at <paramref name="m"/>, split into limbs, 2^128 added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs512 LoadBlocks(byte* m)
    {
        Vector512<ulong> q0 = Vector512.Load((ulong*)m), q1 = Vector512.Load((ulong*)(m + 64));
        Vector512<ulong> lo = Avx512F.PermuteVar8x64x2(q0, Vector512.Create(0UL, 2, 4, 6, 8, 10, 12, 14), q1);
        Vector512<ulong> hi = Avx512F.PermuteVar8x64x2(q0, Vector512.Create(1UL, 3, 5, 7, 9, 11, 13, 15), q1);
        Vector512<ulong> mask = Vector512.Create(Mask26);
        Limbs512 x;
        x.L0 = lo & mask;
        x.L1 = (lo >>> 26) & mask;
        x.L2 = ((lo >>> 52) | (hi << 12)) & mask;
        x.L3 = (hi >>> 14) & mask;
        x.L4 = (hi >>> 40) | Vector512.Create(1UL << 24);
        return x;
    }

    [SkipLocalsInit]
    private static nint Blocks512(ref Poly1305 poly, byte* m, nint length)
    {
        const int Lanes = 8, GroupBytes = 16 * Lanes;
        nint bulk = length & ~(nint)(GroupBytes - 1);

        // r in every lane, its powers, and the final per-lane multipliers r^8, r^7, ..., r^1.
        ToLimbs(poly.R0, poly.R1, 0, out ulong k0, out ulong k1, out ulong k2, out ulong k3, out ulong k4);
        Limbs512 r1;
        r1.L0 = Vector512.Create(k0); r1.L1 = Vector512.Create(k1); r1.L2 = Vector512.Create(k2);
        r1.L3 = Vector512.Create(k3); r1.L4 = Vector512.Create(k4);
        Limbs512 one;
        one.L0 = Vector512.Create(1UL); one.L1 = one.L2 = one.L3 = one.L4 = Vector512<ulong>.Zero;
        Limbs512 r2 = Mul(r1, r1, Times5(r1));
        Limbs512 s2 = Times5(r2);
        Limbs512 r4 = Mul(r2, r2, s2);
        Limbs512 s4 = Times5(r4);
        Limbs512 r8 = Mul(r4, r4, s4);
        Limbs512 s8 = Times5(r8);
        // exponents per lane: [2,1,2,1,2,1,2,1] · [2,2,0,0,2,2,0,0] · [4,4,4,4,0,0,0,0] = [8,7,...,1]
        Vector512<ulong> even = Vector512.Create(ulong.MaxValue, 0, ulong.MaxValue, 0, ulong.MaxValue, 0, ulong.MaxValue, 0);
        Vector512<ulong> pairs = Vector512.Create(ulong.MaxValue, ulong.MaxValue, 0, 0, ulong.MaxValue, ulong.MaxValue, 0, 0);
        Vector512<ulong> low4 = Vector512.Create(ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, 0, 0, 0, 0);
        Limbs512 f = Select(even, r2, r1);
        Limbs512 t = Select(pairs, r2, one);
        f = Mul(f, t, Times5(t));
        t = Select(low4, r4, one);
        f = Mul(f, t, Times5(t));
        Limbs512 sf = Times5(f);

        // A = M_0 + h (lane 0).
        Limbs512 a = LoadBlocks(m);
        poly.GetAccumulator(out ulong h0, out ulong h1, out ulong h2);
        ToLimbs(h0, h1, h2, out ulong g0, out ulong g1, out ulong g2, out ulong g3, out ulong g4);
        a.L0 += Vector512.CreateScalar(g0); a.L1 += Vector512.CreateScalar(g1); a.L2 += Vector512.CreateScalar(g2);
        a.L3 += Vector512.CreateScalar(g3); a.L4 += Vector512.CreateScalar(g4);

        for (nint i = GroupBytes; i < bulk; i += GroupBytes)
        {
            Limbs512 x = LoadBlocks(m + i);
            Limbs512 p = Mul(a, r8, s8);
            a.L0 = p.L0 + x.L0; a.L1 = p.L1 + x.L1; a.L2 = p.L2 + x.L2; a.L3 = p.L3 + x.L3; a.L4 = p.L4 + x.L4;
        }

        a = Mul(a, f, sf);
        FromLimbs(ref poly, Vector512.Sum(a.L0), Vector512.Sum(a.L1), Vector512.Sum(a.L2), Vector512.Sum(a.L3), Vector512.Sum(a.L4));
        return bulk;
    }

    // ------------------------------------------------------------------ 256 bits, 4 lanes

    private struct Limbs256
    {
        public Vector256<ulong> L0, L1, L2, L3, L4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs256 Mul(in Limbs256 a, in Limbs256 r, in Limbs256 s)
    {
        Vector256<uint> a0 = a.L0.AsUInt32(), a1 = a.L1.AsUInt32(), a2 = a.L2.AsUInt32(), a3 = a.L3.AsUInt32(), a4 = a.L4.AsUInt32();
        Vector256<uint> r0 = r.L0.AsUInt32(), r1 = r.L1.AsUInt32(), r2 = r.L2.AsUInt32(), r3 = r.L3.AsUInt32(), r4 = r.L4.AsUInt32();
        Vector256<uint> s1 = s.L1.AsUInt32(), s2 = s.L2.AsUInt32(), s3 = s.L3.AsUInt32(), s4 = s.L4.AsUInt32();
        Vector256<ulong> d0 = Avx2.Multiply(a0, r0) + Avx2.Multiply(a1, s4) + Avx2.Multiply(a2, s3) + Avx2.Multiply(a3, s2) + Avx2.Multiply(a4, s1);
        Vector256<ulong> d1 = Avx2.Multiply(a0, r1) + Avx2.Multiply(a1, r0) + Avx2.Multiply(a2, s4) + Avx2.Multiply(a3, s3) + Avx2.Multiply(a4, s2);
        Vector256<ulong> d2 = Avx2.Multiply(a0, r2) + Avx2.Multiply(a1, r1) + Avx2.Multiply(a2, r0) + Avx2.Multiply(a3, s4) + Avx2.Multiply(a4, s3);
        Vector256<ulong> d3 = Avx2.Multiply(a0, r3) + Avx2.Multiply(a1, r2) + Avx2.Multiply(a2, r1) + Avx2.Multiply(a3, r0) + Avx2.Multiply(a4, s4);
        Vector256<ulong> d4 = Avx2.Multiply(a0, r4) + Avx2.Multiply(a1, r3) + Avx2.Multiply(a2, r2) + Avx2.Multiply(a3, r1) + Avx2.Multiply(a4, r0);
        Vector256<ulong> mask = Vector256.Create(Mask26);
        Vector256<ulong> c;
        c = d0 >>> 26; d0 &= mask; d1 += c;
        c = d3 >>> 26; d3 &= mask; d4 += c;
        c = d1 >>> 26; d1 &= mask; d2 += c;
        c = d4 >>> 26; d4 &= mask; d0 += c + (c << 2);
        c = d2 >>> 26; d2 &= mask; d3 += c;
        c = d0 >>> 26; d0 &= mask; d1 += c;
        c = d3 >>> 26; d3 &= mask; d4 += c;
        Limbs256 d;
        d.L0 = d0; d.L1 = d1; d.L2 = d2; d.L3 = d3; d.L4 = d4;
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs256 Times5(in Limbs256 r)
    {
        Limbs256 s;
        s.L0 = r.L0 + (r.L0 << 2);
        s.L1 = r.L1 + (r.L1 << 2);
        s.L2 = r.L2 + (r.L2 << 2);
        s.L3 = r.L3 + (r.L3 << 2);
        s.L4 = r.L4 + (r.L4 << 2);
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs256 Select(Vector256<ulong> mask, in Limbs256 x, in Limbs256 y)
    {
        Limbs256 z;
        z.L0 = Vector256.ConditionalSelect(mask, x.L0, y.L0);
        z.L1 = Vector256.ConditionalSelect(mask, x.L1, y.L1);
        z.L2 = Vector256.ConditionalSelect(mask, x.L2, y.L2);
        z.L3 = Vector256.ConditionalSelect(mask, x.L3, y.L3);
        z.L4 = Vector256.ConditionalSelect(mask, x.L4, y.L4);
        return z;
    }

    /// <summary>Blocks j..j+3 (lane j = block j) of 64 bytes at <paramref name="m"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Limbs256 LoadBlocks256(byte* m)
    {
        Vector256<ulong> q0 = Vector256.Load((ulong*)m), q1 = Vector256.Load((ulong*)(m + 32));
        // unpack gives lanes (0, 2, 1, 3); VPERMQ 0xD8 restores block order.
        Vector256<ulong> lo = Avx2.Permute4x64(Avx2.UnpackLow(q0, q1), 0xD8);
        Vector256<ulong> hi = Avx2.Permute4x64(Avx2.UnpackHigh(q0, q1), 0xD8);
        Vector256<ulong> mask = Vector256.Create(Mask26);
        Limbs256 x;
        x.L0 = lo & mask;
        x.L1 = (lo >>> 26) & mask;
        x.L2 = ((lo >>> 52) | (hi << 12)) & mask;
        x.L3 = (hi >>> 14) & mask;
        x.L4 = (hi >>> 40) | Vector256.Create(1UL << 24);
        return x;
    }

    [SkipLocalsInit]
    private static nint Blocks256(ref Poly1305 poly, byte* m, nint length)
    {
        const int Lanes = 4, GroupBytes = 16 * Lanes;
        nint bulk = length & ~(nint)(GroupBytes - 1);

        ToLimbs(poly.R0, poly.R1, 0, out ulong k0, out ulong k1, out ulong k2, out ulong k3, out ulong k4);
        Limbs256 r1;
        r1.L0 = Vector256.Create(k0); r1.L1 = Vector256.Create(k1); r1.L2 = Vector256.Create(k2);
        r1.L3 = Vector256.Create(k3); r1.L4 = Vector256.Create(k4);
        Limbs256 one;
        one.L0 = Vector256.Create(1UL); one.L1 = one.L2 = one.L3 = one.L4 = Vector256<ulong>.Zero;
        Limbs256 r2 = Mul(r1, r1, Times5(r1));
        Limbs256 r4 = Mul(r2, r2, Times5(r2));
        Limbs256 s4 = Times5(r4);
        // exponents per lane: [2,1,2,1] · [2,2,0,0] = [4,3,2,1]
        Vector256<ulong> even = Vector256.Create(ulong.MaxValue, 0, ulong.MaxValue, 0);
        Vector256<ulong> pairs = Vector256.Create(ulong.MaxValue, ulong.MaxValue, 0, 0);
        Limbs256 f = Select(even, r2, r1);
        Limbs256 t = Select(pairs, r2, one);
        f = Mul(f, t, Times5(t));
        Limbs256 sf = Times5(f);

        Limbs256 a = LoadBlocks256(m);
        poly.GetAccumulator(out ulong h0, out ulong h1, out ulong h2);
        ToLimbs(h0, h1, h2, out ulong g0, out ulong g1, out ulong g2, out ulong g3, out ulong g4);
        a.L0 += Vector256.CreateScalar(g0); a.L1 += Vector256.CreateScalar(g1); a.L2 += Vector256.CreateScalar(g2);
        a.L3 += Vector256.CreateScalar(g3); a.L4 += Vector256.CreateScalar(g4);

        for (nint i = GroupBytes; i < bulk; i += GroupBytes)
        {
            Limbs256 x = LoadBlocks256(m + i);
            Limbs256 p = Mul(a, r4, s4);
            a.L0 = p.L0 + x.L0; a.L1 = p.L1 + x.L1; a.L2 = p.L2 + x.L2; a.L3 = p.L3 + x.L3; a.L4 = p.L4 + x.L4;
        }

        a = Mul(a, f, sf);
        FromLimbs(ref poly, Vector256.Sum(a.L0), Vector256.Sum(a.L1), Vector256.Sum(a.L2), Vector256.Sum(a.L3), Vector256.Sum(a.L4));
        return bulk;
    }
}
