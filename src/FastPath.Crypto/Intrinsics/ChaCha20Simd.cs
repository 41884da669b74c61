using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// Vectorized ChaCha20 keystream (RFC 8439 §2.3/§2.4), "vertical" layout: vector register j holds
// state word j of W independent blocks (lane i = block counter + i), so the 20 rounds are plain
// lane-wise add/xor/rotate with no shuffles between column and diagonal rounds; the W blocks are
// transposed back to byte order once, at the end, and XORed straight into the output.
//
// Widths (all chosen by IsSupported, i.e. JIT-time constants):
// - Vector512<uint>, 16 blocks (1 KB) per pass, rotates by VPROLD (Avx512F.RotateLeft);
//   32 zmm registers hold the 16 state words and the temporaries without spilling. Pass768 runs
//   24 blocks (16 zmm + 8 ymm lanes) for 1-1.5 KB, the common ESP packet.
// - Vector256<uint>, 8 blocks (512 B) under AVX2; rotates by 16 and 8 are one VPSHUFB, 12 and 7 are
//   shift/shift/or (VPROLD on 256 bits when AVX-512VL is present).
// - Vector128<uint>, 4 blocks (256 B) with SSSE3 (the intrinsics engine's baseline).
// Transposition: 4×4 transposes of 32-bit words inside each 128-bit lane (UNPCK{L,H}{DQ,QDQ}), then,
// for 256/512 bits, a 128-bit-lane transpose (VPERM2I128 / VSHUFI32X4), giving each block's 64 bytes
// as one zmm, two ymm or four xmm.
// Tails: after the whole passes of the widest width, what is left (< one pass) is done by the
// narrowest width that covers it in one pass; a partial pass writes its keystream to a stack buffer
// and only the exact remaining bytes are XORed, so nothing is read or written past the spans.
//
// The AEAD (ChaCha20Poly1305Simd) asks for the first pass starting at counter 0 as raw keystream
// (FirstPass): block 0 is the one-time Poly1305 key, the rest is the keystream of the first bytes.
// So a short packet costs one pass in all (e.g. 1420 B + the key block = 24 blocks = one Pass768, which
// runs 16 zmm and 8 ymm lanes interleaved).
internal static unsafe class ChaCha20Simd
{
    public static bool Use512 => Avx512F.IsSupported;
    public static bool Use256 => Avx2.IsSupported;

    /// <summary>Largest pass in bytes (the size of a keystream buffer for FirstPass): 24 blocks.</summary>
    public const int MaxPassBytes = 1536;

    /// <summary>Writes the keystream of one pass starting at block <paramref name="counter"/> to
    /// <paramref name="keystream"/> (at least MaxPassBytes): the narrowest pass that covers
    /// <paramref name="wanted"/> bytes, else the widest. Returns the bytes written (256/512/1024).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FirstPass(uint* key, uint counter, uint n0, uint n1, uint n2, byte* keystream, nint wanted)
    {
        if (Use512 && wanted > 1024)
        {
            Pass768(key, counter, n0, n1, n2, null, keystream);
            return 1536;
        }
        if (Use512 && wanted > 512)
        {
            Pass512(key, counter, n0, n1, n2, null, keystream);
            return 1024;
        }
        if (Use256 && wanted > 256)
        {
            Pass256(key, counter, n0, n1, n2, null, keystream);
            return 512;
        }
        Pass128(key, counter, n0, n1, n2, null, keystream);
        return 256;
    }

    /// <summary>ChaCha20 encryption (§2.4) of exactly <paramref name="length"/> bytes with the keystream
    /// starting at block <paramref name="counter"/> (in place allowed).</summary>
    [SkipLocalsInit]
    public static void Xor(uint* key, uint counter, uint n0, uint n1, uint n2, byte* src, byte* dst, nint length)
    {
        if (length <= 0) return;
        byte* ks = stackalloc byte[MaxPassBytes];
        if (Use512)
        {
            for (; length > 1536 || length == 1024; length -= 1024, src += 1024, dst += 1024, counter += 16)
            {
                Pass512(key, counter, n0, n1, n2, src, dst);
            }
            // 1024 < rest <= 1536: one 24-block pass; 512 < rest < 1024: one 16-block pass.
            if (length == 1536)
            {
                Pass768(key, counter, n0, n1, n2, src, dst);
                return;
            }
            if (length > 512)
            {
                int pass = length > 1024 ? 1536 : 1024;
                if (pass == 1536) Pass768(key, counter, n0, n1, n2, null, ks);
                else Pass512(key, counter, n0, n1, n2, null, ks);
                XorTail(src, dst, ks, (int)length);
                ClearKeystream(ks, pass);
                return;
            }
        }
        if (Use256)
        {
            for (; length >= 512; length -= 512, src += 512, dst += 512, counter += 8)
            {
                Pass256(key, counter, n0, n1, n2, src, dst);
            }
            if (length > 256)
            {
                Pass256(key, counter, n0, n1, n2, null, ks);
                XorTail(src, dst, ks, (int)length);
                ClearKeystream(ks, 512);
                return;
            }
        }
        for (; length >= 256; length -= 256, src += 256, dst += 256, counter += 4)
        {
            Pass128(key, counter, n0, n1, n2, src, dst);
        }
        if (length > 0)
        {
            Pass128(key, counter, n0, n1, n2, null, ks);
            XorTail(src, dst, ks, (int)length);
            ClearKeystream(ks, 256);
        }
    }

