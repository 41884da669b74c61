using System.Diagnostics.CodeAnalysis;

// The rotate counts are constants at every (inlined) call site; the analyzer cannot see through the
// 32 - count of the AVX2 shift pair.
#pragma warning disable CA1857
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Crypto.Intrinsics;

// Vector operations for multi-buffer SHA-1/SHA-256 (Sha1MultiBuffer, Sha256MultiBuffer): one
// 32-bit lane per message. The compression functions are written once, generic over these structs
// (static abstract members, specialized by the JIT per struct so every call inlines):
// - Lanes512: 16 lanes of Vector512<uint> (AVX-512F/BW): VPROLD/VPRORD rotates, VPTERNLOGD for
//   Ch (0xCA), Maj (0xE8) and three-way XOR (0x96): one instruction each.
// - Lanes256Vl: 8 lanes of Vector256<uint> with the same AVX-512VL rotates and ternary logic (used for
//   short last groups when AVX-512 is there).
// - Lanes256: 8 lanes on plain AVX2 (rotates as shift/shift/or, Ch = z ^ (x & (y ^ z)),
//   Maj = (x & y) | (z & (x | y))), the path under DOTNET_EnableAVX512=0.
// LoadTransposed reads one 64-byte block per lane (each lane's own pointer), byte-swaps the words to
// big-endian (VPSHUFB) and transposes lanes x words so that vector i holds word i of every lane:
// 16x16 dwords in 4 stages (VPUNPCK{L,H}DQ, VPUNPCK{L,H}QDQ, 2x VSHUFI32X4: 64 shuffles for
// 16 blocks), 8x8 twice for AVX2 (unpacks + VPERM2I128: 48 shuffles for 8 blocks).
internal unsafe interface ILaneOps<TVec> where TVec : unmanaged
{
    static abstract int Lanes { get; }

    /// <summary>32 vector registers (AVX-512 encodings): the schedule can live in registers.</summary>
    static abstract bool HasManyRegisters { get; }

    static abstract TVec Broadcast(uint value);
    static abstract void Store(TVec value, uint* destination);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Xor(TVec a, TVec b);
    static abstract TVec Xor3(TVec a, TVec b, TVec c);

    /// <summary>x ? y : z bitwise (SHA Ch).</summary>
    static abstract TVec Choose(TVec x, TVec y, TVec z);

    /// <summary>Bitwise majority (SHA Maj).</summary>
    static abstract TVec Majority(TVec x, TVec y, TVec z);

    static abstract TVec RotateLeft(TVec x, [ConstantExpected] byte count);
    static abstract TVec RotateRight(TVec x, [ConstantExpected] byte count);
    static abstract TVec ShiftRight(TVec x, [ConstantExpected] byte count);

    /// <summary>All-ones in the lanes whose block count exceeds <paramref name="block"/> (still active).</summary>
    static abstract TVec ActiveLanes(int* blockCounts, int block);

    static abstract TVec Select(TVec mask, TVec ifTrue, TVec ifFalse);

    /// <summary>Loads the 64-byte block at <c>lanes[j]</c> for each lane j into <c>words[0..16]</c>: word i of
    /// every lane's block, big-endian, lane j in element j.</summary>
    static abstract void LoadTransposed(byte** lanes, TVec* words);
}

