using System.Runtime.CompilerServices;

namespace FastPath.Crypto.Intrinsics;

// SHA-256 compression (FIPS 180-4 §6.2.2) of one block in each SIMD lane (16 lanes AVX-512, 8
// AVX2), the multi-buffer counterpart of Internal/Sha256Core: rounds written out with renamed
// roles, the schedule updated in place in the transposed block one word ahead, K (§4.2.2) as
// broadcast constants. With AVX-512 each Σ/σ is three VPRORD/VPSRLD and one VPTERNLOGD, Ch and Maj
// one VPTERNLOGD each. Split into methods of 8 rounds (roles return to a..h) to stay within the
// JIT's inlining limits (see Sha1MultiBuffer). The driver (HmacSimd) feeds transposed blocks and
// retires lanes with a mask.
internal readonly unsafe struct Sha256MultiBuffer : ILaneHash
{
    public static int StateWords => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec BigSigma0<TOps, TVec>(TVec x) where TOps : ILaneOps<TVec> where TVec : unmanaged =>
        TOps.Xor3(TOps.RotateRight(x, 2), TOps.RotateRight(x, 13), TOps.RotateRight(x, 22));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec BigSigma1<TOps, TVec>(TVec x) where TOps : ILaneOps<TVec> where TVec : unmanaged =>
        TOps.Xor3(TOps.RotateRight(x, 6), TOps.RotateRight(x, 11), TOps.RotateRight(x, 25));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SmallSigma0<TOps, TVec>(TVec x) where TOps : ILaneOps<TVec> where TVec : unmanaged =>
        TOps.Xor3(TOps.RotateRight(x, 7), TOps.RotateRight(x, 18), TOps.ShiftRight(x, 3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SmallSigma1<TOps, TVec>(TVec x) where TOps : ILaneOps<TVec> where TVec : unmanaged =>
        TOps.Xor3(TOps.RotateRight(x, 17), TOps.RotateRight(x, 19), TOps.ShiftRight(x, 10));

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compress<TOps, TVec>(TVec* state, TVec* block, TVec active)
        where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec* work = stackalloc TVec[8];
        for (int i = 0; i < 8; i++) work[i] = state[i];
        if (TOps.HasManyRegisters)
        {
            // 32 vector registers: schedule in locals, two 32-round methods.
            Rounds0To31<TOps, TVec>(work, block);
            Rounds32To63<TOps, TVec>(work, block);
        }
        else
        {
            // 16 vector registers (AVX2): schedule words in memory, 8-round methods.
            SpilledRounds0To7<TOps, TVec>(work, block);
            SpilledRounds8To15<TOps, TVec>(work, block);
            SpilledRounds16To23<TOps, TVec>(work, block);
            SpilledRounds24To31<TOps, TVec>(work, block);
            SpilledRounds32To39<TOps, TVec>(work, block);
            SpilledRounds40To47<TOps, TVec>(work, block);
            SpilledRounds48To55<TOps, TVec>(work, block);
            SpilledRounds56To63<TOps, TVec>(work, block);
        }
        for (int i = 0; i < 8; i++) state[i] = TOps.Select(active, TOps.Add(work[i], state[i]), state[i]);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void Rounds0To31<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        TVec w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8], w9 = w[9], w10 = w[10], w11 = w[11], w12 = w[12], w13 = w[13], w14 = w[14], w15 = w[15];
        h = TOps.Add(TOps.Add(h, TOps.Add(w0, TOps.Broadcast(0x428A2F98u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w1, TOps.Broadcast(0x71374491u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w2, TOps.Broadcast(0xB5C0FBCFu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w3, TOps.Broadcast(0xE9B5DBA5u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w4, TOps.Broadcast(0x3956C25Bu))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w5, TOps.Broadcast(0x59F111F1u))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w6, TOps.Broadcast(0x923F82A4u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w7, TOps.Broadcast(0xAB1C5ED5u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        h = TOps.Add(TOps.Add(h, TOps.Add(w8, TOps.Broadcast(0xD807AA98u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w9, TOps.Broadcast(0x12835B01u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w10, TOps.Broadcast(0x243185BEu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w11, TOps.Broadcast(0x550C7DC3u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w12, TOps.Broadcast(0x72BE5D74u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w13, TOps.Broadcast(0x80DEB1FEu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w14, TOps.Broadcast(0x9BDC06A7u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w15, TOps.Broadcast(0xC19BF174u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        w0 = TOps.Add(TOps.Add(w0, SmallSigma0<TOps, TVec>(w1)), TOps.Add(w9, SmallSigma1<TOps, TVec>(w14)));
        h = TOps.Add(TOps.Add(h, TOps.Add(w0, TOps.Broadcast(0xE49B69C1u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w1 = TOps.Add(TOps.Add(w1, SmallSigma0<TOps, TVec>(w2)), TOps.Add(w10, SmallSigma1<TOps, TVec>(w15)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w1, TOps.Broadcast(0xEFBE4786u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w2 = TOps.Add(TOps.Add(w2, SmallSigma0<TOps, TVec>(w3)), TOps.Add(w11, SmallSigma1<TOps, TVec>(w0)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w2, TOps.Broadcast(0x0FC19DC6u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w3 = TOps.Add(TOps.Add(w3, SmallSigma0<TOps, TVec>(w4)), TOps.Add(w12, SmallSigma1<TOps, TVec>(w1)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w3, TOps.Broadcast(0x240CA1CCu))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w4 = TOps.Add(TOps.Add(w4, SmallSigma0<TOps, TVec>(w5)), TOps.Add(w13, SmallSigma1<TOps, TVec>(w2)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w4, TOps.Broadcast(0x2DE92C6Fu))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w5 = TOps.Add(TOps.Add(w5, SmallSigma0<TOps, TVec>(w6)), TOps.Add(w14, SmallSigma1<TOps, TVec>(w3)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w5, TOps.Broadcast(0x4A7484AAu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w6 = TOps.Add(TOps.Add(w6, SmallSigma0<TOps, TVec>(w7)), TOps.Add(w15, SmallSigma1<TOps, TVec>(w4)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w6, TOps.Broadcast(0x5CB0A9DCu))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w7 = TOps.Add(TOps.Add(w7, SmallSigma0<TOps, TVec>(w8)), TOps.Add(w0, SmallSigma1<TOps, TVec>(w5)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w7, TOps.Broadcast(0x76F988DAu))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        w8 = TOps.Add(TOps.Add(w8, SmallSigma0<TOps, TVec>(w9)), TOps.Add(w1, SmallSigma1<TOps, TVec>(w6)));
        h = TOps.Add(TOps.Add(h, TOps.Add(w8, TOps.Broadcast(0x983E5152u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w9 = TOps.Add(TOps.Add(w9, SmallSigma0<TOps, TVec>(w10)), TOps.Add(w2, SmallSigma1<TOps, TVec>(w7)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w9, TOps.Broadcast(0xA831C66Du))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w10 = TOps.Add(TOps.Add(w10, SmallSigma0<TOps, TVec>(w11)), TOps.Add(w3, SmallSigma1<TOps, TVec>(w8)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w10, TOps.Broadcast(0xB00327C8u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w11 = TOps.Add(TOps.Add(w11, SmallSigma0<TOps, TVec>(w12)), TOps.Add(w4, SmallSigma1<TOps, TVec>(w9)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w11, TOps.Broadcast(0xBF597FC7u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w12 = TOps.Add(TOps.Add(w12, SmallSigma0<TOps, TVec>(w13)), TOps.Add(w5, SmallSigma1<TOps, TVec>(w10)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w12, TOps.Broadcast(0xC6E00BF3u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w13 = TOps.Add(TOps.Add(w13, SmallSigma0<TOps, TVec>(w14)), TOps.Add(w6, SmallSigma1<TOps, TVec>(w11)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w13, TOps.Broadcast(0xD5A79147u))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w14 = TOps.Add(TOps.Add(w14, SmallSigma0<TOps, TVec>(w15)), TOps.Add(w7, SmallSigma1<TOps, TVec>(w12)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w14, TOps.Broadcast(0x06CA6351u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w15 = TOps.Add(TOps.Add(w15, SmallSigma0<TOps, TVec>(w0)), TOps.Add(w8, SmallSigma1<TOps, TVec>(w13)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w15, TOps.Broadcast(0x14292967u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
        w[0] = w0; w[1] = w1; w[2] = w2; w[3] = w3; w[4] = w4; w[5] = w5; w[6] = w6; w[7] = w7; w[8] = w8; w[9] = w9; w[10] = w10; w[11] = w11; w[12] = w12; w[13] = w13; w[14] = w14; w[15] = w15;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void Rounds32To63<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        TVec w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8], w9 = w[9], w10 = w[10], w11 = w[11], w12 = w[12], w13 = w[13], w14 = w[14], w15 = w[15];
        w0 = TOps.Add(TOps.Add(w0, SmallSigma0<TOps, TVec>(w1)), TOps.Add(w9, SmallSigma1<TOps, TVec>(w14)));
        h = TOps.Add(TOps.Add(h, TOps.Add(w0, TOps.Broadcast(0x27B70A85u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w1 = TOps.Add(TOps.Add(w1, SmallSigma0<TOps, TVec>(w2)), TOps.Add(w10, SmallSigma1<TOps, TVec>(w15)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w1, TOps.Broadcast(0x2E1B2138u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w2 = TOps.Add(TOps.Add(w2, SmallSigma0<TOps, TVec>(w3)), TOps.Add(w11, SmallSigma1<TOps, TVec>(w0)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w2, TOps.Broadcast(0x4D2C6DFCu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w3 = TOps.Add(TOps.Add(w3, SmallSigma0<TOps, TVec>(w4)), TOps.Add(w12, SmallSigma1<TOps, TVec>(w1)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w3, TOps.Broadcast(0x53380D13u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w4 = TOps.Add(TOps.Add(w4, SmallSigma0<TOps, TVec>(w5)), TOps.Add(w13, SmallSigma1<TOps, TVec>(w2)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w4, TOps.Broadcast(0x650A7354u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w5 = TOps.Add(TOps.Add(w5, SmallSigma0<TOps, TVec>(w6)), TOps.Add(w14, SmallSigma1<TOps, TVec>(w3)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w5, TOps.Broadcast(0x766A0ABBu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w6 = TOps.Add(TOps.Add(w6, SmallSigma0<TOps, TVec>(w7)), TOps.Add(w15, SmallSigma1<TOps, TVec>(w4)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w6, TOps.Broadcast(0x81C2C92Eu))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w7 = TOps.Add(TOps.Add(w7, SmallSigma0<TOps, TVec>(w8)), TOps.Add(w0, SmallSigma1<TOps, TVec>(w5)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w7, TOps.Broadcast(0x92722C85u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        w8 = TOps.Add(TOps.Add(w8, SmallSigma0<TOps, TVec>(w9)), TOps.Add(w1, SmallSigma1<TOps, TVec>(w6)));
        h = TOps.Add(TOps.Add(h, TOps.Add(w8, TOps.Broadcast(0xA2BFE8A1u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w9 = TOps.Add(TOps.Add(w9, SmallSigma0<TOps, TVec>(w10)), TOps.Add(w2, SmallSigma1<TOps, TVec>(w7)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w9, TOps.Broadcast(0xA81A664Bu))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w10 = TOps.Add(TOps.Add(w10, SmallSigma0<TOps, TVec>(w11)), TOps.Add(w3, SmallSigma1<TOps, TVec>(w8)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w10, TOps.Broadcast(0xC24B8B70u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w11 = TOps.Add(TOps.Add(w11, SmallSigma0<TOps, TVec>(w12)), TOps.Add(w4, SmallSigma1<TOps, TVec>(w9)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w11, TOps.Broadcast(0xC76C51A3u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w12 = TOps.Add(TOps.Add(w12, SmallSigma0<TOps, TVec>(w13)), TOps.Add(w5, SmallSigma1<TOps, TVec>(w10)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w12, TOps.Broadcast(0xD192E819u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w13 = TOps.Add(TOps.Add(w13, SmallSigma0<TOps, TVec>(w14)), TOps.Add(w6, SmallSigma1<TOps, TVec>(w11)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w13, TOps.Broadcast(0xD6990624u))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w14 = TOps.Add(TOps.Add(w14, SmallSigma0<TOps, TVec>(w15)), TOps.Add(w7, SmallSigma1<TOps, TVec>(w12)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w14, TOps.Broadcast(0xF40E3585u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w15 = TOps.Add(TOps.Add(w15, SmallSigma0<TOps, TVec>(w0)), TOps.Add(w8, SmallSigma1<TOps, TVec>(w13)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w15, TOps.Broadcast(0x106AA070u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        w0 = TOps.Add(TOps.Add(w0, SmallSigma0<TOps, TVec>(w1)), TOps.Add(w9, SmallSigma1<TOps, TVec>(w14)));
        h = TOps.Add(TOps.Add(h, TOps.Add(w0, TOps.Broadcast(0x19A4C116u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w1 = TOps.Add(TOps.Add(w1, SmallSigma0<TOps, TVec>(w2)), TOps.Add(w10, SmallSigma1<TOps, TVec>(w15)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w1, TOps.Broadcast(0x1E376C08u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w2 = TOps.Add(TOps.Add(w2, SmallSigma0<TOps, TVec>(w3)), TOps.Add(w11, SmallSigma1<TOps, TVec>(w0)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w2, TOps.Broadcast(0x2748774Cu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w3 = TOps.Add(TOps.Add(w3, SmallSigma0<TOps, TVec>(w4)), TOps.Add(w12, SmallSigma1<TOps, TVec>(w1)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w3, TOps.Broadcast(0x34B0BCB5u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w4 = TOps.Add(TOps.Add(w4, SmallSigma0<TOps, TVec>(w5)), TOps.Add(w13, SmallSigma1<TOps, TVec>(w2)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w4, TOps.Broadcast(0x391C0CB3u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w5 = TOps.Add(TOps.Add(w5, SmallSigma0<TOps, TVec>(w6)), TOps.Add(w14, SmallSigma1<TOps, TVec>(w3)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w5, TOps.Broadcast(0x4ED8AA4Au))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w6 = TOps.Add(TOps.Add(w6, SmallSigma0<TOps, TVec>(w7)), TOps.Add(w15, SmallSigma1<TOps, TVec>(w4)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w6, TOps.Broadcast(0x5B9CCA4Fu))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w7 = TOps.Add(TOps.Add(w7, SmallSigma0<TOps, TVec>(w8)), TOps.Add(w0, SmallSigma1<TOps, TVec>(w5)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w7, TOps.Broadcast(0x682E6FF3u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        w8 = TOps.Add(TOps.Add(w8, SmallSigma0<TOps, TVec>(w9)), TOps.Add(w1, SmallSigma1<TOps, TVec>(w6)));
        h = TOps.Add(TOps.Add(h, TOps.Add(w8, TOps.Broadcast(0x748F82EEu))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w9 = TOps.Add(TOps.Add(w9, SmallSigma0<TOps, TVec>(w10)), TOps.Add(w2, SmallSigma1<TOps, TVec>(w7)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w9, TOps.Broadcast(0x78A5636Fu))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w10 = TOps.Add(TOps.Add(w10, SmallSigma0<TOps, TVec>(w11)), TOps.Add(w3, SmallSigma1<TOps, TVec>(w8)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w10, TOps.Broadcast(0x84C87814u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w11 = TOps.Add(TOps.Add(w11, SmallSigma0<TOps, TVec>(w12)), TOps.Add(w4, SmallSigma1<TOps, TVec>(w9)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w11, TOps.Broadcast(0x8CC70208u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w12 = TOps.Add(TOps.Add(w12, SmallSigma0<TOps, TVec>(w13)), TOps.Add(w5, SmallSigma1<TOps, TVec>(w10)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w12, TOps.Broadcast(0x90BEFFFAu))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w13 = TOps.Add(TOps.Add(w13, SmallSigma0<TOps, TVec>(w14)), TOps.Add(w6, SmallSigma1<TOps, TVec>(w11)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w13, TOps.Broadcast(0xA4506CEBu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w14 = TOps.Add(TOps.Add(w14, SmallSigma0<TOps, TVec>(w15)), TOps.Add(w7, SmallSigma1<TOps, TVec>(w12)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w14, TOps.Broadcast(0xBEF9A3F7u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w15 = TOps.Add(TOps.Add(w15, SmallSigma0<TOps, TVec>(w0)), TOps.Add(w8, SmallSigma1<TOps, TVec>(w13)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w15, TOps.Broadcast(0xC67178F2u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds0To7<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        h = TOps.Add(TOps.Add(h, TOps.Add(w[0], TOps.Broadcast(0x428A2F98u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[1], TOps.Broadcast(0x71374491u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[2], TOps.Broadcast(0xB5C0FBCFu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[3], TOps.Broadcast(0xE9B5DBA5u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[4], TOps.Broadcast(0x3956C25Bu))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[5], TOps.Broadcast(0x59F111F1u))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[6], TOps.Broadcast(0x923F82A4u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[7], TOps.Broadcast(0xAB1C5ED5u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds8To15<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        h = TOps.Add(TOps.Add(h, TOps.Add(w[8], TOps.Broadcast(0xD807AA98u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[9], TOps.Broadcast(0x12835B01u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[10], TOps.Broadcast(0x243185BEu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[11], TOps.Broadcast(0x550C7DC3u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[12], TOps.Broadcast(0x72BE5D74u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[13], TOps.Broadcast(0x80DEB1FEu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[14], TOps.Broadcast(0x9BDC06A7u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[15], TOps.Broadcast(0xC19BF174u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds16To23<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        w[0] = TOps.Add(TOps.Add(w[0], SmallSigma0<TOps, TVec>(w[1])), TOps.Add(w[9], SmallSigma1<TOps, TVec>(w[14])));
        h = TOps.Add(TOps.Add(h, TOps.Add(w[0], TOps.Broadcast(0xE49B69C1u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w[1] = TOps.Add(TOps.Add(w[1], SmallSigma0<TOps, TVec>(w[2])), TOps.Add(w[10], SmallSigma1<TOps, TVec>(w[15])));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[1], TOps.Broadcast(0xEFBE4786u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w[2] = TOps.Add(TOps.Add(w[2], SmallSigma0<TOps, TVec>(w[3])), TOps.Add(w[11], SmallSigma1<TOps, TVec>(w[0])));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[2], TOps.Broadcast(0x0FC19DC6u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w[3] = TOps.Add(TOps.Add(w[3], SmallSigma0<TOps, TVec>(w[4])), TOps.Add(w[12], SmallSigma1<TOps, TVec>(w[1])));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[3], TOps.Broadcast(0x240CA1CCu))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w[4] = TOps.Add(TOps.Add(w[4], SmallSigma0<TOps, TVec>(w[5])), TOps.Add(w[13], SmallSigma1<TOps, TVec>(w[2])));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[4], TOps.Broadcast(0x2DE92C6Fu))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w[5] = TOps.Add(TOps.Add(w[5], SmallSigma0<TOps, TVec>(w[6])), TOps.Add(w[14], SmallSigma1<TOps, TVec>(w[3])));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[5], TOps.Broadcast(0x4A7484AAu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w[6] = TOps.Add(TOps.Add(w[6], SmallSigma0<TOps, TVec>(w[7])), TOps.Add(w[15], SmallSigma1<TOps, TVec>(w[4])));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[6], TOps.Broadcast(0x5CB0A9DCu))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w[7] = TOps.Add(TOps.Add(w[7], SmallSigma0<TOps, TVec>(w[8])), TOps.Add(w[0], SmallSigma1<TOps, TVec>(w[5])));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[7], TOps.Broadcast(0x76F988DAu))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds24To31<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        w[8] = TOps.Add(TOps.Add(w[8], SmallSigma0<TOps, TVec>(w[9])), TOps.Add(w[1], SmallSigma1<TOps, TVec>(w[6])));
        h = TOps.Add(TOps.Add(h, TOps.Add(w[8], TOps.Broadcast(0x983E5152u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w[9] = TOps.Add(TOps.Add(w[9], SmallSigma0<TOps, TVec>(w[10])), TOps.Add(w[2], SmallSigma1<TOps, TVec>(w[7])));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[9], TOps.Broadcast(0xA831C66Du))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w[10] = TOps.Add(TOps.Add(w[10], SmallSigma0<TOps, TVec>(w[11])), TOps.Add(w[3], SmallSigma1<TOps, TVec>(w[8])));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[10], TOps.Broadcast(0xB00327C8u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w[11] = TOps.Add(TOps.Add(w[11], SmallSigma0<TOps, TVec>(w[12])), TOps.Add(w[4], SmallSigma1<TOps, TVec>(w[9])));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[11], TOps.Broadcast(0xBF597FC7u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w[12] = TOps.Add(TOps.Add(w[12], SmallSigma0<TOps, TVec>(w[13])), TOps.Add(w[5], SmallSigma1<TOps, TVec>(w[10])));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[12], TOps.Broadcast(0xC6E00BF3u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w[13] = TOps.Add(TOps.Add(w[13], SmallSigma0<TOps, TVec>(w[14])), TOps.Add(w[6], SmallSigma1<TOps, TVec>(w[11])));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[13], TOps.Broadcast(0xD5A79147u))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w[14] = TOps.Add(TOps.Add(w[14], SmallSigma0<TOps, TVec>(w[15])), TOps.Add(w[7], SmallSigma1<TOps, TVec>(w[12])));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[14], TOps.Broadcast(0x06CA6351u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w[15] = TOps.Add(TOps.Add(w[15], SmallSigma0<TOps, TVec>(w[0])), TOps.Add(w[8], SmallSigma1<TOps, TVec>(w[13])));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[15], TOps.Broadcast(0x14292967u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds32To39<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        w[0] = TOps.Add(TOps.Add(w[0], SmallSigma0<TOps, TVec>(w[1])), TOps.Add(w[9], SmallSigma1<TOps, TVec>(w[14])));
        h = TOps.Add(TOps.Add(h, TOps.Add(w[0], TOps.Broadcast(0x27B70A85u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w[1] = TOps.Add(TOps.Add(w[1], SmallSigma0<TOps, TVec>(w[2])), TOps.Add(w[10], SmallSigma1<TOps, TVec>(w[15])));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[1], TOps.Broadcast(0x2E1B2138u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w[2] = TOps.Add(TOps.Add(w[2], SmallSigma0<TOps, TVec>(w[3])), TOps.Add(w[11], SmallSigma1<TOps, TVec>(w[0])));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[2], TOps.Broadcast(0x4D2C6DFCu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w[3] = TOps.Add(TOps.Add(w[3], SmallSigma0<TOps, TVec>(w[4])), TOps.Add(w[12], SmallSigma1<TOps, TVec>(w[1])));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[3], TOps.Broadcast(0x53380D13u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w[4] = TOps.Add(TOps.Add(w[4], SmallSigma0<TOps, TVec>(w[5])), TOps.Add(w[13], SmallSigma1<TOps, TVec>(w[2])));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[4], TOps.Broadcast(0x650A7354u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w[5] = TOps.Add(TOps.Add(w[5], SmallSigma0<TOps, TVec>(w[6])), TOps.Add(w[14], SmallSigma1<TOps, TVec>(w[3])));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[5], TOps.Broadcast(0x766A0ABBu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w[6] = TOps.Add(TOps.Add(w[6], SmallSigma0<TOps, TVec>(w[7])), TOps.Add(w[15], SmallSigma1<TOps, TVec>(w[4])));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[6], TOps.Broadcast(0x81C2C92Eu))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w[7] = TOps.Add(TOps.Add(w[7], SmallSigma0<TOps, TVec>(w[8])), TOps.Add(w[0], SmallSigma1<TOps, TVec>(w[5])));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[7], TOps.Broadcast(0x92722C85u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds40To47<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        w[8] = TOps.Add(TOps.Add(w[8], SmallSigma0<TOps, TVec>(w[9])), TOps.Add(w[1], SmallSigma1<TOps, TVec>(w[6])));
        h = TOps.Add(TOps.Add(h, TOps.Add(w[8], TOps.Broadcast(0xA2BFE8A1u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w[9] = TOps.Add(TOps.Add(w[9], SmallSigma0<TOps, TVec>(w[10])), TOps.Add(w[2], SmallSigma1<TOps, TVec>(w[7])));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[9], TOps.Broadcast(0xA81A664Bu))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w[10] = TOps.Add(TOps.Add(w[10], SmallSigma0<TOps, TVec>(w[11])), TOps.Add(w[3], SmallSigma1<TOps, TVec>(w[8])));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[10], TOps.Broadcast(0xC24B8B70u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w[11] = TOps.Add(TOps.Add(w[11], SmallSigma0<TOps, TVec>(w[12])), TOps.Add(w[4], SmallSigma1<TOps, TVec>(w[9])));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[11], TOps.Broadcast(0xC76C51A3u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w[12] = TOps.Add(TOps.Add(w[12], SmallSigma0<TOps, TVec>(w[13])), TOps.Add(w[5], SmallSigma1<TOps, TVec>(w[10])));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[12], TOps.Broadcast(0xD192E819u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w[13] = TOps.Add(TOps.Add(w[13], SmallSigma0<TOps, TVec>(w[14])), TOps.Add(w[6], SmallSigma1<TOps, TVec>(w[11])));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[13], TOps.Broadcast(0xD6990624u))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w[14] = TOps.Add(TOps.Add(w[14], SmallSigma0<TOps, TVec>(w[15])), TOps.Add(w[7], SmallSigma1<TOps, TVec>(w[12])));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[14], TOps.Broadcast(0xF40E3585u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w[15] = TOps.Add(TOps.Add(w[15], SmallSigma0<TOps, TVec>(w[0])), TOps.Add(w[8], SmallSigma1<TOps, TVec>(w[13])));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[15], TOps.Broadcast(0x106AA070u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds48To55<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        w[0] = TOps.Add(TOps.Add(w[0], SmallSigma0<TOps, TVec>(w[1])), TOps.Add(w[9], SmallSigma1<TOps, TVec>(w[14])));
        h = TOps.Add(TOps.Add(h, TOps.Add(w[0], TOps.Broadcast(0x19A4C116u))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w[1] = TOps.Add(TOps.Add(w[1], SmallSigma0<TOps, TVec>(w[2])), TOps.Add(w[10], SmallSigma1<TOps, TVec>(w[15])));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[1], TOps.Broadcast(0x1E376C08u))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w[2] = TOps.Add(TOps.Add(w[2], SmallSigma0<TOps, TVec>(w[3])), TOps.Add(w[11], SmallSigma1<TOps, TVec>(w[0])));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[2], TOps.Broadcast(0x2748774Cu))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w[3] = TOps.Add(TOps.Add(w[3], SmallSigma0<TOps, TVec>(w[4])), TOps.Add(w[12], SmallSigma1<TOps, TVec>(w[1])));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[3], TOps.Broadcast(0x34B0BCB5u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w[4] = TOps.Add(TOps.Add(w[4], SmallSigma0<TOps, TVec>(w[5])), TOps.Add(w[13], SmallSigma1<TOps, TVec>(w[2])));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[4], TOps.Broadcast(0x391C0CB3u))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w[5] = TOps.Add(TOps.Add(w[5], SmallSigma0<TOps, TVec>(w[6])), TOps.Add(w[14], SmallSigma1<TOps, TVec>(w[3])));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[5], TOps.Broadcast(0x4ED8AA4Au))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w[6] = TOps.Add(TOps.Add(w[6], SmallSigma0<TOps, TVec>(w[7])), TOps.Add(w[15], SmallSigma1<TOps, TVec>(w[4])));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[6], TOps.Broadcast(0x5B9CCA4Fu))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w[7] = TOps.Add(TOps.Add(w[7], SmallSigma0<TOps, TVec>(w[8])), TOps.Add(w[0], SmallSigma1<TOps, TVec>(w[5])));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[7], TOps.Broadcast(0x682E6FF3u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void SpilledRounds56To63<TOps, TVec>(TVec* s, TVec* w) where TOps : ILaneOps<TVec> where TVec : unmanaged
    {
        TVec a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        w[8] = TOps.Add(TOps.Add(w[8], SmallSigma0<TOps, TVec>(w[9])), TOps.Add(w[1], SmallSigma1<TOps, TVec>(w[6])));
        h = TOps.Add(TOps.Add(h, TOps.Add(w[8], TOps.Broadcast(0x748F82EEu))), TOps.Add(BigSigma1<TOps, TVec>(e), TOps.Choose(e, f, g)));
        d = TOps.Add(d, h);
        h = TOps.Add(h, TOps.Add(BigSigma0<TOps, TVec>(a), TOps.Majority(a, b, c)));
        w[9] = TOps.Add(TOps.Add(w[9], SmallSigma0<TOps, TVec>(w[10])), TOps.Add(w[2], SmallSigma1<TOps, TVec>(w[7])));
        g = TOps.Add(TOps.Add(g, TOps.Add(w[9], TOps.Broadcast(0x78A5636Fu))), TOps.Add(BigSigma1<TOps, TVec>(d), TOps.Choose(d, e, f)));
        c = TOps.Add(c, g);
        g = TOps.Add(g, TOps.Add(BigSigma0<TOps, TVec>(h), TOps.Majority(h, a, b)));
        w[10] = TOps.Add(TOps.Add(w[10], SmallSigma0<TOps, TVec>(w[11])), TOps.Add(w[3], SmallSigma1<TOps, TVec>(w[8])));
        f = TOps.Add(TOps.Add(f, TOps.Add(w[10], TOps.Broadcast(0x84C87814u))), TOps.Add(BigSigma1<TOps, TVec>(c), TOps.Choose(c, d, e)));
        b = TOps.Add(b, f);
        f = TOps.Add(f, TOps.Add(BigSigma0<TOps, TVec>(g), TOps.Majority(g, h, a)));
        w[11] = TOps.Add(TOps.Add(w[11], SmallSigma0<TOps, TVec>(w[12])), TOps.Add(w[4], SmallSigma1<TOps, TVec>(w[9])));
        e = TOps.Add(TOps.Add(e, TOps.Add(w[11], TOps.Broadcast(0x8CC70208u))), TOps.Add(BigSigma1<TOps, TVec>(b), TOps.Choose(b, c, d)));
        a = TOps.Add(a, e);
        e = TOps.Add(e, TOps.Add(BigSigma0<TOps, TVec>(f), TOps.Majority(f, g, h)));
        w[12] = TOps.Add(TOps.Add(w[12], SmallSigma0<TOps, TVec>(w[13])), TOps.Add(w[5], SmallSigma1<TOps, TVec>(w[10])));
        d = TOps.Add(TOps.Add(d, TOps.Add(w[12], TOps.Broadcast(0x90BEFFFAu))), TOps.Add(BigSigma1<TOps, TVec>(a), TOps.Choose(a, b, c)));
        h = TOps.Add(h, d);
        d = TOps.Add(d, TOps.Add(BigSigma0<TOps, TVec>(e), TOps.Majority(e, f, g)));
        w[13] = TOps.Add(TOps.Add(w[13], SmallSigma0<TOps, TVec>(w[14])), TOps.Add(w[6], SmallSigma1<TOps, TVec>(w[11])));
        c = TOps.Add(TOps.Add(c, TOps.Add(w[13], TOps.Broadcast(0xA4506CEBu))), TOps.Add(BigSigma1<TOps, TVec>(h), TOps.Choose(h, a, b)));
        g = TOps.Add(g, c);
        c = TOps.Add(c, TOps.Add(BigSigma0<TOps, TVec>(d), TOps.Majority(d, e, f)));
        w[14] = TOps.Add(TOps.Add(w[14], SmallSigma0<TOps, TVec>(w[15])), TOps.Add(w[7], SmallSigma1<TOps, TVec>(w[12])));
        b = TOps.Add(TOps.Add(b, TOps.Add(w[14], TOps.Broadcast(0xBEF9A3F7u))), TOps.Add(BigSigma1<TOps, TVec>(g), TOps.Choose(g, h, a)));
        f = TOps.Add(f, b);
        b = TOps.Add(b, TOps.Add(BigSigma0<TOps, TVec>(c), TOps.Majority(c, d, e)));
        w[15] = TOps.Add(TOps.Add(w[15], SmallSigma0<TOps, TVec>(w[0])), TOps.Add(w[8], SmallSigma1<TOps, TVec>(w[13])));
        a = TOps.Add(TOps.Add(a, TOps.Add(w[15], TOps.Broadcast(0xC67178F2u))), TOps.Add(BigSigma1<TOps, TVec>(f), TOps.Choose(f, g, h)));
        e = TOps.Add(e, a);
        a = TOps.Add(a, TOps.Add(BigSigma0<TOps, TVec>(b), TOps.Majority(b, c, d)));
        s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e; s[5] = f; s[6] = g; s[7] = h;
    }
}
