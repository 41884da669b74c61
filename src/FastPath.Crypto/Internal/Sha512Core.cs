using System;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastPath.Crypto.Internal;

// SHA-512 and SHA-384 compression function (FIPS 180-4 §6.4.2; SHA-384 differs only in the initial
// value, §5.3.4, and the truncation to 48 bytes), plain C#, shared by both engines (HMAC-SHA-384-192
// and HMAC-SHA-512-256 for ESP, RFC 4868). 80 rounds written out with renamed roles as in
// Sha256Core; 128-byte blocks, 64-bit words, 128-bit big-endian length field.
internal static unsafe class Sha512Core
{
    public const int BlockSize = 128;

    /// <summary>FIPS 180-4 §5.3.5.</summary>
    public static void Init512(ulong* state)
    {
        ReadOnlySpan<ulong> iv = [0x6A09E667F3BCC908UL, 0xBB67AE8584CAA73BUL, 0x3C6EF372FE94F82BUL, 0xA54FF53A5F1D36F1UL, 0x510E527FADE682D1UL, 0x9B05688C2B3E6C1FUL, 0x1F83D9ABFB41BD6BUL, 0x5BE0CD19137E2179UL];
        for (int i = 0; i < 8; i++) state[i] = iv[i];
    }

    /// <summary>FIPS 180-4 §5.3.4.</summary>
    public static void Init384(ulong* state)
    {
        ReadOnlySpan<ulong> iv = [0xCBBB9D5DC1059ED8UL, 0x629A292A367CD507UL, 0x9159015A3070DD17UL, 0x152FECD8F70E5939UL, 0x67332667FFC00B31UL, 0x8EB44A8768581511UL, 0xDB0C2E0D64F98FA7UL, 0x47B5481DBEFA4FA4UL];
        for (int i = 0; i < 8; i++) state[i] = iv[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Be64(byte* p) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(p)) : Unsafe.ReadUnaligned<ulong>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong BigSigma0(ulong x) => BitOperations.RotateRight(x, 28) ^ BitOperations.RotateRight(x, 34) ^ BitOperations.RotateRight(x, 39);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong BigSigma1(ulong x) => BitOperations.RotateRight(x, 14) ^ BitOperations.RotateRight(x, 18) ^ BitOperations.RotateRight(x, 41);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SmallSigma0(ulong x) => BitOperations.RotateRight(x, 1) ^ BitOperations.RotateRight(x, 8) ^ (x >> 7);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SmallSigma1(ulong x) => BitOperations.RotateRight(x, 19) ^ BitOperations.RotateRight(x, 61) ^ (x >> 6);

    /// <summary>Absorbs <paramref name="blocks"/> 128-byte blocks from <paramref name="p"/>.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimized code: no slow tier-0 phase for the rounds
    public static void Compress(ulong* state, byte* p, nint blocks)
    {
        ulong* w = stackalloc ulong[16];
        ulong a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        for (; blocks > 0; blocks--, p += BlockSize)
        {
            w[0] = Be64(p + 0);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x428A2F98D728AE22UL + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] = Be64(p + 8);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x7137449123EF65CDUL + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] = Be64(p + 16);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0xB5C0FBCFEC4D3B2FUL + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] = Be64(p + 24);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0xE9B5DBA58189DBBCUL + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] = Be64(p + 32);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x3956C25BF348B538UL + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] = Be64(p + 40);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x59F111F1B605D019UL + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] = Be64(p + 48);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x923F82A4AF194F9BUL + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] = Be64(p + 56);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0xAB1C5ED5DA6D8118UL + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] = Be64(p + 64);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0xD807AA98A3030242UL + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] = Be64(p + 72);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x12835B0145706FBEUL + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] = Be64(p + 80);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x243185BE4EE4B28CUL + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] = Be64(p + 88);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x550C7DC3D5FFB4E2UL + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] = Be64(p + 96);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x72BE5D74F27B896FUL + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] = Be64(p + 104);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x80DEB1FE3B1696B1UL + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] = Be64(p + 112);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x9BDC06A725C71235UL + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] = Be64(p + 120);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0xC19BF174CF692694UL + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[0] += SmallSigma1(w[14]) + w[9] + SmallSigma0(w[1]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0xE49B69C19EF14AD2UL + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] += SmallSigma1(w[15]) + w[10] + SmallSigma0(w[2]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0xEFBE4786384F25E3UL + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] += SmallSigma1(w[0]) + w[11] + SmallSigma0(w[3]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x0FC19DC68B8CD5B5UL + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] += SmallSigma1(w[1]) + w[12] + SmallSigma0(w[4]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x240CA1CC77AC9C65UL + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] += SmallSigma1(w[2]) + w[13] + SmallSigma0(w[5]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x2DE92C6F592B0275UL + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] += SmallSigma1(w[3]) + w[14] + SmallSigma0(w[6]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x4A7484AA6EA6E483UL + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] += SmallSigma1(w[4]) + w[15] + SmallSigma0(w[7]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x5CB0A9DCBD41FBD4UL + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] += SmallSigma1(w[5]) + w[0] + SmallSigma0(w[8]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x76F988DA831153B5UL + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] += SmallSigma1(w[6]) + w[1] + SmallSigma0(w[9]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x983E5152EE66DFABUL + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] += SmallSigma1(w[7]) + w[2] + SmallSigma0(w[10]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0xA831C66D2DB43210UL + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] += SmallSigma1(w[8]) + w[3] + SmallSigma0(w[11]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0xB00327C898FB213FUL + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] += SmallSigma1(w[9]) + w[4] + SmallSigma0(w[12]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0xBF597FC7BEEF0EE4UL + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] += SmallSigma1(w[10]) + w[5] + SmallSigma0(w[13]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0xC6E00BF33DA88FC2UL + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] += SmallSigma1(w[11]) + w[6] + SmallSigma0(w[14]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0xD5A79147930AA725UL + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] += SmallSigma1(w[12]) + w[7] + SmallSigma0(w[15]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x06CA6351E003826FUL + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] += SmallSigma1(w[13]) + w[8] + SmallSigma0(w[0]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x142929670A0E6E70UL + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[0] += SmallSigma1(w[14]) + w[9] + SmallSigma0(w[1]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x27B70A8546D22FFCUL + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] += SmallSigma1(w[15]) + w[10] + SmallSigma0(w[2]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x2E1B21385C26C926UL + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] += SmallSigma1(w[0]) + w[11] + SmallSigma0(w[3]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x4D2C6DFC5AC42AEDUL + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] += SmallSigma1(w[1]) + w[12] + SmallSigma0(w[4]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x53380D139D95B3DFUL + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] += SmallSigma1(w[2]) + w[13] + SmallSigma0(w[5]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x650A73548BAF63DEUL + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] += SmallSigma1(w[3]) + w[14] + SmallSigma0(w[6]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x766A0ABB3C77B2A8UL + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] += SmallSigma1(w[4]) + w[15] + SmallSigma0(w[7]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x81C2C92E47EDAEE6UL + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] += SmallSigma1(w[5]) + w[0] + SmallSigma0(w[8]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x92722C851482353BUL + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] += SmallSigma1(w[6]) + w[1] + SmallSigma0(w[9]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0xA2BFE8A14CF10364UL + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] += SmallSigma1(w[7]) + w[2] + SmallSigma0(w[10]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0xA81A664BBC423001UL + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] += SmallSigma1(w[8]) + w[3] + SmallSigma0(w[11]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0xC24B8B70D0F89791UL + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] += SmallSigma1(w[9]) + w[4] + SmallSigma0(w[12]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0xC76C51A30654BE30UL + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] += SmallSigma1(w[10]) + w[5] + SmallSigma0(w[13]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0xD192E819D6EF5218UL + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] += SmallSigma1(w[11]) + w[6] + SmallSigma0(w[14]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0xD69906245565A910UL + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] += SmallSigma1(w[12]) + w[7] + SmallSigma0(w[15]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0xF40E35855771202AUL + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] += SmallSigma1(w[13]) + w[8] + SmallSigma0(w[0]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x106AA07032BBD1B8UL + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[0] += SmallSigma1(w[14]) + w[9] + SmallSigma0(w[1]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x19A4C116B8D2D0C8UL + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] += SmallSigma1(w[15]) + w[10] + SmallSigma0(w[2]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x1E376C085141AB53UL + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] += SmallSigma1(w[0]) + w[11] + SmallSigma0(w[3]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x2748774CDF8EEB99UL + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] += SmallSigma1(w[1]) + w[12] + SmallSigma0(w[4]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x34B0BCB5E19B48A8UL + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] += SmallSigma1(w[2]) + w[13] + SmallSigma0(w[5]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x391C0CB3C5C95A63UL + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] += SmallSigma1(w[3]) + w[14] + SmallSigma0(w[6]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x4ED8AA4AE3418ACBUL + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] += SmallSigma1(w[4]) + w[15] + SmallSigma0(w[7]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x5B9CCA4F7763E373UL + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] += SmallSigma1(w[5]) + w[0] + SmallSigma0(w[8]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x682E6FF3D6B2B8A3UL + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] += SmallSigma1(w[6]) + w[1] + SmallSigma0(w[9]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x748F82EE5DEFB2FCUL + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] += SmallSigma1(w[7]) + w[2] + SmallSigma0(w[10]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x78A5636F43172F60UL + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] += SmallSigma1(w[8]) + w[3] + SmallSigma0(w[11]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x84C87814A1F0AB72UL + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] += SmallSigma1(w[9]) + w[4] + SmallSigma0(w[12]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x8CC702081A6439ECUL + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] += SmallSigma1(w[10]) + w[5] + SmallSigma0(w[13]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x90BEFFFA23631E28UL + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] += SmallSigma1(w[11]) + w[6] + SmallSigma0(w[14]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0xA4506CEBDE82BDE9UL + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] += SmallSigma1(w[12]) + w[7] + SmallSigma0(w[15]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0xBEF9A3F7B2C67915UL + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] += SmallSigma1(w[13]) + w[8] + SmallSigma0(w[0]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0xC67178F2E372532BUL + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[0] += SmallSigma1(w[14]) + w[9] + SmallSigma0(w[1]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0xCA273ECEEA26619CUL + w[0]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[1] += SmallSigma1(w[15]) + w[10] + SmallSigma0(w[2]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0xD186B8C721C0C207UL + w[1]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[2] += SmallSigma1(w[0]) + w[11] + SmallSigma0(w[3]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0xEADA7DD6CDE0EB1EUL + w[2]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[3] += SmallSigma1(w[1]) + w[12] + SmallSigma0(w[4]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0xF57D4F7FEE6ED178UL + w[3]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[4] += SmallSigma1(w[2]) + w[13] + SmallSigma0(w[5]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x06F067AA72176FBAUL + w[4]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[5] += SmallSigma1(w[3]) + w[14] + SmallSigma0(w[6]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x0A637DC5A2C898A6UL + w[5]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[6] += SmallSigma1(w[4]) + w[15] + SmallSigma0(w[7]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x113F9804BEF90DAEUL + w[6]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[7] += SmallSigma1(w[5]) + w[0] + SmallSigma0(w[8]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x1B710B35131C471BUL + w[7]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            w[8] += SmallSigma1(w[6]) + w[1] + SmallSigma0(w[9]);
            h += BigSigma1(e) + (g ^ (e & (f ^ g))) + 0x28DB77F523047D84UL + w[8]; d += h; h += BigSigma0(a) + ((a & b) | (c & (a | b)));
            w[9] += SmallSigma1(w[7]) + w[2] + SmallSigma0(w[10]);
            g += BigSigma1(d) + (f ^ (d & (e ^ f))) + 0x32CAAB7B40C72493UL + w[9]; c += g; g += BigSigma0(h) + ((h & a) | (b & (h | a)));
            w[10] += SmallSigma1(w[8]) + w[3] + SmallSigma0(w[11]);
            f += BigSigma1(c) + (e ^ (c & (d ^ e))) + 0x3C9EBE0A15C9BEBCUL + w[10]; b += f; f += BigSigma0(g) + ((g & h) | (a & (g | h)));
            w[11] += SmallSigma1(w[9]) + w[4] + SmallSigma0(w[12]);
            e += BigSigma1(b) + (d ^ (b & (c ^ d))) + 0x431D67C49C100D4CUL + w[11]; a += e; e += BigSigma0(f) + ((f & g) | (h & (f | g)));
            w[12] += SmallSigma1(w[10]) + w[5] + SmallSigma0(w[13]);
            d += BigSigma1(a) + (c ^ (a & (b ^ c))) + 0x4CC5D4BECB3E42B6UL + w[12]; h += d; d += BigSigma0(e) + ((e & f) | (g & (e | f)));
            w[13] += SmallSigma1(w[11]) + w[6] + SmallSigma0(w[14]);
            c += BigSigma1(h) + (b ^ (h & (a ^ b))) + 0x597F299CFC657E2AUL + w[13]; g += c; c += BigSigma0(d) + ((d & e) | (f & (d | e)));
            w[14] += SmallSigma1(w[12]) + w[7] + SmallSigma0(w[15]);
            b += BigSigma1(g) + (a ^ (g & (h ^ a))) + 0x5FCB6FAB3AD6FAECUL + w[14]; f += b; b += BigSigma0(c) + ((c & d) | (e & (c | d)));
            w[15] += SmallSigma1(w[13]) + w[8] + SmallSigma0(w[0]);
            a += BigSigma1(f) + (h ^ (f & (g ^ h))) + 0x6C44198C4A475817UL + w[15]; e += a; a += BigSigma0(b) + ((b & c) | (d & (b | c)));
            a += state[0]; b += state[1]; c += state[2]; d += state[3]; e += state[4]; f += state[5]; g += state[6]; h += state[7];
            state[0] = a; state[1] = b; state[2] = c; state[3] = d; state[4] = e; state[5] = f; state[6] = g; state[7] = h;
        }
    }

    /// <summary>The first <paramref name="words"/> state words big-endian (8 for SHA-512, 6 for SHA-384).</summary>
    public static void WriteDigest(ulong* state, byte* output, int words)
    {
        for (int i = 0; i < words; i++) Unsafe.WriteUnaligned(output + 8 * i, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(state[i]) : state[i]);
    }
}

/// <summary>SHA-512 as an <see cref="IHashCore"/> (length field: 128-bit big-endian; the high half is always 0 here).</summary>
internal readonly unsafe struct Sha512Hash : IHashCore
{
    public static int BlockSize => Sha512Core.BlockSize;
    public static int DigestSize => 64;
    public static int LengthFieldSize => 16;
    public static void Init(byte* state) => Sha512Core.Init512((ulong*)state);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compress(byte* state, byte* blocks, nint count) => Sha512Core.Compress((ulong*)state, blocks, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteLength(byte* end, ulong bitLength) =>
        Unsafe.WriteUnaligned(end - 8, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(bitLength) : bitLength);
    public static void WriteDigest(byte* state, byte* output) => Sha512Core.WriteDigest((ulong*)state, output, 8);
}

/// <summary>SHA-384 as an <see cref="IHashCore"/>: SHA-512's compression with its own initial value.</summary>
internal readonly unsafe struct Sha384Hash : IHashCore
{
    public static int BlockSize => Sha512Core.BlockSize;
    public static int DigestSize => 48;
    public static int LengthFieldSize => 16;
    public static void Init(byte* state) => Sha512Core.Init384((ulong*)state);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compress(byte* state, byte* blocks, nint count) => Sha512Core.Compress((ulong*)state, blocks, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteLength(byte* end, ulong bitLength) =>
        Unsafe.WriteUnaligned(end - 8, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(bitLength) : bitLength);
    public static void WriteDigest(byte* state, byte* output) => Sha512Core.WriteDigest((ulong*)state, output, 6);
}
