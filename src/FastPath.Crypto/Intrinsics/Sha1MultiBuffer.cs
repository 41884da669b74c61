using System.Runtime.CompilerServices;

namespace FastPath.Crypto.Intrinsics;

// SHA-1 compression (FIPS 180-4 §6.1.2) of one block in each SIMD lane: 16 independent messages
// with AVX-512 (Lanes512), 8 with AVX2 (Lanes256/Lanes256Vl). .NET exposes no SHA-NI, so across
// packets is where SHA-1 parallelism is: the 80 rounds are a serial chain within a message but
// independent between messages. Same structure as the scalar Internal/Sha1Core (80 rounds written
// out, roles renamed per round, 16-word circular schedule), every operation a lane-wise vector op:
// per round one rotate-5, one ternary-logic f, one rotate-30, and the schedule's three-way XOR,
// XOR and rotate-1. The driver (HmacSimd) feeds transposed blocks and retires lanes with a mask.
internal unsafe interface ILaneHash
{
    /// <summary>State words (5 for SHA-1, 8 for SHA-256); the digest is these words big-endian.</summary>
    static abstract int StateWords { get; }

    /// <summary>Compresses one block per lane (<paramref name="block"/>: 16 transposed big-endian words) into
    /// <paramref name="state"/>; lanes where <paramref name="active"/> is zero keep their state.</summary>
    static abstract void Compress<TOps, TVec>(TVec* state, TVec* block, TVec active)
        where TOps : ILaneOps<TVec> where TVec : unmanaged;
}

