using System;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastPath.Crypto.Internal;

// SHA-256 compression function (FIPS 180-4 §6.2.2), plain C#, shared by the portable and
// intrinsics engines (HMAC-SHA-256-128 for ESP, RFC 4868; the intrinsics engine's multi-buffer
// path is Intrinsics/Sha256MultiBuffer.cs). The 64 rounds are written out with the eight working
// variables' roles renamed per round (h += T1; d += h; h += T2: no moves), the schedule in a
// 16-word circular buffer updated in place one word ahead of its round. K (§4.2.2) is inlined as
// immediates.
internal static unsafe class Sha256Core
{
    public const int BlockSize = 64;
    public const int DigestSize = 32;

    /// <summary>FIPS 180-4 §5.3.3.</summary>
    public static void Init(uint* state)
    {
        ReadOnlySpan<uint> iv = [0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au, 0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u];
        for (int i = 0; i < 8; i++) state[i] = iv[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Be32(byte* p) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(p)) : Unsafe.ReadUnaligned<uint>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint BigSigma0(uint x) => BitOperations.RotateRight(x, 2) ^ BitOperations.RotateRight(x, 13) ^ BitOperations.RotateRight(x, 22);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint BigSigma1(uint x) => BitOperations.RotateRight(x, 6) ^ BitOperations.RotateRight(x, 11) ^ BitOperations.RotateRight(x, 25);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SmallSigma0(uint x) => BitOperations.RotateRight(x, 7) ^ BitOperations.RotateRight(x, 18) ^ (x >> 3);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SmallSigma1(uint x) => BitOperations.RotateRight(x, 17) ^ BitOperations.RotateRight(x, 19) ^ (x >> 10);

    /// <summary>Absorbs <paramref name="blocks"/> 64-byte blocks from <paramref name="p"/>.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimized code: no slow tier-0 phase for the rounds
    public static void Compress(uint* state, byte* p, nint blocks)
    {
        uint* w = stackalloc uint[16];
        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        for (; blocks > 0; blocks--, p += BlockSize)
        {
            w[0] = Be32(p + 0);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x428A2F98u + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] = Be32(p + 4);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x71374491u + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] = Be32(p + 8);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0xB5C0FBCFu + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] = Be32(p + 12);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0xE9B5DBA5u + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] = Be32(p + 16);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x3956C25Bu + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] = Be32(p + 20);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x59F111F1u + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] = Be32(p + 24);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x923F82A4u + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] = Be32(p + 28);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0xAB1C5ED5u + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] = Be32(p + 32);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0xD807AA98u + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] = Be32(p + 36);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x12835B01u + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] = Be32(p + 40);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x243185BEu + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] = Be32(p + 44);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x550C7DC3u + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] = Be32(p + 48);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x72BE5D74u + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] = Be32(p + 52);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x80DEB1FEu + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] = Be32(p + 56);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x9BDC06A7u + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] = Be32(p + 60);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0xC19BF174u + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[0] += SmallSigma1(w[14]) + w[9] + SmallSigma0(w[1]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0xE49B69C1u + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] += SmallSigma1(w[15]) + w[10] + SmallSigma0(w[2]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0xEFBE4786u + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] += SmallSigma1(w[0]) + w[11] + SmallSigma0(w[3]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x0FC19DC6u + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] += SmallSigma1(w[1]) + w[12] + SmallSigma0(w[4]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x240CA1CCu + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] += SmallSigma1(w[2]) + w[13] + SmallSigma0(w[5]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x2DE92C6Fu + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] += SmallSigma1(w[3]) + w[14] + SmallSigma0(w[6]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x4A7484AAu + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] += SmallSigma1(w[4]) + w[15] + SmallSigma0(w[7]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x5CB0A9DCu + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] += SmallSigma1(w[5]) + w[0] + SmallSigma0(w[8]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x76F988DAu + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] += SmallSigma1(w[6]) + w[1] + SmallSigma0(w[9]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x983E5152u + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] += SmallSigma1(w[7]) + w[2] + SmallSigma0(w[10]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0xA831C66Du + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] += SmallSigma1(w[8]) + w[3] + SmallSigma0(w[11]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0xB00327C8u + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] += SmallSigma1(w[9]) + w[4] + SmallSigma0(w[12]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0xBF597FC7u + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] += SmallSigma1(w[10]) + w[5] + SmallSigma0(w[13]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0xC6E00BF3u + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] += SmallSigma1(w[11]) + w[6] + SmallSigma0(w[14]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0xD5A79147u + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] += SmallSigma1(w[12]) + w[7] + SmallSigma0(w[15]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x06CA6351u + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] += SmallSigma1(w[13]) + w[8] + SmallSigma0(w[0]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x14292967u + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[0] += SmallSigma1(w[14]) + w[9] + SmallSigma0(w[1]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x27B70A85u + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] += SmallSigma1(w[15]) + w[10] + SmallSigma0(w[2]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x2E1B2138u + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] += SmallSigma1(w[0]) + w[11] + SmallSigma0(w[3]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x4D2C6DFCu + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] += SmallSigma1(w[1]) + w[12] + SmallSigma0(w[4]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x53380D13u + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] += SmallSigma1(w[2]) + w[13] + SmallSigma0(w[5]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x650A7354u + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] += SmallSigma1(w[3]) + w[14] + SmallSigma0(w[6]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x766A0ABBu + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] += SmallSigma1(w[4]) + w[15] + SmallSigma0(w[7]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x81C2C92Eu + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] += SmallSigma1(w[5]) + w[0] + SmallSigma0(w[8]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x92722C85u + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] += SmallSigma1(w[6]) + w[1] + SmallSigma0(w[9]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0xA2BFE8A1u + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] += SmallSigma1(w[7]) + w[2] + SmallSigma0(w[10]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0xA81A664Bu + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] += SmallSigma1(w[8]) + w[3] + SmallSigma0(w[11]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0xC24B8B70u + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] += SmallSigma1(w[9]) + w[4] + SmallSigma0(w[12]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0xC76C51A3u + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] += SmallSigma1(w[10]) + w[5] + SmallSigma0(w[13]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0xD192E819u + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] += SmallSigma1(w[11]) + w[6] + SmallSigma0(w[14]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0xD6990624u + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] += SmallSigma1(w[12]) + w[7] + SmallSigma0(w[15]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0xF40E3585u + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] += SmallSigma1(w[13]) + w[8] + SmallSigma0(w[0]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x106AA070u + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[0] += SmallSigma1(w[14]) + w[9] + SmallSigma0(w[1]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x19A4C116u + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] += SmallSigma1(w[15]) + w[10] + SmallSigma0(w[2]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x1E376C08u + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] += SmallSigma1(w[0]) + w[11] + SmallSigma0(w[3]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x2748774Cu + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] += SmallSigma1(w[1]) + w[12] + SmallSigma0(w[4]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x34B0BCB5u + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] += SmallSigma1(w[2]) + w[13] + SmallSigma0(w[5]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x391C0CB3u + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] += SmallSigma1(w[3]) + w[14] + SmallSigma0(w[6]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x4ED8AA4Au + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] += SmallSigma1(w[4]) + w[15] + SmallSigma0(w[7]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x5B9CCA4Fu + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] += SmallSigma1(w[5]) + w[0] + SmallSigma0(w[8]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x682E6FF3u + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] += SmallSigma1(w[6]) + w[1] + SmallSigma0(w[9]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x748F82EEu + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] += SmallSigma1(w[7]) + w[2] + SmallSigma0(w[10]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x78A5636Fu + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] += SmallSigma1(w[8]) + w[3] + SmallSigma0(w[11]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x84C87814u + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] += SmallSigma1(w[9]) + w[4] + SmallSigma0(w[12]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x8CC70208u + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] += SmallSigma1(w[10]) + w[5] + SmallSigma0(w[13]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x90BEFFFAu + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] += SmallSigma1(w[11]) + w[6] + SmallSigma0(w[14]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0xA4506CEBu + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] += SmallSigma1(w[12]) + w[7] + SmallSigma0(w[15]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0xBEF9A3F7u + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] += SmallSigma1(w[13]) + w[8] + SmallSigma0(w[0]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0xC67178F2u + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            a += state[0]; b += state[1]; c += state[2]; d += state[3]; e += state[4]; f += state[5]; g += state[6]; h += state[7];
            state[0] = a; state[1] = b; state[2] = c; state[3] = d; state[4] = e; state[5] = f; state[6] = g; state[7] = h;
        }
    }

    /// <summary>The digest: the state words big-endian.</summary>
    public static void WriteDigest(uint* state, byte* output)
    {
        for (int i = 0; i < 8; i++) Unsafe.WriteUnaligned(output + 4 * i, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(state[i]) : state[i]);
    }
}

/// <summary><see cref="Sha256Core"/> as an <see cref="IHashCore"/>.</summary>
internal readonly unsafe struct Sha256Hash : IHashCore
{
    public static int BlockSize => Sha256Core.BlockSize;
    public static int DigestSize => Sha256Core.DigestSize;
    public static int LengthFieldSize => 8;
    public static void Init(byte* state) => Sha256Core.Init((uint*)state);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compress(byte* state, byte* blocks, nint count) => Sha256Core.Compress((uint*)state, blocks, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteLength(byte* end, ulong bitLength) =>
        Unsafe.WriteUnaligned(end - 8, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(bitLength) : bitLength);
    public static void WriteDigest(byte* state, byte* output) => Sha256Core.WriteDigest((uint*)state, output);
}