    /// <summary>dst = src ^ ks for exactly <paramref name="length"/> bytes (vectors, then 8/1-byte steps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void XorTail(byte* src, byte* dst, byte* ks, int length)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 64 <= length; i += 64) (Vector512.Load(src + i) ^ Vector512.Load(ks + i)).Store(dst + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 32 <= length; i += 32) (Vector256.Load(src + i) ^ Vector256.Load(ks + i)).Store(dst + i);
        }
        for (; i + 16 <= length; i += 16) (Vector128.Load(src + i) ^ Vector128.Load(ks + i)).Store(dst + i);
        ChaCha20Core.XorBytes(src + i, dst + i, ks + i, length - i);
    }

    /// <summary>Zeroes a keystream buffer of <paramref name="length"/> bytes (a multiple of 256).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ClearKeystream(byte* ks, int length)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            for (int i = 0; i < length; i += 64) Vector512<byte>.Zero.Store(ks + i);
        }
        else
        {
            for (int i = 0; i < length; i += 32) Vector256<byte>.Zero.Store(ks + i);
        }
    }

    // ---------------------------------------------------------------- 512 bits, 16 blocks

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector512<uint> a, ref Vector512<uint> b, ref Vector512<uint> c, ref Vector512<uint> d)
    {
        a += b; d ^= a; d = Avx512F.RotateLeft(d, 16);
        c += d; b ^= c; b = Avx512F.RotateLeft(b, 12);
        a += b; d ^= a; d = Avx512F.RotateLeft(d, 8);
        c += d; b ^= c; b = Avx512F.RotateLeft(b, 7);
    }

    /// <summary>4×4 transpose of 32-bit words within each 128-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector512<uint> a, ref Vector512<uint> b, ref Vector512<uint> c, ref Vector512<uint> d)
    {
        Vector512<ulong> t0 = Avx512F.UnpackLow(a, b).AsUInt64();  // a0 b0 a1 b1
        Vector512<ulong> t1 = Avx512F.UnpackHigh(a, b).AsUInt64(); // a2 b2 a3 b3
        Vector512<ulong> t2 = Avx512F.UnpackLow(c, d).AsUInt64();  // c0 d0 c1 d1
        Vector512<ulong> t3 = Avx512F.UnpackHigh(c, d).AsUInt64(); // c2 d2 c3 d3
        a = Avx512F.UnpackLow(t0, t2).AsUInt32();  // a0 b0 c0 d0
        b = Avx512F.UnpackHigh(t0, t2).AsUInt32(); // a1 b1 c1 d1
        c = Avx512F.UnpackLow(t1, t3).AsUInt32();  // a2 b2 c2 d2
        d = Avx512F.UnpackHigh(t1, t3).AsUInt32(); // a3 b3 c3 d3
    }

    /// <summary>Words 0-3, 4-7, 8-11, 12-15 of blocks i, 4+i, 8+i, 12+i (one per 128-bit lane of
    /// a, b, c, d) regrouped into the four 64-byte blocks, which are XORed into place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output(Vector512<uint> a, Vector512<uint> b, Vector512<uint> c, Vector512<uint> d, byte* src, byte* dst)
    {
        Vector512<uint> t0 = Avx512F.Shuffle4x128(a, b, 0x44); // a.0 a.1 b.0 b.1
        Vector512<uint> t1 = Avx512F.Shuffle4x128(a, b, 0xEE); // a.2 a.3 b.2 b.3
        Vector512<uint> t2 = Avx512F.Shuffle4x128(c, d, 0x44);
        Vector512<uint> t3 = Avx512F.Shuffle4x128(c, d, 0xEE);
        Vector512<byte> o0 = Avx512F.Shuffle4x128(t0, t2, 0x88).AsByte(); // a.0 b.0 c.0 d.0: block i
        Vector512<byte> o1 = Avx512F.Shuffle4x128(t0, t2, 0xDD).AsByte(); // block 4+i
        Vector512<byte> o2 = Avx512F.Shuffle4x128(t1, t3, 0x88).AsByte(); // block 8+i
        Vector512<byte> o3 = Avx512F.Shuffle4x128(t1, t3, 0xDD).AsByte(); // block 12+i
        if (src != null)
        {
            o0 ^= Vector512.Load(src);
            o1 ^= Vector512.Load(src + 256);
            o2 ^= Vector512.Load(src + 512);
            o3 ^= Vector512.Load(src + 768);
        }
        o0.Store(dst);
        o1.Store(dst + 256);
        o2.Store(dst + 512);
        o3.Store(dst + 768);
    }

    /// <summary>16 blocks from <paramref name="counter"/>: 1024 bytes of src ^ keystream (or the
    /// keystream itself when src is null) to dst.</summary>
    [SkipLocalsInit]
    public static void Pass512(uint* key, uint counter, uint n0, uint n1, uint n2, byte* src, byte* dst)
    {
        Vector512<uint> ctr = Vector512.Create(counter) + Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        Vector512<uint> x0 = Vector512.Create(ChaCha20Core.Sigma0), x1 = Vector512.Create(ChaCha20Core.Sigma1);
        Vector512<uint> x2 = Vector512.Create(ChaCha20Core.Sigma2), x3 = Vector512.Create(ChaCha20Core.Sigma3);
        Vector512<uint> x4 = Vector512.Create(key[0]), x5 = Vector512.Create(key[1]);
        Vector512<uint> x6 = Vector512.Create(key[2]), x7 = Vector512.Create(key[3]);
        Vector512<uint> x8 = Vector512.Create(key[4]), x9 = Vector512.Create(key[5]);
        Vector512<uint> x10 = Vector512.Create(key[6]), x11 = Vector512.Create(key[7]);
        Vector512<uint> x12 = ctr, x13 = Vector512.Create(n0), x14 = Vector512.Create(n1), x15 = Vector512.Create(n2);
        for (int i = 0; i < 10; i++)
        {
            QuarterRound(ref x0, ref x4, ref x8, ref x12);
            QuarterRound(ref x1, ref x5, ref x9, ref x13);
            QuarterRound(ref x2, ref x6, ref x10, ref x14);
            QuarterRound(ref x3, ref x7, ref x11, ref x15);
            QuarterRound(ref x0, ref x5, ref x10, ref x15);
            QuarterRound(ref x1, ref x6, ref x11, ref x12);
            QuarterRound(ref x2, ref x7, ref x8, ref x13);
            QuarterRound(ref x3, ref x4, ref x9, ref x14);
        }
        x0 += Vector512.Create(ChaCha20Core.Sigma0); x1 += Vector512.Create(ChaCha20Core.Sigma1);
        x2 += Vector512.Create(ChaCha20Core.Sigma2); x3 += Vector512.Create(ChaCha20Core.Sigma3);
        x4 += Vector512.Create(key[0]); x5 += Vector512.Create(key[1]);
        x6 += Vector512.Create(key[2]); x7 += Vector512.Create(key[3]);
        x8 += Vector512.Create(key[4]); x9 += Vector512.Create(key[5]);
        x10 += Vector512.Create(key[6]); x11 += Vector512.Create(key[7]);
        x12 += ctr; x13 += Vector512.Create(n0); x14 += Vector512.Create(n1); x15 += Vector512.Create(n2);

        Transpose(ref x0, ref x1, ref x2, ref x3);
        Transpose(ref x4, ref x5, ref x6, ref x7);
        Transpose(ref x8, ref x9, ref x10, ref x11);
        Transpose(ref x12, ref x13, ref x14, ref x15);
        Output(x0, x4, x8, x12, src, dst);
        Output(x1, x5, x9, x13, src == null ? null : src + 64, dst + 64);
        Output(x2, x6, x10, x14, src == null ? null : src + 128, dst + 128);
        Output(x3, x7, x11, x15, src == null ? null : src + 192, dst + 192);
    }

    /// <summary>24 blocks from <paramref name="counter"/> (1536 bytes): 16 in zmm lanes and 8 in ymm lanes,
    /// interleaved quarter round by quarter round. With AVX-512 the 32 vector registers hold both states
    /// (VPROLD and 3-operand forms need no temporaries), so this is one throughput-bound pass where a
    /// 16-block pass followed by a latency-bound 8-block pass took ~1.5x as long (a 1420-byte ESP packet
    /// plus the Poly1305 key block is 24 blocks).</summary>
    [SkipLocalsInit]
    public static void Pass768(uint* key, uint counter, uint n0, uint n1, uint n2, byte* src, byte* dst)
    {
        Vector512<uint> ctr = Vector512.Create(counter) + Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        Vector256<uint> ctrY = Vector256.Create(counter) + Vector256.Create(16u, 17, 18, 19, 20, 21, 22, 23);
        Vector512<uint> x0 = Vector512.Create(ChaCha20Core.Sigma0), x1 = Vector512.Create(ChaCha20Core.Sigma1);
        Vector512<uint> x2 = Vector512.Create(ChaCha20Core.Sigma2), x3 = Vector512.Create(ChaCha20Core.Sigma3);
        Vector512<uint> x4 = Vector512.Create(key[0]), x5 = Vector512.Create(key[1]);
        Vector512<uint> x6 = Vector512.Create(key[2]), x7 = Vector512.Create(key[3]);
        Vector512<uint> x8 = Vector512.Create(key[4]), x9 = Vector512.Create(key[5]);
        Vector512<uint> x10 = Vector512.Create(key[6]), x11 = Vector512.Create(key[7]);
        Vector512<uint> x12 = ctr, x13 = Vector512.Create(n0), x14 = Vector512.Create(n1), x15 = Vector512.Create(n2);
        Vector256<uint> y0 = x0.GetLower(), y1 = x1.GetLower(), y2 = x2.GetLower(), y3 = x3.GetLower();
        Vector256<uint> y4 = x4.GetLower(), y5 = x5.GetLower(), y6 = x6.GetLower(), y7 = x7.GetLower();
        Vector256<uint> y8 = x8.GetLower(), y9 = x9.GetLower(), y10 = x10.GetLower(), y11 = x11.GetLower();
        Vector256<uint> y12 = ctrY, y13 = x13.GetLower(), y14 = x14.GetLower(), y15 = x15.GetLower();
        for (int i = 0; i < 10; i++)
        {
            QuarterRound(ref x0, ref x4, ref x8, ref x12); QuarterRound(ref y0, ref y4, ref y8, ref y12);
            QuarterRound(ref x1, ref x5, ref x9, ref x13); QuarterRound(ref y1, ref y5, ref y9, ref y13);
            QuarterRound(ref x2, ref x6, ref x10, ref x14); QuarterRound(ref y2, ref y6, ref y10, ref y14);
            QuarterRound(ref x3, ref x7, ref x11, ref x15); QuarterRound(ref y3, ref y7, ref y11, ref y15);
            QuarterRound(ref x0, ref x5, ref x10, ref x15); QuarterRound(ref y0, ref y5, ref y10, ref y15);
            QuarterRound(ref x1, ref x6, ref x11, ref x12); QuarterRound(ref y1, ref y6, ref y11, ref y12);
            QuarterRound(ref x2, ref x7, ref x8, ref x13); QuarterRound(ref y2, ref y7, ref y8, ref y13);
            QuarterRound(ref x3, ref x4, ref x9, ref x14); QuarterRound(ref y3, ref y4, ref y9, ref y14);
        }
        x0 += Vector512.Create(ChaCha20Core.Sigma0); x1 += Vector512.Create(ChaCha20Core.Sigma1);
        x2 += Vector512.Create(ChaCha20Core.Sigma2); x3 += Vector512.Create(ChaCha20Core.Sigma3);
        x4 += Vector512.Create(key[0]); x5 += Vector512.Create(key[1]);
        x6 += Vector512.Create(key[2]); x7 += Vector512.Create(key[3]);
        x8 += Vector512.Create(key[4]); x9 += Vector512.Create(key[5]);
        x10 += Vector512.Create(key[6]); x11 += Vector512.Create(key[7]);
        x12 += ctr; x13 += Vector512.Create(n0); x14 += Vector512.Create(n1); x15 += Vector512.Create(n2);
        Transpose(ref x0, ref x1, ref x2, ref x3);
        Transpose(ref x4, ref x5, ref x6, ref x7);
        Transpose(ref x8, ref x9, ref x10, ref x11);
        Transpose(ref x12, ref x13, ref x14, ref x15);
        Output(x0, x4, x8, x12, src, dst);
        Output(x1, x5, x9, x13, src == null ? null : src + 64, dst + 64);
        Output(x2, x6, x10, x14, src == null ? null : src + 128, dst + 128);
        Output(x3, x7, x11, x15, src == null ? null : src + 192, dst + 192);

        y0 += Vector256.Create(ChaCha20Core.Sigma0); y1 += Vector256.Create(ChaCha20Core.Sigma1);
        y2 += Vector256.Create(ChaCha20Core.Sigma2); y3 += Vector256.Create(ChaCha20Core.Sigma3);
        y4 += Vector256.Create(key[0]); y5 += Vector256.Create(key[1]);
        y6 += Vector256.Create(key[2]); y7 += Vector256.Create(key[3]);
        y8 += Vector256.Create(key[4]); y9 += Vector256.Create(key[5]);
        y10 += Vector256.Create(key[6]); y11 += Vector256.Create(key[7]);
        y12 += ctrY; y13 += Vector256.Create(n0); y14 += Vector256.Create(n1); y15 += Vector256.Create(n2);
        Transpose(ref y0, ref y1, ref y2, ref y3);
        Transpose(ref y4, ref y5, ref y6, ref y7);
        Transpose(ref y8, ref y9, ref y10, ref y11);
        Transpose(ref y12, ref y13, ref y14, ref y15);
        byte* src2 = src == null ? null : src + 1024;
        byte* dst2 = dst + 1024;
        Output(y0, y4, y8, y12, src2, dst2);
        Output(y1, y5, y9, y13, src2 == null ? null : src2 + 64, dst2 + 64);
        Output(y2, y6, y10, y14, src2 == null ? null : src2 + 128, dst2 + 128);
        Output(y3, y7, y11, y15, src2 == null ? null : src2 + 192, dst2 + 192);
    }

    // ---------------------------------------------------------------- 256 bits, 8 blocks

    private static Vector256<byte> Rot16Mask256
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector256.Create((byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
        2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    }
    private static Vector256<byte> Rot8Mask256
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector256.Create((byte)3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
        3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate16(Vector256<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 16) : Avx2.Shuffle(v.AsByte(), Rot16Mask256).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate8(Vector256<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 8) : Avx2.Shuffle(v.AsByte(), Rot8Mask256).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate12(Vector256<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 12) : Avx2.ShiftLeftLogical(v, 12) | Avx2.ShiftRightLogical(v, 20);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate7(Vector256<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 7) : Avx2.ShiftLeftLogical(v, 7) | Avx2.ShiftRightLogical(v, 25);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector256<uint> a, ref Vector256<uint> b, ref Vector256<uint> c, ref Vector256<uint> d)
    {
        a += b; d ^= a; d = Rotate16(d);
        c += d; b ^= c; b = Rotate12(b);
        a += b; d ^= a; d = Rotate8(d);
        c += d; b ^= c; b = Rotate7(b);
    }

    /// <summary>The quarter round with c in memory: loaded once, stored once (a store/reload in the middle
    /// of the dependency chain would add the store-forwarding latency twice per quarter round).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector256<uint> a, ref Vector256<uint> b, Vector256<uint>* cp, ref Vector256<uint> d)
    {
        Vector256<uint> c = *cp;
        a += b; d ^= a; d = Rotate16(d);
        c += d; b ^= c; b = Rotate12(b);
        a += b; d ^= a; d = Rotate8(d);
        c += d; b ^= c; b = Rotate7(b);
        *cp = c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector256<uint> a, ref Vector256<uint> b, ref Vector256<uint> c, ref Vector256<uint> d)
    {
        Vector256<ulong> t0 = Avx2.UnpackLow(a, b).AsUInt64();
        Vector256<ulong> t1 = Avx2.UnpackHigh(a, b).AsUInt64();
        Vector256<ulong> t2 = Avx2.UnpackLow(c, d).AsUInt64();
        Vector256<ulong> t3 = Avx2.UnpackHigh(c, d).AsUInt64();
        a = Avx2.UnpackLow(t0, t2).AsUInt32();
        b = Avx2.UnpackHigh(t0, t2).AsUInt32();
        c = Avx2.UnpackLow(t1, t3).AsUInt32();
        d = Avx2.UnpackHigh(t1, t3).AsUInt32();
    }

    /// <summary>Blocks i and 4+i from words 0-3 (a), 4-7 (b), 8-11 (c), 12-15 (d), low lane = block i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output(Vector256<uint> a, Vector256<uint> b, Vector256<uint> c, Vector256<uint> d, byte* src, byte* dst)
    {
        Vector256<byte> lo0 = Avx2.Permute2x128(a, b, 0x20).AsByte(); // block i, words 0-7
        Vector256<byte> lo1 = Avx2.Permute2x128(c, d, 0x20).AsByte(); // block i, words 8-15
        Vector256<byte> hi0 = Avx2.Permute2x128(a, b, 0x31).AsByte(); // block 4+i
        Vector256<byte> hi1 = Avx2.Permute2x128(c, d, 0x31).AsByte();
        if (src != null)
        {
            lo0 ^= Vector256.Load(src);
            lo1 ^= Vector256.Load(src + 32);
            hi0 ^= Vector256.Load(src + 256);
            hi1 ^= Vector256.Load(src + 288);
        }
        lo0.Store(dst);
        lo1.Store(dst + 32);
        hi0.Store(dst + 256);
        hi1.Store(dst + 288);
    }

    /// <summary>8 blocks from <paramref name="counter"/>: 512 bytes.</summary>
    [SkipLocalsInit]
    public static void Pass256(uint* key, uint counter, uint n0, uint n1, uint n2, byte* src, byte* dst)
    {
        Vector256<uint> ctr = Vector256.Create(counter) + Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        Vector256<uint> x0 = Vector256.Create(ChaCha20Core.Sigma0), x1 = Vector256.Create(ChaCha20Core.Sigma1);
        Vector256<uint> x2 = Vector256.Create(ChaCha20Core.Sigma2), x3 = Vector256.Create(ChaCha20Core.Sigma3);
        Vector256<uint> x4 = Vector256.Create(key[0]), x5 = Vector256.Create(key[1]);
        Vector256<uint> x6 = Vector256.Create(key[2]), x7 = Vector256.Create(key[3]);
        Vector256<uint> x8 = Vector256.Create(key[4]), x9 = Vector256.Create(key[5]);
        Vector256<uint> x10 = Vector256.Create(key[6]), x11 = Vector256.Create(key[7]);
        Vector256<uint> x12 = ctr, x13 = Vector256.Create(n0), x14 = Vector256.Create(n1), x15 = Vector256.Create(n2);
        if (Avx512F.VL.IsSupported)
        {
            // 32 vector registers: the whole state stays in registers.
            for (int i = 0; i < 10; i++)
            {
                QuarterRound(ref x0, ref x4, ref x8, ref x12);
                QuarterRound(ref x1, ref x5, ref x9, ref x13);
                QuarterRound(ref x2, ref x6, ref x10, ref x14);
                QuarterRound(ref x3, ref x7, ref x11, ref x15);
                QuarterRound(ref x0, ref x5, ref x10, ref x15);
                QuarterRound(ref x1, ref x6, ref x11, ref x12);
                QuarterRound(ref x2, ref x7, ref x8, ref x13);
                QuarterRound(ref x3, ref x4, ref x9, ref x14);
            }
        }
        else
        {
            // 16 registers cannot hold 16 state words plus the rotate temporary (the JIT then spills
            // in the worst places, 2-4x slower): words 8-11 live in a stack buffer, one load and one
            // store per quarter round, the rest in registers (OpenSSL's AVX2 code does the same).
            Vector256<uint>* c = stackalloc Vector256<uint>[4];
            c[0] = x8; c[1] = x9; c[2] = x10; c[3] = x11;
            for (int i = 0; i < 10; i++)
            {
                QuarterRound(ref x0, ref x4, c + 0, ref x12);
                QuarterRound(ref x1, ref x5, c + 1, ref x13);
                QuarterRound(ref x2, ref x6, c + 2, ref x14);
                QuarterRound(ref x3, ref x7, c + 3, ref x15);
                QuarterRound(ref x0, ref x5, c + 2, ref x15);
                QuarterRound(ref x1, ref x6, c + 3, ref x12);
                QuarterRound(ref x2, ref x7, c + 0, ref x13);
                QuarterRound(ref x3, ref x4, c + 1, ref x14);
            }
            x8 = c[0]; x9 = c[1]; x10 = c[2]; x11 = c[3];
        }
        x0 += Vector256.Create(ChaCha20Core.Sigma0); x1 += Vector256.Create(ChaCha20Core.Sigma1);
        x2 += Vector256.Create(ChaCha20Core.Sigma2); x3 += Vector256.Create(ChaCha20Core.Sigma3);
        x4 += Vector256.Create(key[0]); x5 += Vector256.Create(key[1]);
        x6 += Vector256.Create(key[2]); x7 += Vector256.Create(key[3]);
        x8 += Vector256.Create(key[4]); x9 += Vector256.Create(key[5]);
        x10 += Vector256.Create(key[6]); x11 += Vector256.Create(key[7]);
        x12 += ctr; x13 += Vector256.Create(n0); x14 += Vector256.Create(n1); x15 += Vector256.Create(n2);

        Transpose(ref x0, ref x1, ref x2, ref x3);
        Transpose(ref x4, ref x5, ref x6, ref x7);
        Transpose(ref x8, ref x9, ref x10, ref x11);
        Transpose(ref x12, ref x13, ref x14, ref x15);
        Output(x0, x4, x8, x12, src, dst);
        Output(x1, x5, x9, x13, src == null ? null : src + 64, dst + 64);
        Output(x2, x6, x10, x14, src == null ? null : src + 128, dst + 128);
        Output(x3, x7, x11, x15, src == null ? null : src + 192, dst + 192);
    }

    // ---------------------------------------------------------------- 128 bits, 4 blocks

    private static Vector128<byte> Rot16Mask128
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128.Create((byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    }
    private static Vector128<byte> Rot8Mask128
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128.Create((byte)3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotate16(Vector128<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 16) : Ssse3.Shuffle(v.AsByte(), Rot16Mask128).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotate8(Vector128<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 8) : Ssse3.Shuffle(v.AsByte(), Rot8Mask128).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotate12(Vector128<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 12) : Sse2.ShiftLeftLogical(v, 12) | Sse2.ShiftRightLogical(v, 20);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotate7(Vector128<uint> v) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(v, 7) : Sse2.ShiftLeftLogical(v, 7) | Sse2.ShiftRightLogical(v, 25);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d)
    {
        a += b; d ^= a; d = Rotate16(d);
        c += d; b ^= c; b = Rotate12(b);
        a += b; d ^= a; d = Rotate8(d);
        c += d; b ^= c; b = Rotate7(b);
    }

    /// <summary>The quarter round with c in memory: loaded once, stored once (a store/reload in the middle
    /// of the dependency chain would add the store-forwarding latency twice per quarter round).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector128<uint> a, ref Vector128<uint> b, Vector128<uint>* cp, ref Vector128<uint> d)
    {
        Vector128<uint> c = *cp;
        a += b; d ^= a; d = Rotate16(d);
        c += d; b ^= c; b = Rotate12(b);
        a += b; d ^= a; d = Rotate8(d);
        c += d; b ^= c; b = Rotate7(b);
        *cp = c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d)
    {
        Vector128<ulong> t0 = Sse2.UnpackLow(a, b).AsUInt64();
        Vector128<ulong> t1 = Sse2.UnpackHigh(a, b).AsUInt64();
        Vector128<ulong> t2 = Sse2.UnpackLow(c, d).AsUInt64();
        Vector128<ulong> t3 = Sse2.UnpackHigh(c, d).AsUInt64();
        a = Sse2.UnpackLow(t0, t2).AsUInt32();
        b = Sse2.UnpackHigh(t0, t2).AsUInt32();
        c = Sse2.UnpackLow(t1, t3).AsUInt32();
        d = Sse2.UnpackHigh(t1, t3).AsUInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output(Vector128<uint> a, Vector128<uint> b, Vector128<uint> c, Vector128<uint> d, byte* src, byte* dst)
    {
        Vector128<byte> o0 = a.AsByte(), o1 = b.AsByte(), o2 = c.AsByte(), o3 = d.AsByte();
        if (src != null)
        {
            o0 ^= Vector128.Load(src);
            o1 ^= Vector128.Load(src + 16);
            o2 ^= Vector128.Load(src + 32);
            o3 ^= Vector128.Load(src + 48);
        }
        o0.Store(dst);
        o1.Store(dst + 16);
        o2.Store(dst + 32);
        o3.Store(dst + 48);
    }

    /// <summary>4 blocks from <paramref name="counter"/>: 256 bytes.</summary>
    [SkipLocalsInit]
    public static void Pass128(uint* key, uint counter, uint n0, uint n1, uint n2, byte* src, byte* dst)
    {
        Vector128<uint> ctr = Vector128.Create(counter) + Vector128.Create(0u, 1, 2, 3);
        Vector128<uint> x0 = Vector128.Create(ChaCha20Core.Sigma0), x1 = Vector128.Create(ChaCha20Core.Sigma1);
        Vector128<uint> x2 = Vector128.Create(ChaCha20Core.Sigma2), x3 = Vector128.Create(ChaCha20Core.Sigma3);
        Vector128<uint> x4 = Vector128.Create(key[0]), x5 = Vector128.Create(key[1]);
        Vector128<uint> x6 = Vector128.Create(key[2]), x7 = Vector128.Create(key[3]);
        Vector128<uint> x8 = Vector128.Create(key[4]), x9 = Vector128.Create(key[5]);
        Vector128<uint> x10 = Vector128.Create(key[6]), x11 = Vector128.Create(key[7]);
        Vector128<uint> x12 = ctr, x13 = Vector128.Create(n0), x14 = Vector128.Create(n1), x15 = Vector128.Create(n2);
        if (Avx512F.VL.IsSupported)
        {
            // 32 vector registers: the whole state stays in registers.
            for (int i = 0; i < 10; i++)
            {
                QuarterRound(ref x0, ref x4, ref x8, ref x12);
                QuarterRound(ref x1, ref x5, ref x9, ref x13);
                QuarterRound(ref x2, ref x6, ref x10, ref x14);
                QuarterRound(ref x3, ref x7, ref x11, ref x15);
                QuarterRound(ref x0, ref x5, ref x10, ref x15);
                QuarterRound(ref x1, ref x6, ref x11, ref x12);
                QuarterRound(ref x2, ref x7, ref x8, ref x13);
                QuarterRound(ref x3, ref x4, ref x9, ref x14);
            }
        }
        else
        {
            // 16 registers cannot hold 16 state words plus the rotate temporary (the JIT then spills
            // in the worst places, 2-4x slower): words 8-11 live in a stack buffer, one load and one
            // store per quarter round, the rest in registers (OpenSSL's AVX2 code does the same).
            Vector128<uint>* c = stackalloc Vector128<uint>[4];
            c[0] = x8; c[1] = x9; c[2] = x10; c[3] = x11;
            for (int i = 0; i < 10; i++)
            {
                QuarterRound(ref x0, ref x4, c + 0, ref x12);
                QuarterRound(ref x1, ref x5, c + 1, ref x13);
                QuarterRound(ref x2, ref x6, c + 2, ref x14);
                QuarterRound(ref x3, ref x7, c + 3, ref x15);
                QuarterRound(ref x0, ref x5, c + 2, ref x15);
                QuarterRound(ref x1, ref x6, c + 3, ref x12);
                QuarterRound(ref x2, ref x7, c + 0, ref x13);
                QuarterRound(ref x3, ref x4, c + 1, ref x14);
            }
            x8 = c[0]; x9 = c[1]; x10 = c[2]; x11 = c[3];
        }
        x0 += Vector128.Create(ChaCha20Core.Sigma0); x1 += Vector128.Create(ChaCha20Core.Sigma1);
        x2 += Vector128.Create(ChaCha20Core.Sigma2); x3 += Vector128.Create(ChaCha20Core.Sigma3);
        x4 += Vector128.Create(key[0]); x5 += Vector128.Create(key[1]);
        x6 += Vector128.Create(key[2]); x7 += Vector128.Create(key[3]);
        x8 += Vector128.Create(key[4]); x9 += Vector128.Create(key[5]);
        x10 += Vector128.Create(key[6]); x11 += Vector128.Create(key[7]);
        x12 += ctr; x13 += Vector128.Create(n0); x14 += Vector128.Create(n1); x15 += Vector128.Create(n2);

        Transpose(ref x0, ref x1, ref x2, ref x3);
        Transpose(ref x4, ref x5, ref x6, ref x7);
        Transpose(ref x8, ref x9, ref x10, ref x11);
        Transpose(ref x12, ref x13, ref x14, ref x15);
        Output(x0, x4, x8, x12, src, dst);
        Output(x1, x5, x9, x13, src == null ? null : src + 64, dst + 64);
        Output(x2, x6, x10, x14, src == null ? null : src + 128, dst + 128);
        Output(x3, x7, x11, x15, src == null ? null : src + 192, dst + 192);
    }
}
