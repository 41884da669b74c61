using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Crypto.Intrinsics;

// GHASH (NIST SP 800-38D §6.4) with carry-less multiplication (PCLMULQDQ / VPCLMULQDQ).
//
// Representation: GHASH's bit order is reflected (the most significant bit of byte 0 is the
// coefficient of x^0, SP 800-38D §6.3). Instead of bit-reflecting, we work in the POLYVAL field
// (RFC 8452 §3, Appendix A): GHASH(H, X1..Xn) = ByteReverse(POLYVAL(mulX(ByteReverse(H)),
// ByteReverse(X1), ..., ByteReverse(Xn))). Byte-reversing a block (one PSHUFB) makes it a
// little-endian 128-bit integer whose bit i is the coefficient of x^i, POLYVAL's field is
// GF(2^128) mod P(x) = x^128 + x^127 + x^126 + x^121 + 1, and POLYVAL's product is the Montgomery
// product dot(a, b) = a·b·x^-128 mod P, which reduces with two 64x64 carry-less multiplies by
// the constant 0xC200000000000000 (x^63 + x^62 + x^57) and no bit shifts.
//
// Aggregated reduction: for n blocks with accumulator S, S' = (S + X1)·H^n + X2·H^(n-1) + ... + Xn·H;
// the 256-bit unreduced products are XORed and reduced once. Powers H^1..H^33 (in the POLYVAL
// domain, H^k = dot(H^(k-1), H)) are precomputed at keying (33 = AesGcmNi.Finish512: 3 batches, a
// tail of up to 8 blocks and the length block), stored descending (entry i holds H^(33-i)) so that
// 8 consecutive entries load straight into [H^8,H^7,H^6,H^5] ‖ [H^4..H^1] vectors. Measured on this host (AMD Zen 4): the 512-bit paths use schoolbook products (4
// multiplies per block, ~4% faster in the stitched loop than Karatsuba, whose 3 multiplies need
// extra shuffles); the 128-bit per-block path used for short inputs uses Karatsuba (3 multiplies,
// lo^hi of each power precomputed).
// Final() absorbs everything after the bulk loop (last 8 ciphertext blocks, AAD and tail of short
// messages, the length block) with a single reduction, since per-packet latency matters for ESP.
// Paths: Pclmulqdq.V512 (4 blocks per instruction), Pclmulqdq.V256 (2 blocks), Pclmulqdq (1),
// chosen by IsSupported, capped by FASTPATH_GHASH (GhashPath.cs; static readonly, so still JIT-time
// constants in tier-1 code and only one path is compiled).
internal static unsafe class Ghash
{
    /// <summary>Number of precomputed powers of H.</summary>
    public const int Powers = 33;

    /// <summary>Bytes of the table: powers H^24..H^1, then their Karatsuba halves (lo ^ hi of each power,
    /// in both 64-bit halves) in the same order.</summary>
    public const int TableBytes = 2 * Powers * 16;

    public static bool IsSupported => Pclmulqdq.IsSupported && Ssse3.IsSupported;