internal readonly unsafe struct Sha1MultiBuffer : ILaneHash
{
    public static int StateWords => 5;

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compress<TOps, TVec>(TVec* state, TVec* block, TVec active)
        where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        if (TOps.HasManyRegisters)
        {
            CompressInRegisters<TOps, TVec>(state, block, active);
        }
        else
        {
            // 16 vector registers (AVX2): schedule words in memory, state through the 10-round methods.
            TVec* work = stackalloc TVec[5];
            for (int i = 0; i < 5; i++) work[i] = state[i];
            SpilledRounds0To9<TOps, TVec>(work, block);
            SpilledRounds10To19<TOps, TVec>(work, block);
            SpilledRounds20To29<TOps, TVec>(work, block);
            SpilledRounds30To39<TOps, TVec>(work, block);
            SpilledRounds40To49<TOps, TVec>(work, block);
            SpilledRounds50To59<TOps, TVec>(work, block);
            SpilledRounds60To69<TOps, TVec>(work, block);
            SpilledRounds70To79<TOps, TVec>(work, block);
            for (int i = 0; i < 5; i++) state[i] = TOps.Select(active, TOps.Add(work[i], state[i]), state[i]);
        }
    }

    /// <summary>All 80 rounds with the schedule in 16 locals: for 32 vector registers (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void CompressInRegisters<TOps, TVec>(TVec* state, TVec* block, TVec active)
        where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
        TVec w0 = block[0];
        TVec w1 = block[1];
        TVec w2 = block[2];
        TVec w3 = block[3];
        TVec w4 = block[4];
        TVec w5 = block[5];
        TVec w6 = block[6];
        TVec w7 = block[7];
        TVec w8 = block[8];
        TVec w9 = block[9];
        TVec w10 = block[10];
        TVec w11 = block[11];
        TVec w12 = block[12];
        TVec w13 = block[13];
        TVec w14 = block[14];
        TVec w15 = block[15];
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w0, TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w1, TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w2, TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w3, TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w4, TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w5, TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w6, TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w7, TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w8, TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w9, TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w10, TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w11, TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w12, TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w13, TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w14, TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w15, TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        w0 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w13, w8, w2), w0), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w0, TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        w1 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w14, w9, w3), w1), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w1, TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        w2 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w15, w10, w4), w2), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w2, TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        w3 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w0, w11, w5), w3), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w3, TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        w4 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w1, w12, w6), w4), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w4, TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w5 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w2, w13, w7), w5), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w5, TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w6 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w3, w14, w8), w6), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w6, TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w7 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w4, w15, w9), w7), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w7, TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w8 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w5, w0, w10), w8), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w8, TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        w9 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w6, w1, w11), w9), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w9, TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w10 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w7, w2, w12), w10), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w10, TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w11 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w8, w3, w13), w11), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w11, TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w12 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w9, w4, w14), w12), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w12, TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w13 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w10, w5, w15), w13), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w13, TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        w14 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w11, w6, w0), w14), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w14, TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w15 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w12, w7, w1), w15), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w15, TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w0 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w13, w8, w2), w0), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w0, TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w1 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w14, w9, w3), w1), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w1, TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w2 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w15, w10, w4), w2), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w2, TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        w3 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w0, w11, w5), w3), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w3, TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w4 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w1, w12, w6), w4), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w4, TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w5 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w2, w13, w7), w5), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w5, TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w6 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w3, w14, w8), w6), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w6, TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w7 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w4, w15, w9), w7), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w7, TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        w8 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w5, w0, w10), w8), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w8, TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w9 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w6, w1, w11), w9), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w9, TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w10 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w7, w2, w12), w10), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w10, TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w11 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w8, w3, w13), w11), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w11, TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w12 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w9, w4, w14), w12), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w12, TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        w13 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w10, w5, w15), w13), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w13, TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w14 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w11, w6, w0), w14), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w14, TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w15 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w12, w7, w1), w15), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w15, TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w0 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w13, w8, w2), w0), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w0, TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w1 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w14, w9, w3), w1), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w1, TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        w2 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w15, w10, w4), w2), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w2, TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w3 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w0, w11, w5), w3), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w3, TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w4 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w1, w12, w6), w4), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w4, TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w5 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w2, w13, w7), w5), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w5, TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w6 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w3, w14, w8), w6), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w6, TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        w7 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w4, w15, w9), w7), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w7, TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w8 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w5, w0, w10), w8), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w8, TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w9 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w6, w1, w11), w9), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w9, TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w10 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w7, w2, w12), w10), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w10, TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w11 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w8, w3, w13), w11), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w11, TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        w12 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w9, w4, w14), w12), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w12, TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w13 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w10, w5, w15), w13), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w13, TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w14 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w11, w6, w0), w14), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w14, TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w15 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w12, w7, w1), w15), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w15, TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w0 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w13, w8, w2), w0), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w0, TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        w1 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w14, w9, w3), w1), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w1, TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w2 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w15, w10, w4), w2), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w2, TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w3 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w0, w11, w5), w3), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w3, TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w4 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w1, w12, w6), w4), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w4, TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w5 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w2, w13, w7), w5), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w5, TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        w6 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w3, w14, w8), w6), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w6, TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w7 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w4, w15, w9), w7), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w7, TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w8 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w5, w0, w10), w8), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w8, TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w9 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w6, w1, w11), w9), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w9, TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w10 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w7, w2, w12), w10), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w10, TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        w11 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w8, w3, w13), w11), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w11, TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w12 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w9, w4, w14), w12), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w12, TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w13 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w10, w5, w15), w13), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w13, TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w14 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w11, w6, w0), w14), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w14, TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w15 = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w12, w7, w1), w15), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w15, TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        state[0] = TOps.Select(active, TOps.Add(a, state[0]), state[0]);
        state[1] = TOps.Select(active, TOps.Add(b, state[1]), state[1]);
        state[2] = TOps.Select(active, TOps.Add(c, state[2]), state[2]);
        state[3] = TOps.Select(active, TOps.Add(d, state[3]), state[3]);
        state[4] = TOps.Select(active, TOps.Add(e, state[4]), state[4]);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds0To9<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w[0], TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w[1], TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w[2], TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w[3], TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w[4], TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w[5], TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w[6], TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w[7], TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w[8], TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w[9], TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds10To19<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w[10], TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w[11], TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w[12], TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w[13], TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w[14], TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Choose(b, c, d), TOps.Add(w[15], TOps.Broadcast(0x5A827999u))));
        b = TOps.RotateLeft(b, 30);
        w[0] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[13], w[8], w[2]), w[0]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Choose(a, b, c), TOps.Add(w[0], TOps.Broadcast(0x5A827999u))));
        a = TOps.RotateLeft(a, 30);
        w[1] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[14], w[9], w[3]), w[1]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Choose(e, a, b), TOps.Add(w[1], TOps.Broadcast(0x5A827999u))));
        e = TOps.RotateLeft(e, 30);
        w[2] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[15], w[10], w[4]), w[2]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Choose(d, e, a), TOps.Add(w[2], TOps.Broadcast(0x5A827999u))));
        d = TOps.RotateLeft(d, 30);
        w[3] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[0], w[11], w[5]), w[3]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Choose(c, d, e), TOps.Add(w[3], TOps.Broadcast(0x5A827999u))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds20To29<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        w[4] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[1], w[12], w[6]), w[4]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[4], TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w[5] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[2], w[13], w[7]), w[5]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[5], TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w[6] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[3], w[14], w[8]), w[6]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[6], TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w[7] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[4], w[15], w[9]), w[7]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[7], TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w[8] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[5], w[0], w[10]), w[8]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[8], TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        w[9] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[6], w[1], w[11]), w[9]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[9], TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w[10] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[7], w[2], w[12]), w[10]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[10], TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w[11] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[8], w[3], w[13]), w[11]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[11], TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w[12] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[9], w[4], w[14]), w[12]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[12], TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w[13] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[10], w[5], w[15]), w[13]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[13], TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds30To39<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        w[14] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[11], w[6], w[0]), w[14]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[14], TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w[15] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[12], w[7], w[1]), w[15]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[15], TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w[0] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[13], w[8], w[2]), w[0]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[0], TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w[1] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[14], w[9], w[3]), w[1]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[1], TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w[2] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[15], w[10], w[4]), w[2]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[2], TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        w[3] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[0], w[11], w[5]), w[3]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[3], TOps.Broadcast(0x6ED9EBA1u))));
        b = TOps.RotateLeft(b, 30);
        w[4] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[1], w[12], w[6]), w[4]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[4], TOps.Broadcast(0x6ED9EBA1u))));
        a = TOps.RotateLeft(a, 30);
        w[5] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[2], w[13], w[7]), w[5]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[5], TOps.Broadcast(0x6ED9EBA1u))));
        e = TOps.RotateLeft(e, 30);
        w[6] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[3], w[14], w[8]), w[6]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[6], TOps.Broadcast(0x6ED9EBA1u))));
        d = TOps.RotateLeft(d, 30);
        w[7] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[4], w[15], w[9]), w[7]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[7], TOps.Broadcast(0x6ED9EBA1u))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds40To49<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        w[8] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[5], w[0], w[10]), w[8]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w[8], TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w[9] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[6], w[1], w[11]), w[9]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w[9], TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w[10] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[7], w[2], w[12]), w[10]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w[10], TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w[11] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[8], w[3], w[13]), w[11]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w[11], TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w[12] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[9], w[4], w[14]), w[12]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w[12], TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        w[13] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[10], w[5], w[15]), w[13]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w[13], TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w[14] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[11], w[6], w[0]), w[14]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w[14], TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w[15] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[12], w[7], w[1]), w[15]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w[15], TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w[0] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[13], w[8], w[2]), w[0]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w[0], TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w[1] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[14], w[9], w[3]), w[1]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w[1], TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds50To59<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        w[2] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[15], w[10], w[4]), w[2]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w[2], TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w[3] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[0], w[11], w[5]), w[3]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w[3], TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w[4] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[1], w[12], w[6]), w[4]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w[4], TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w[5] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[2], w[13], w[7]), w[5]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w[5], TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w[6] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[3], w[14], w[8]), w[6]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w[6], TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        w[7] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[4], w[15], w[9]), w[7]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Majority(b, c, d), TOps.Add(w[7], TOps.Broadcast(0x8F1BBCDCu))));
        b = TOps.RotateLeft(b, 30);
        w[8] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[5], w[0], w[10]), w[8]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Majority(a, b, c), TOps.Add(w[8], TOps.Broadcast(0x8F1BBCDCu))));
        a = TOps.RotateLeft(a, 30);
        w[9] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[6], w[1], w[11]), w[9]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Majority(e, a, b), TOps.Add(w[9], TOps.Broadcast(0x8F1BBCDCu))));
        e = TOps.RotateLeft(e, 30);
        w[10] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[7], w[2], w[12]), w[10]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Majority(d, e, a), TOps.Add(w[10], TOps.Broadcast(0x8F1BBCDCu))));
        d = TOps.RotateLeft(d, 30);
        w[11] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[8], w[3], w[13]), w[11]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Majority(c, d, e), TOps.Add(w[11], TOps.Broadcast(0x8F1BBCDCu))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds60To69<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        w[12] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[9], w[4], w[14]), w[12]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[12], TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w[13] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[10], w[5], w[15]), w[13]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[13], TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w[14] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[11], w[6], w[0]), w[14]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[14], TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w[15] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[12], w[7], w[1]), w[15]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[15], TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w[0] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[13], w[8], w[2]), w[0]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[0], TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        w[1] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[14], w[9], w[3]), w[1]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[1], TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w[2] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[15], w[10], w[4]), w[2]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[2], TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w[3] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[0], w[11], w[5]), w[3]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[3], TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w[4] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[1], w[12], w[6]), w[4]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[4], TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w[5] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[2], w[13], w[7]), w[5]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[5], TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds70To79<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        w[6] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[3], w[14], w[8]), w[6]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[6], TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w[7] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[4], w[15], w[9]), w[7]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[7], TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w[8] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[5], w[0], w[10]), w[8]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[8], TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w[9] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[6], w[1], w[11]), w[9]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[9], TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w[10] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[7], w[2], w[12]), w[10]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[10], TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        w[11] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[8], w[3], w[13]), w[11]), 1);
        e = TOps.Add(TOps.Add(e, TOps.RotateLeft(a, 5)), TOps.Add(TOps.Xor3(b, c, d), TOps.Add(w[11], TOps.Broadcast(0xCA62C1D6u))));
        b = TOps.RotateLeft(b, 30);
        w[12] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[9], w[4], w[14]), w[12]), 1);
        d = TOps.Add(TOps.Add(d, TOps.RotateLeft(e, 5)), TOps.Add(TOps.Xor3(a, b, c), TOps.Add(w[12], TOps.Broadcast(0xCA62C1D6u))));
        a = TOps.RotateLeft(a, 30);
        w[13] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[10], w[5], w[15]), w[13]), 1);
        c = TOps.Add(TOps.Add(c, TOps.RotateLeft(d, 5)), TOps.Add(TOps.Xor3(e, a, b), TOps.Add(w[13], TOps.Broadcast(0xCA62C1D6u))));
        e = TOps.RotateLeft(e, 30);
        w[14] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[11], w[6], w[0]), w[14]), 1);
        b = TOps.Add(TOps.Add(b, TOps.RotateLeft(c, 5)), TOps.Add(TOps.Xor3(d, e, a), TOps.Add(w[14], TOps.Broadcast(0xCA62C1D6u))));
        d = TOps.RotateLeft(d, 30);
        w[15] = TOps.RotateLeft(TOps.Xor(TOps.Xor3(w[12], w[7], w[1]), w[15]), 1);
        a = TOps.Add(TOps.Add(a, TOps.RotateLeft(b, 5)), TOps.Add(TOps.Xor3(c, d, e), TOps.Add(w[15], TOps.Broadcast(0xCA62C1D6u))));
        c = TOps.RotateLeft(c, 30);
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
    }

}