internal readonly unsafe struct Lanes512 : ILaneOps<Vector512<uint>>
{
    public static bool IsSupported => Avx512F.IsSupported && Avx512BW.IsSupported;
    public static int Lanes => 16;
    public static bool HasManyRegisters => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Broadcast(uint value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<uint> value, uint* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Add(Vector512<uint> a, Vector512<uint> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Xor(Vector512<uint> a, Vector512<uint> b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Xor3(Vector512<uint> a, Vector512<uint> b, Vector512<uint> c) => Avx512F.TernaryLogic(a, b, c, 0x96);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Choose(Vector512<uint> x, Vector512<uint> y, Vector512<uint> z) => Avx512F.TernaryLogic(x, y, z, 0xCA);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Majority(Vector512<uint> x, Vector512<uint> y, Vector512<uint> z) => Avx512F.TernaryLogic(x, y, z, 0xE8);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> RotateLeft(Vector512<uint> x, [ConstantExpected] byte count) => Avx512F.RotateLeft(x, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> RotateRight(Vector512<uint> x, [ConstantExpected] byte count) => Avx512F.RotateRight(x, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> ShiftRight(Vector512<uint> x, [ConstantExpected] byte count) => Avx512F.ShiftRightLogical(x, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> ActiveLanes(int* blockCounts, int block) =>
        Vector512.GreaterThan(Vector512.Load(blockCounts), Vector512.Create(block)).AsUInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Select(Vector512<uint> mask, Vector512<uint> ifTrue, Vector512<uint> ifFalse) =>
        Vector512.ConditionalSelect(mask, ifTrue, ifFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> LoadSwapped(byte* p) =>
        Avx512BW.Shuffle(Vector512.Load(p), Vector512.Create((byte)3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12)).AsUInt32();

    /// <summary>Words m, m+4, m+8, m+12 from u{g,m} (g = 0..3), whose 128-bit lane k holds word 4k+m of rows 4g..4g+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose128(Vector512<uint> u0, Vector512<uint> u1, Vector512<uint> u2, Vector512<uint> u3, Vector512<uint>* words, int m)
    {
        Vector512<uint> v0 = Avx512F.Shuffle4x128(u0, u1, 0x44); // u0.k0 u0.k1 u1.k0 u1.k1
        Vector512<uint> v1 = Avx512F.Shuffle4x128(u0, u1, 0xEE); // u0.k2 u0.k3 u1.k2 u1.k3
        Vector512<uint> v2 = Avx512F.Shuffle4x128(u2, u3, 0x44);
        Vector512<uint> v3 = Avx512F.Shuffle4x128(u2, u3, 0xEE);
        words[m] = Avx512F.Shuffle4x128(v0, v2, 0x88);
        words[m + 4] = Avx512F.Shuffle4x128(v0, v2, 0xDD);
        words[m + 8] = Avx512F.Shuffle4x128(v1, v3, 0x88);
        words[m + 12] = Avx512F.Shuffle4x128(v1, v3, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnpackGroup(byte** lanes, int g, out Vector512<uint> u0, out Vector512<uint> u1, out Vector512<uint> u2, out Vector512<uint> u3)
    {
        Vector512<uint> r0 = LoadSwapped(lanes[4 * g]), r1 = LoadSwapped(lanes[4 * g + 1]);
        Vector512<uint> r2 = LoadSwapped(lanes[4 * g + 2]), r3 = LoadSwapped(lanes[4 * g + 3]);
        Vector512<ulong> t0 = Avx512F.UnpackLow(r0, r1).AsUInt64(), t1 = Avx512F.UnpackHigh(r0, r1).AsUInt64();
        Vector512<ulong> t2 = Avx512F.UnpackLow(r2, r3).AsUInt64(), t3 = Avx512F.UnpackHigh(r2, r3).AsUInt64();
        u0 = Avx512F.UnpackLow(t0, t2).AsUInt32();
        u1 = Avx512F.UnpackHigh(t0, t2).AsUInt32();
        u2 = Avx512F.UnpackLow(t1, t3).AsUInt32();
        u3 = Avx512F.UnpackHigh(t1, t3).AsUInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTransposed(byte** lanes, Vector512<uint>* words)
    {
        UnpackGroup(lanes, 0, out Vector512<uint> a0, out Vector512<uint> a1, out Vector512<uint> a2, out Vector512<uint> a3);
        UnpackGroup(lanes, 1, out Vector512<uint> b0, out Vector512<uint> b1, out Vector512<uint> b2, out Vector512<uint> b3);
        UnpackGroup(lanes, 2, out Vector512<uint> c0, out Vector512<uint> c1, out Vector512<uint> c2, out Vector512<uint> c3);
        UnpackGroup(lanes, 3, out Vector512<uint> d0, out Vector512<uint> d1, out Vector512<uint> d2, out Vector512<uint> d3);
        Transpose128(a0, b0, c0, d0, words, 0);
        Transpose128(a1, b1, c1, d1, words, 1);
        Transpose128(a2, b2, c2, d2, words, 2);
        Transpose128(a3, b3, c3, d3, words, 3);
    }
}

/// <summary>8-lane AVX2 transposing load shared by both 256-bit lane structs.</summary>
internal static unsafe class Transpose256
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> LoadSwapped(byte* p) =>
        Avx2.Shuffle(Vector256.Load(p), Vector256.Create((byte)3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Half(byte** lanes, int offset, Vector256<uint>* words)
    {
        Vector256<uint> r0 = LoadSwapped(lanes[0] + offset), r1 = LoadSwapped(lanes[1] + offset);
        Vector256<uint> r2 = LoadSwapped(lanes[2] + offset), r3 = LoadSwapped(lanes[3] + offset);
        Vector256<uint> r4 = LoadSwapped(lanes[4] + offset), r5 = LoadSwapped(lanes[5] + offset);
        Vector256<uint> r6 = LoadSwapped(lanes[6] + offset), r7 = LoadSwapped(lanes[7] + offset);
        Vector256<ulong> t0 = Avx2.UnpackLow(r0, r1).AsUInt64(), t1 = Avx2.UnpackHigh(r0, r1).AsUInt64();
        Vector256<ulong> t2 = Avx2.UnpackLow(r2, r3).AsUInt64(), t3 = Avx2.UnpackHigh(r2, r3).AsUInt64();
        Vector256<ulong> t4 = Avx2.UnpackLow(r4, r5).AsUInt64(), t5 = Avx2.UnpackHigh(r4, r5).AsUInt64();
        Vector256<ulong> t6 = Avx2.UnpackLow(r6, r7).AsUInt64(), t7 = Avx2.UnpackHigh(r6, r7).AsUInt64();
        // u_m: 128-bit lane k holds word 4k+m of rows 0..3 (u0..u3) or rows 4..7 (u4..u7).
        Vector256<uint> u0 = Avx2.UnpackLow(t0, t2).AsUInt32(), u1 = Avx2.UnpackHigh(t0, t2).AsUInt32();
        Vector256<uint> u2 = Avx2.UnpackLow(t1, t3).AsUInt32(), u3 = Avx2.UnpackHigh(t1, t3).AsUInt32();
        Vector256<uint> u4 = Avx2.UnpackLow(t4, t6).AsUInt32(), u5 = Avx2.UnpackHigh(t4, t6).AsUInt32();
        Vector256<uint> u6 = Avx2.UnpackLow(t5, t7).AsUInt32(), u7 = Avx2.UnpackHigh(t5, t7).AsUInt32();
        words[0] = Avx2.Permute2x128(u0, u4, 0x20);
        words[1] = Avx2.Permute2x128(u1, u5, 0x20);
        words[2] = Avx2.Permute2x128(u2, u6, 0x20);
        words[3] = Avx2.Permute2x128(u3, u7, 0x20);
        words[4] = Avx2.Permute2x128(u0, u4, 0x31);
        words[5] = Avx2.Permute2x128(u1, u5, 0x31);
        words[6] = Avx2.Permute2x128(u2, u6, 0x31);
        words[7] = Avx2.Permute2x128(u3, u7, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTransposed(byte** lanes, Vector256<uint>* words)
    {
        Half(lanes, 0, words);
        Half(lanes, 32, words + 8);
    }
}

internal readonly unsafe struct Lanes256 : ILaneOps<Vector256<uint>>
{
    public static bool IsSupported => Avx2.IsSupported;
    public static int Lanes => 8;
    public static bool HasManyRegisters => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Broadcast(uint value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<uint> value, uint* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Add(Vector256<uint> a, Vector256<uint> b) => Avx2.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Xor(Vector256<uint> a, Vector256<uint> b) => Avx2.Xor(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Xor3(Vector256<uint> a, Vector256<uint> b, Vector256<uint> c) => Avx2.Xor(Avx2.Xor(a, b), c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Choose(Vector256<uint> x, Vector256<uint> y, Vector256<uint> z) => Avx2.Xor(z, Avx2.And(x, Avx2.Xor(y, z)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Majority(Vector256<uint> x, Vector256<uint> y, Vector256<uint> z) => Avx2.Or(Avx2.And(x, y), Avx2.And(z, Avx2.Or(x, y)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> RotateLeft(Vector256<uint> x, [ConstantExpected] byte count) =>
        Avx2.Or(Avx2.ShiftLeftLogical(x, count), Avx2.ShiftRightLogical(x, (byte)(32 - count)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> RotateRight(Vector256<uint> x, [ConstantExpected] byte count) =>
        Avx2.Or(Avx2.ShiftRightLogical(x, count), Avx2.ShiftLeftLogical(x, (byte)(32 - count)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> ShiftRight(Vector256<uint> x, [ConstantExpected] byte count) => Avx2.ShiftRightLogical(x, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> ActiveLanes(int* blockCounts, int block) =>
        Avx2.CompareGreaterThan(Avx.LoadVector256(blockCounts), Vector256.Create(block)).AsUInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Select(Vector256<uint> mask, Vector256<uint> ifTrue, Vector256<uint> ifFalse) =>
        Avx2.BlendVariable(ifFalse.AsByte(), ifTrue.AsByte(), mask.AsByte()).AsUInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTransposed(byte** lanes, Vector256<uint>* words) => Transpose256.LoadTransposed(lanes, words);
}

internal readonly unsafe struct Lanes256Vl : ILaneOps<Vector256<uint>>
{
    public static bool IsSupported => Avx512F.VL.IsSupported && Avx2.IsSupported;
    public static int Lanes => 8;
    public static bool HasManyRegisters => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Broadcast(uint value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<uint> value, uint* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Add(Vector256<uint> a, Vector256<uint> b) => Avx2.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Xor(Vector256<uint> a, Vector256<uint> b) => Avx2.Xor(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Xor3(Vector256<uint> a, Vector256<uint> b, Vector256<uint> c) => Avx512F.VL.TernaryLogic(a, b, c, 0x96);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Choose(Vector256<uint> x, Vector256<uint> y, Vector256<uint> z) => Avx512F.VL.TernaryLogic(x, y, z, 0xCA);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Majority(Vector256<uint> x, Vector256<uint> y, Vector256<uint> z) => Avx512F.VL.TernaryLogic(x, y, z, 0xE8);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> RotateLeft(Vector256<uint> x, [ConstantExpected] byte count) => Avx512F.VL.RotateLeft(x, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> RotateRight(Vector256<uint> x, [ConstantExpected] byte count) => Avx512F.VL.RotateRight(x, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> ShiftRight(Vector256<uint> x, [ConstantExpected] byte count) => Avx2.ShiftRightLogical(x, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> ActiveLanes(int* blockCounts, int block) =>
        Avx2.CompareGreaterThan(Avx.LoadVector256(blockCounts), Vector256.Create(block)).AsUInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Select(Vector256<uint> mask, Vector256<uint> ifTrue, Vector256<uint> ifFalse) =>
        Avx512F.VL.TernaryLogic(mask, ifTrue, ifFalse, 0xCA);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadTransposed(byte** lanes, Vector256<uint>* words) => Transpose256.LoadTransposed(lanes, words);
}