    /// <summary>Whether the 512-bit VPCLMULQDQ path is used (AES-GCM stitches it into its loop). A static
    /// readonly field read once (GhashPath: the CPU, capped by FASTPATH_GHASH), which tier-1 code
    /// folds to a constant like an IsSupported check, so only one path is compiled.</summary>
    public static bool Use512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => GhashPath.Use512;
    }

    /// <summary>Whether the 256-bit VPCLMULQDQ path is used (when Use512 is false).</summary>
    public static bool Use256
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => GhashPath.Use256;
    }

    public static Vector128<byte> ReverseMask
    {
        // Forced inline: a call left in a large method makes the JIT spill every live vector around it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    }

    /// <summary>The 16-byte reversal in each 128-bit lane of a 512-bit vector, written out so the JIT
    /// emits it as a constant (Vector512.Create(Vector128) is built on the stack at run time).</summary>
    public static Vector512<byte> ReverseMask512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    }

    /// <summary>ByteReverse of a block: GCM byte order to the POLYVAL-domain integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Reverse(Vector128<byte> block) => Ssse3.Shuffle(block, ReverseMask).AsUInt64();

    /// <summary>The POLYVAL-domain accumulator back to GCM byte order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> ToBlock(Vector128<ulong> acc) => Ssse3.Shuffle(acc.AsByte(), ReverseMask);

    /// <summary>Pointer to H^n (1 ≤ n ≤ 16) in the descending table; H^n..H^1 follow it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* PowerPtr(byte* table, int n) => table + 16 * (Powers - n);

    /// <summary>Pointer to the Karatsuba value of H^n (H^n.lo ^ H^n.hi); those of H^(n-1)..H^1 follow it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* KaratsubaPtr(byte* table, int n) => table + 16 * (2 * Powers - n);

    /// <summary>Fills the table from H = E(K, 0^128) (16 bytes, GCM byte order).</summary>
    public static void Init(ReadOnlySpan<byte> h, byte* table)
    {
        // ByteReverse(H) as a little-endian integer: low half = BE64(H[8..16]), high = BE64(H[0..8]).
        ulong hi = BinaryPrimitives.ReadUInt64BigEndian(h);
        ulong lo = BinaryPrimitives.ReadUInt64BigEndian(h[8..]);
        // mulX_POLYVAL (RFC 8452 Appendix A): shift left one bit, reduce by x^128 = x^127+x^126+x^121+1.
        ulong carry = 0UL - (hi >> 63);
        hi = (hi << 1) | (lo >> 63);
        lo <<= 1;
        hi ^= carry & 0xC200000000000000UL;
        lo ^= carry & 1UL;
        Vector128<ulong> h1 = Vector128.Create(lo, hi);
        Vector128<ulong> p = h1;
        h1.Store((ulong*)PowerPtr(table, 1));
        for (int n = 2; n <= Powers; n++)
        {
            p = Multiply(p, h1);
            p.Store((ulong*)PowerPtr(table, n));
        }
        for (int n = 1; n <= Powers; n++)
        {
            Vector128<ulong> q = Vector128.Load((ulong*)PowerPtr(table, n));
            ulong k = q.GetElement(0) ^ q.GetElement(1);
            Vector128.Create(k, k).Store((ulong*)KaratsubaPtr(table, n));
        }
    }

    /// <summary>POLYVAL dot(a, b) = a·b·x^-128 mod P.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Multiply(Vector128<ulong> a, Vector128<ulong> b)
    {
        Vector128<ulong> lo = Pclmulqdq.CarrylessMultiply(a, b, 0x00);
        Vector128<ulong> hi = Pclmulqdq.CarrylessMultiply(a, b, 0x11);
        Vector128<ulong> mid = Pclmulqdq.CarrylessMultiply(a, b, 0x01) ^ Pclmulqdq.CarrylessMultiply(a, b, 0x10);
        return Reduce(lo, hi, mid);
    }

    /// <summary>Montgomery reduction of the 256-bit product hi·x^128 + mid·x^64 + lo (each part a 128-bit
    /// carry-less product) to dot = product·x^-128 mod P. Let [X1:X0] = lo ^ (mid &lt;&lt; 64):
    /// X0·x^-64 ≡ X0·x^64 + X0·(x^63+x^62+x^57), since P ≡ 1 mod x^64; applied twice, then the high
    /// 128 bits are added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Reduce(Vector128<ulong> lo, Vector128<ulong> hi, Vector128<ulong> mid)
    {
        Vector128<ulong> poly = Vector128.Create(0xC200000000000000UL, 0UL);
        Vector128<ulong> x01 = lo ^ Sse2.ShiftLeftLogical128BitLane(mid, 8);
        Vector128<ulong> x23 = hi ^ Sse2.ShiftRightLogical128BitLane(mid, 8);
        // [B1:B0] = [X0 ^ A1 : X1 ^ A0] with A = X0·c
        Vector128<ulong> b = Sse2.Shuffle(x01.AsUInt32(), 0x4E).AsUInt64() ^ Pclmulqdq.CarrylessMultiply(x01, poly, 0x00);
        // [D1:D0] = [B0 ^ C1 : B1 ^ C0] with C = B0·c
        Vector128<ulong> d = Sse2.Shuffle(b.AsUInt32(), 0x4E).AsUInt64() ^ Pclmulqdq.CarrylessMultiply(b, poly, 0x00);
        return x23 ^ d;
    }

    /// <summary>Absorbs 8 blocks (128 bytes, GCM byte order) with one reduction:
    /// (acc + X1)·H^8 + X2·H^7 + ... + X8·H.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Update8(Vector128<ulong> acc, byte* data, byte* table)
    {
        byte* h = PowerPtr(table, 8);
        if (Use512)
        {
            Vector512<byte> mask = ReverseMask512;
            Vector512<ulong> x0 = Avx512BW.Shuffle(Vector512.Load(data), mask).AsUInt64() ^ acc.ToVector256().ToVector512();
            Vector512<ulong> x1 = Avx512BW.Shuffle(Vector512.Load(data + 64), mask).AsUInt64();
            return Reduce512(x0, x1, Vector512.Load((ulong*)h), Vector512.Load((ulong*)(h + 64)));
        }
        else if (Use256)
        {
            Vector256<byte> mask = Vector256.Create(ReverseMask);
            Vector256<ulong> x0 = Avx2.Shuffle(Vector256.Load(data), mask).AsUInt64() ^ acc.ToVector256();
            Vector256<ulong> x1 = Avx2.Shuffle(Vector256.Load(data + 32), mask).AsUInt64();
            Vector256<ulong> x2 = Avx2.Shuffle(Vector256.Load(data + 64), mask).AsUInt64();
            Vector256<ulong> x3 = Avx2.Shuffle(Vector256.Load(data + 96), mask).AsUInt64();
            Vector256<ulong> h0 = Vector256.Load((ulong*)h);
            Vector256<ulong> h1 = Vector256.Load((ulong*)(h + 32));
            Vector256<ulong> h2 = Vector256.Load((ulong*)(h + 64));
            Vector256<ulong> h3 = Vector256.Load((ulong*)(h + 96));
            Vector256<ulong> lo = Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x00)
                ^ Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x00);
            Vector256<ulong> hi = Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x11) ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x11)
                ^ Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x11) ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x11);
            Vector256<ulong> mid = Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x10)
                ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x10)
                ^ Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x10)
                ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x10);
            return Reduce(lo.GetLower() ^ lo.GetUpper(), hi.GetLower() ^ hi.GetUpper(), mid.GetLower() ^ mid.GetUpper());
        }
        else
        {
            Vector128<ulong> x = Reverse(Vector128.Load(data)) ^ acc;
            Vector128<ulong> hk = Vector128.Load((ulong*)h);
            Vector128<ulong> lo = Pclmulqdq.CarrylessMultiply(x, hk, 0x00);
            Vector128<ulong> hi = Pclmulqdq.CarrylessMultiply(x, hk, 0x11);
            Vector128<ulong> mid = Pclmulqdq.CarrylessMultiply(x, hk, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hk, 0x10);
            for (int i = 16; i < 128; i += 16)
            {
                x = Reverse(Vector128.Load(data + i));
                hk = Vector128.Load((ulong*)(h + i));
                lo ^= Pclmulqdq.CarrylessMultiply(x, hk, 0x00);
                hi ^= Pclmulqdq.CarrylessMultiply(x, hk, 0x11);
                mid ^= Pclmulqdq.CarrylessMultiply(x, hk, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hk, 0x10);
            }
            return Reduce(lo, hi, mid);
        }
    }

    /// <summary>Σ x0[j]·h0[j] + x1[j]·h1[j] over the 4 lanes of each, schoolbook, one reduction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Reduce512(Vector512<ulong> x0, Vector512<ulong> x1, Vector512<ulong> h0, Vector512<ulong> h1)
    {
        Products512(x0, x1, h0, h1, out Vector128<ulong> lo, out Vector128<ulong> hi, out Vector128<ulong> mid);
        return Reduce(lo, hi, mid);
    }

    /// <summary>The unreduced lo/hi/mid sums of 8 block products, 4 per VPCLMULQDQ (schoolbook).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Products512(Vector512<ulong> x0, Vector512<ulong> x1, Vector512<ulong> h0, Vector512<ulong> h1,
        out Vector128<ulong> lo, out Vector128<ulong> hi, out Vector128<ulong> mid)
    {
        Vector512<ulong> l = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x00);
        Vector512<ulong> u = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x11) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x11);
        Vector512<ulong> m = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x10)
            ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x10);
        lo = Fold(l);
        hi = Fold(u);
        mid = Fold(m);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Fold(Vector512<ulong> v)
    {
        Vector256<ulong> t = v.GetLower() ^ v.GetUpper();
        return t.GetLower() ^ t.GetUpper();
    }

    /// <summary>Absorbs <paramref name="count"/> (1..16) blocks with one reduction:
    /// (acc + X1)·H^n + ... + Xn·H.</summary>
    public static Vector128<ulong> UpdateN(Vector128<ulong> acc, byte* data, int count, byte* table)
    {
        byte* h = PowerPtr(table, count);
        Vector128<ulong> x = Reverse(Vector128.Load(data)) ^ acc;
        Vector128<ulong> hk = Vector128.Load((ulong*)h);
        Vector128<ulong> lo = Pclmulqdq.CarrylessMultiply(x, hk, 0x00);
        Vector128<ulong> hi = Pclmulqdq.CarrylessMultiply(x, hk, 0x11);
        Vector128<ulong> mid = Pclmulqdq.CarrylessMultiply(x, hk, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hk, 0x10);
        int end = count * 16;
        for (int i = 16; i < end; i += 16)
        {
            x = Reverse(Vector128.Load(data + i));
            hk = Vector128.Load((ulong*)(h + i));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hk, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hk, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hk, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hk, 0x10);
        }
        return Reduce(lo, hi, mid);
    }

    /// <summary>Loads 1..15 bytes as a zero-padded block without touching memory past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> LoadPartial(byte* p, int n) => AesNi.LoadPartial(p, n);

    /// <summary>Absorbs a short input (AAD) of at most 16·<see cref="Powers"/> bytes, zero-padded, with one
    /// reduction and no copying: (acc + X1)·H^n + ... + Xn·H.</summary>
    public static Vector128<ulong> UpdateShort(Vector128<ulong> acc, byte* data, int length, byte* table)
    {
        int n = (length + 15) >> 4;
        byte* h = PowerPtr(table, n);
        byte* hk = KaratsubaPtr(table, n);
        Vector128<ulong> lo = Vector128<ulong>.Zero, hi = Vector128<ulong>.Zero, mid = Vector128<ulong>.Zero;
        int i = 0;
        for (; i + 16 <= length; i += 16)
        {
            Absorb(Reverse(Vector128.Load(data + i)) ^ acc, h + i, hk + i, ref lo, ref hi, ref mid);
            acc = Vector128<ulong>.Zero;
        }
        if (i < length) Absorb(Reverse(LoadPartial(data + i, length - i)) ^ acc, h + i, hk + i, ref lo, ref hi, ref mid);
        return Reduce(lo, hi, mid);
    }

    /// <summary>The final GHASH pass of a message, one reduction for all of it: optionally 8 full blocks at
    /// <paramref name="full8"/> (the last bulk batch), then <paramref name="aadLength"/> bytes of AAD and
    /// <paramref name="ctLength"/> bytes of ciphertext (each zero-padded to whole blocks, §7.1 step 5),
    /// then the length block. At most <see cref="Powers"/> blocks in all (callers ensure it).</summary>
    [SkipLocalsInit]
    public static Vector128<ulong> Final(Vector128<ulong> acc, byte* full8, byte* aad, int aadLength, byte* ct, int ctLength,
        Vector128<ulong> lengths, byte* table)
    {
        int n = ((aadLength + 15) >> 4) + ((ctLength + 15) >> 4) + 1 + (full8 != null ? 8 : 0);
        byte* h = PowerPtr(table, n);
        byte* hk = KaratsubaPtr(table, n);
        Vector128<ulong> lo = Vector128<ulong>.Zero, hi = Vector128<ulong>.Zero, mid = Vector128<ulong>.Zero;
        if (full8 != null)
        {
            if (Use512)
            {
                Vector512<byte> mask = ReverseMask512;
                Vector512<ulong> x0 = Avx512BW.Shuffle(Vector512.Load(full8), mask).AsUInt64() ^ acc.ToVector256().ToVector512();
                Vector512<ulong> x1 = Avx512BW.Shuffle(Vector512.Load(full8 + 64), mask).AsUInt64();
                Products512(x0, x1, Vector512.Load((ulong*)h), Vector512.Load((ulong*)(h + 64)), out lo, out hi, out mid);
            }
            else
            {
                for (int i = 0; i < 128; i += 16)
                {
                    Absorb(Reverse(Vector128.Load(full8 + i)) ^ acc, h + i, hk + i, ref lo, ref hi, ref mid);
                    acc = Vector128<ulong>.Zero;
                }
            }
            acc = Vector128<ulong>.Zero;
            h += 128;
            hk += 128;
        }
        // AAD, then ciphertext, each padded; the accumulator goes into the first block absorbed.
        for (int seg = 0; seg < 2; seg++)
        {
            byte* p = seg == 0 ? aad : ct;
            int len = seg == 0 ? aadLength : ctLength;
            int i = 0;
            for (; i + 16 <= len; i += 16)
            {
                Absorb(Reverse(Vector128.Load(p + i)) ^ acc, h, hk, ref lo, ref hi, ref mid);
                acc = Vector128<ulong>.Zero;
                h += 16;
                hk += 16;
            }
            if (i < len)
            {
                Absorb(Reverse(LoadPartial(p + i, len - i)) ^ acc, h, hk, ref lo, ref hi, ref mid);
                acc = Vector128<ulong>.Zero;
                h += 16;
                hk += 16;
            }
        }
        // [len(A)]64 ‖ [len(C)]64, already in the POLYVAL domain; times H^1.
        Absorb(lengths ^ acc, h, hk, ref lo, ref hi, ref mid);
        return Reduce(lo, hi, mid);
    }

    /// <summary>Adds the unreduced products of <paramref name="ctLength"/> (0..127) bytes of ciphertext
    /// (zero-padded blocks) and then the length block, with H^(blocks+1) at <paramref name="h"/> (descending
    /// from there, Karatsuba values at <paramref name="hk"/>); no reduction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AbsorbTailAndLengths(byte* ct, int ctLength, Vector128<ulong> lengths, byte* h, byte* hk,
        ref Vector128<ulong> lo, ref Vector128<ulong> hi, ref Vector128<ulong> mid)
    {
        int i = 0;
        for (; i + 16 <= ctLength; i += 16) Absorb(Reverse(Vector128.Load(ct + i)), h + i, hk + i, ref lo, ref hi, ref mid);
        if (i < ctLength)
        {
            Absorb(Reverse(LoadPartial(ct + i, ctLength - i)), h + i, hk + i, ref lo, ref hi, ref mid);
            i += 16;
        }
        Absorb(lengths, h + i, hk + i, ref lo, ref hi, ref mid);
    }

    /// <summary>Adds the unreduced Karatsuba product x·H^k (H^k at <paramref name="h"/>, its lo^hi at <paramref name="hk"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Absorb(Vector128<ulong> x, byte* h, byte* hk, ref Vector128<ulong> lo, ref Vector128<ulong> hi, ref Vector128<ulong> mid)
    {
        Vector128<ulong> hv = Vector128.Load((ulong*)h);
        Vector128<ulong> l = Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
        Vector128<ulong> u = Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
        Vector128<ulong> xk = x ^ Sse2.Shuffle(x.AsUInt32(), 0x4E).AsUInt64();
        lo ^= l;
        hi ^= u;
        mid ^= Pclmulqdq.CarrylessMultiply(xk, Vector128.Load((ulong*)hk), 0x00) ^ l ^ u;
    }

    /// <summary>Absorbs <paramref name="length"/> bytes of any length, the last block zero-padded
    /// (SP 800-38D §7.1 step 5: A ‖ 0^v and C ‖ 0^u). When <paramref name="lengthBlock"/> is set,
    /// also absorbs the final [len(A)]64 ‖ [len(C)]64 block (given in the POLYVAL domain: low half =
    /// ciphertext bits, high half = AAD bits) within the same reduction as the last data blocks.</summary>
    [SkipLocalsInit]
    public static Vector128<ulong> UpdatePadded(Vector128<ulong> acc, byte* data, nint length, byte* table,
        bool lengthBlock, Vector128<ulong> lengths)
    {
        while (length >= 128)
        {
            acc = Update8(acc, data, table);
            data += 128;
            length -= 128;
        }
        // At most 8 data blocks (the last padded) plus the length block: one aggregated pass.
        byte* buf = stackalloc byte[144];
        int n = (int)length;
        int full = n & ~15;
        for (int i = 0; i < full; i += 16) Vector128.Load(data + i).Store(buf + i);
        int blocks = full >> 4;
        if (n > full)
        {
            Vector128<byte>.Zero.Store(buf + full);
            for (int i = full; i < n; i++) buf[i] = data[i];
            blocks++;
        }
        if (lengthBlock)
        {
            ToBlock(lengths).Store(buf + 16 * blocks);
            blocks++;
        }
        if (blocks > 0)
        {
            acc = UpdateN(acc, buf, blocks, table);
            // The buffer held plaintext-dependent data (ciphertext/AAD are public, but be tidy).
            for (int i = 0; i < 16 * blocks; i += 16) Vector128<byte>.Zero.Store(buf + i);
        }
        return acc;
    }
}
