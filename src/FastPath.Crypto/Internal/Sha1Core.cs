using System;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastPath.Crypto.Internal;

// SHA-1 compression function (FIPS 180-4 §6.1.2), plain C#, shared by the portable and intrinsics
// engines (HMAC-SHA-1-96 for ESP, RFC 2404; the intrinsics engine's multi-buffer path is
// Intrinsics/Sha1MultiBuffer.cs). The 80 rounds are written out with the five working variables'
// roles renamed per round (no moves), the schedule in a 16-word circular buffer computed one word
// ahead of its round, Ch as d ^ (b & (c ^ d)) and Maj as (b & c) | (d & (b | c)).
internal static unsafe class Sha1Core
{
    public const int BlockSize = 64;
    public const int DigestSize = 20;

    /// <summary>FIPS 180-4 §5.3.1.</summary>
    public static void Init(uint* state)
    {
        state[0] = 0x67452301u; state[1] = 0xEFCDAB89u; state[2] = 0x98BADCFEu; state[3] = 0x10325476u; state[4] = 0xC3D2E1F0u;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Be32(byte* p) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(p)) : Unsafe.ReadUnaligned<uint>(p);

    /// <summary>Absorbs <paramref name="blocks"/> 64-byte blocks from <paramref name="p"/>.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimized code: no slow tier-0 phase for the rounds
    public static void Compress(uint* state, byte* p, nint blocks)
    {
        uint* w = stackalloc uint[16];
        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
        for (; blocks > 0; blocks--, p += BlockSize)
        {
            uint a0 = a, b0 = b, c0 = c, d0 = d, e0 = e;
            w[0] = Be32(p + 0);
            e += BitOperations.RotateLeft(a, 5) + (d ^ (b & (c ^ d))) + 0x5A827999u + w[0]; b = BitOperations.RotateLeft(b, 30);
            w[1] = Be32(p + 4);
            d += BitOperations.RotateLeft(e, 5) + (c ^ (a & (b ^ c))) + 0x5A827999u + w[1]; a = BitOperations.RotateLeft(a, 30);
            w[2] = Be32(p + 8);
            c += BitOperations.RotateLeft(d, 5) + (b ^ (e & (a ^ b))) + 0x5A827999u + w[2]; e = BitOperations.RotateLeft(e, 30);
            w[3] = Be32(p + 12);
            b += BitOperations.RotateLeft(c, 5) + (a ^ (d & (e ^ a))) + 0x5A827999u + w[3]; d = BitOperations.RotateLeft(d, 30);
            w[4] = Be32(p + 16);
            a += BitOperations.RotateLeft(b, 5) + (e ^ (c & (d ^ e))) + 0x5A827999u + w[4]; c = BitOperations.RotateLeft(c, 30);
            w[5] = Be32(p + 20);
            e += BitOperations.RotateLeft(a, 5) + (d ^ (b & (c ^ d))) + 0x5A827999u + w[5]; b = BitOperations.RotateLeft(b, 30);
            w[6] = Be32(p + 24);
            d += BitOperations.RotateLeft(e, 5) + (c ^ (a & (b ^ c))) + 0x5A827999u + w[6]; a = BitOperations.RotateLeft(a, 30);
            w[7] = Be32(p + 28);
            c += BitOperations.RotateLeft(d, 5) + (b ^ (e & (a ^ b))) + 0x5A827999u + w[7]; e = BitOperations.RotateLeft(e, 30);
            w[8] = Be32(p + 32);
            b += BitOperations.RotateLeft(c, 5) + (a ^ (d & (e ^ a))) + 0x5A827999u + w[8]; d = BitOperations.RotateLeft(d, 30);
            w[9] = Be32(p + 36);
            a += BitOperations.RotateLeft(b, 5) + (e ^ (c & (d ^ e))) + 0x5A827999u + w[9]; c = BitOperations.RotateLeft(c, 30);
            w[10] = Be32(p + 40);
            e += BitOperations.RotateLeft(a, 5) + (d ^ (b & (c ^ d))) + 0x5A827999u + w[10]; b = BitOperations.RotateLeft(b, 30);
            w[11] = Be32(p + 44);
            d += BitOperations.RotateLeft(e, 5) + (c ^ (a & (b ^ c))) + 0x5A827999u + w[11]; a = BitOperations.RotateLeft(a, 30);
            w[12] = Be32(p + 48);
            c += BitOperations.RotateLeft(d, 5) + (b ^ (e & (a ^ b))) + 0x5A827999u + w[12]; e = BitOperations.RotateLeft(e, 30);
            w[13] = Be32(p + 52);
            b += BitOperations.RotateLeft(c, 5) + (a ^ (d & (e ^ a))) + 0x5A827999u + w[13]; d = BitOperations.RotateLeft(d, 30);
            w[14] = Be32(p + 56);
            a += BitOperations.RotateLeft(b, 5) + (e ^ (c & (d ^ e))) + 0x5A827999u + w[14]; c = BitOperations.RotateLeft(c, 30);
            w[15] = Be32(p + 60);
            e += BitOperations.RotateLeft(a, 5) + (d ^ (b & (c ^ d))) + 0x5A827999u + w[15]; b = BitOperations.RotateLeft(b, 30);
            w[0] = BitOperations.RotateLeft(w[13] ^ w[8] ^ w[2] ^ w[0], 1);
            d += BitOperations.RotateLeft(e, 5) + (c ^ (a & (b ^ c))) + 0x5A827999u + w[0]; a = BitOperations.RotateLeft(a, 30);
            w[1] = BitOperations.RotateLeft(w[14] ^ w[9] ^ w[3] ^ w[1], 1);
            c += BitOperations.RotateLeft(d, 5) + (b ^ (e & (a ^ b))) + 0x5A827999u + w[1]; e = BitOperations.RotateLeft(e, 30);
            w[2] = BitOperations.RotateLeft(w[15] ^ w[10] ^ w[4] ^ w[2], 1);
            b += BitOperations.RotateLeft(c, 5) + (a ^ (d & (e ^ a))) + 0x5A827999u + w[2]; d = BitOperations.RotateLeft(d, 30);
            w[3] = BitOperations.RotateLeft(w[0] ^ w[11] ^ w[5] ^ w[3], 1);
            a += BitOperations.RotateLeft(b, 5) + (e ^ (c & (d ^ e))) + 0x5A827999u + w[3]; c = BitOperations.RotateLeft(c, 30);
            w[4] = BitOperations.RotateLeft(w[1] ^ w[12] ^ w[6] ^ w[4], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + w[4]; b = BitOperations.RotateLeft(b, 30);
            w[5] = BitOperations.RotateLeft(w[2] ^ w[13] ^ w[7] ^ w[5], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + w[5]; a = BitOperations.RotateLeft(a, 30);
            w[6] = BitOperations.RotateLeft(w[3] ^ w[14] ^ w[8] ^ w[6], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + w[6]; e = BitOperations.RotateLeft(e, 30);
            w[7] = BitOperations.RotateLeft(w[4] ^ w[15] ^ w[9] ^ w[7], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + w[7]; d = BitOperations.RotateLeft(d, 30);
            w[8] = BitOperations.RotateLeft(w[5] ^ w[0] ^ w[10] ^ w[8], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + w[8]; c = BitOperations.RotateLeft(c, 30);
            w[9] = BitOperations.RotateLeft(w[6] ^ w[1] ^ w[11] ^ w[9], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + w[9]; b = BitOperations.RotateLeft(b, 30);
            w[10] = BitOperations.RotateLeft(w[7] ^ w[2] ^ w[12] ^ w[10], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + w[10]; a = BitOperations.RotateLeft(a, 30);
            w[11] = BitOperations.RotateLeft(w[8] ^ w[3] ^ w[13] ^ w[11], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + w[11]; e = BitOperations.RotateLeft(e, 30);
            w[12] = BitOperations.RotateLeft(w[9] ^ w[4] ^ w[14] ^ w[12], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + w[12]; d = BitOperations.RotateLeft(d, 30);
            w[13] = BitOperations.RotateLeft(w[10] ^ w[5] ^ w[15] ^ w[13], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + w[13]; c = BitOperations.RotateLeft(c, 30);
            w[14] = BitOperations.RotateLeft(w[11] ^ w[6] ^ w[0] ^ w[14], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + w[14]; b = BitOperations.RotateLeft(b, 30);
            w[15] = BitOperations.RotateLeft(w[12] ^ w[7] ^ w[1] ^ w[15], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + w[15]; a = BitOperations.RotateLeft(a, 30);
            w[0] = BitOperations.RotateLeft(w[13] ^ w[8] ^ w[2] ^ w[0], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + w[0]; e = BitOperations.RotateLeft(e, 30);
            w[1] = BitOperations.RotateLeft(w[14] ^ w[9] ^ w[3] ^ w[1], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + w[1]; d = BitOperations.RotateLeft(d, 30);
            w[2] = BitOperations.RotateLeft(w[15] ^ w[10] ^ w[4] ^ w[2], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + w[2]; c = BitOperations.RotateLeft(c, 30);
            w[3] = BitOperations.RotateLeft(w[0] ^ w[11] ^ w[5] ^ w[3], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + w[3]; b = BitOperations.RotateLeft(b, 30);
            w[4] = BitOperations.RotateLeft(w[1] ^ w[12] ^ w[6] ^ w[4], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + w[4]; a = BitOperations.RotateLeft(a, 30);
            w[5] = BitOperations.RotateLeft(w[2] ^ w[13] ^ w[7] ^ w[5], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + w[5]; e = BitOperations.RotateLeft(e, 30);
            w[6] = BitOperations.RotateLeft(w[3] ^ w[14] ^ w[8] ^ w[6], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + w[6]; d = BitOperations.RotateLeft(d, 30);
            w[7] = BitOperations.RotateLeft(w[4] ^ w[15] ^ w[9] ^ w[7], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + w[7]; c = BitOperations.RotateLeft(c, 30);
            w[8] = BitOperations.RotateLeft(w[5] ^ w[0] ^ w[10] ^ w[8], 1);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + w[8]; b = BitOperations.RotateLeft(b, 30);
            w[9] = BitOperations.RotateLeft(w[6] ^ w[1] ^ w[11] ^ w[9], 1);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + w[9]; a = BitOperations.RotateLeft(a, 30);
            w[10] = BitOperations.RotateLeft(w[7] ^ w[2] ^ w[12] ^ w[10], 1);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + w[10]; e = BitOperations.RotateLeft(e, 30);
            w[11] = BitOperations.RotateLeft(w[8] ^ w[3] ^ w[13] ^ w[11], 1);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + w[11]; d = BitOperations.RotateLeft(d, 30);
            w[12] = BitOperations.RotateLeft(w[9] ^ w[4] ^ w[14] ^ w[12], 1);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + w[12]; c = BitOperations.RotateLeft(c, 30);
            w[13] = BitOperations.RotateLeft(w[10] ^ w[5] ^ w[15] ^ w[13], 1);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + w[13]; b = BitOperations.RotateLeft(b, 30);
            w[14] = BitOperations.RotateLeft(w[11] ^ w[6] ^ w[0] ^ w[14], 1);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + w[14]; a = BitOperations.RotateLeft(a, 30);
            w[15] = BitOperations.RotateLeft(w[12] ^ w[7] ^ w[1] ^ w[15], 1);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + w[15]; e = BitOperations.RotateLeft(e, 30);
            w[0] = BitOperations.RotateLeft(w[13] ^ w[8] ^ w[2] ^ w[0], 1);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + w[0]; d = BitOperations.RotateLeft(d, 30);
            w[1] = BitOperations.RotateLeft(w[14] ^ w[9] ^ w[3] ^ w[1], 1);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + w[1]; c = BitOperations.RotateLeft(c, 30);
            w[2] = BitOperations.RotateLeft(w[15] ^ w[10] ^ w[4] ^ w[2], 1);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + w[2]; b = BitOperations.RotateLeft(b, 30);
            w[3] = BitOperations.RotateLeft(w[0] ^ w[11] ^ w[5] ^ w[3], 1);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + w[3]; a = BitOperations.RotateLeft(a, 30);
            w[4] = BitOperations.RotateLeft(w[1] ^ w[12] ^ w[6] ^ w[4], 1);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + w[4]; e = BitOperations.RotateLeft(e, 30);
            w[5] = BitOperations.RotateLeft(w[2] ^ w[13] ^ w[7] ^ w[5], 1);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + w[5]; d = BitOperations.RotateLeft(d, 30);
            w[6] = BitOperations.RotateLeft(w[3] ^ w[14] ^ w[8] ^ w[6], 1);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + w[6]; c = BitOperations.RotateLeft(c, 30);
            w[7] = BitOperations.RotateLeft(w[4] ^ w[15] ^ w[9] ^ w[7], 1);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + w[7]; b = BitOperations.RotateLeft(b, 30);
            w[8] = BitOperations.RotateLeft(w[5] ^ w[0] ^ w[10] ^ w[8], 1);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + w[8]; a = BitOperations.RotateLeft(a, 30);
            w[9] = BitOperations.RotateLeft(w[6] ^ w[1] ^ w[11] ^ w[9], 1);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + w[9]; e = BitOperations.RotateLeft(e, 30);
            w[10] = BitOperations.RotateLeft(w[7] ^ w[2] ^ w[12] ^ w[10], 1);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + w[10]; d = BitOperations.RotateLeft(d, 30);
            w[11] = BitOperations.RotateLeft(w[8] ^ w[3] ^ w[13] ^ w[11], 1);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + w[11]; c = BitOperations.RotateLeft(c, 30);
            w[12] = BitOperations.RotateLeft(w[9] ^ w[4] ^ w[14] ^ w[12], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + w[12]; b = BitOperations.RotateLeft(b, 30);
            w[13] = BitOperations.RotateLeft(w[10] ^ w[5] ^ w[15] ^ w[13], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + w[13]; a = BitOperations.RotateLeft(a, 30);
            w[14] = BitOperations.RotateLeft(w[11] ^ w[6] ^ w[0] ^ w[14], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + w[14]; e = BitOperations.RotateLeft(e, 30);
            w[15] = BitOperations.RotateLeft(w[12] ^ w[7] ^ w[1] ^ w[15], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + w[15]; d = BitOperations.RotateLeft(d, 30);
            w[0] = BitOperations.RotateLeft(w[13] ^ w[8] ^ w[2] ^ w[0], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + w[0]; c = BitOperations.RotateLeft(c, 30);
            w[1] = BitOperations.RotateLeft(w[14] ^ w[9] ^ w[3] ^ w[1], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + w[1]; b = BitOperations.RotateLeft(b, 30);
            w[2] = BitOperations.RotateLeft(w[15] ^ w[10] ^ w[4] ^ w[2], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + w[2]; a = BitOperations.RotateLeft(a, 30);
            w[3] = BitOperations.RotateLeft(w[0] ^ w[11] ^ w[5] ^ w[3], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + w[3]; e = BitOperations.RotateLeft(e, 30);
            w[4] = BitOperations.RotateLeft(w[1] ^ w[12] ^ w[6] ^ w[4], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + w[4]; d = BitOperations.RotateLeft(d, 30);
            w[5] = BitOperations.RotateLeft(w[2] ^ w[13] ^ w[7] ^ w[5], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + w[5]; c = BitOperations.RotateLeft(c, 30);
            w[6] = BitOperations.RotateLeft(w[3] ^ w[14] ^ w[8] ^ w[6], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + w[6]; b = BitOperations.RotateLeft(b, 30);
            w[7] = BitOperations.RotateLeft(w[4] ^ w[15] ^ w[9] ^ w[7], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + w[7]; a = BitOperations.RotateLeft(a, 30);
            w[8] = BitOperations.RotateLeft(w[5] ^ w[0] ^ w[10] ^ w[8], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + w[8]; e = BitOperations.RotateLeft(e, 30);
            w[9] = BitOperations.RotateLeft(w[6] ^ w[1] ^ w[11] ^ w[9], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + w[9]; d = BitOperations.RotateLeft(d, 30);
            w[10] = BitOperations.RotateLeft(w[7] ^ w[2] ^ w[12] ^ w[10], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + w[10]; c = BitOperations.RotateLeft(c, 30);
            w[11] = BitOperations.RotateLeft(w[8] ^ w[3] ^ w[13] ^ w[11], 1);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + w[11]; b = BitOperations.RotateLeft(b, 30);
            w[12] = BitOperations.RotateLeft(w[9] ^ w[4] ^ w[14] ^ w[12], 1);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + w[12]; a = BitOperations.RotateLeft(a, 30);
            w[13] = BitOperations.RotateLeft(w[10] ^ w[5] ^ w[15] ^ w[13], 1);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + w[13]; e = BitOperations.RotateLeft(e, 30);
            w[14] = BitOperations.RotateLeft(w[11] ^ w[6] ^ w[0] ^ w[14], 1);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + w[14]; d = BitOperations.RotateLeft(d, 30);
            w[15] = BitOperations.RotateLeft(w[12] ^ w[7] ^ w[1] ^ w[15], 1);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + w[15]; c = BitOperations.RotateLeft(c, 30);
            a += a0; b += b0; c += c0; d += d0; e += e0;
        }
        state[0] = a; state[1] = b; state[2] = c; state[3] = d; state[4] = e;
    }

    /// <summary>The digest: the state words big-endian.</summary>
    public static void WriteDigest(uint* state, byte* output)
    {
        for (int i = 0; i < 5; i++) Unsafe.WriteUnaligned(output + 4 * i, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(state[i]) : state[i]);
    }
}

/// <summary><see cref="Sha1Core"/> as an <see cref="IHashCore"/>.</summary>
internal readonly unsafe struct Sha1Hash : IHashCore
{
    public static int BlockSize => Sha1Core.BlockSize;
    public static int DigestSize => Sha1Core.DigestSize;
    public static int LengthFieldSize => 8;
    public static void Init(byte* state) => Sha1Core.Init((uint*)state);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compress(byte* state, byte* blocks, nint count) => Sha1Core.Compress((uint*)state, blocks, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteLength(byte* end, ulong bitLength) =>
        Unsafe.WriteUnaligned(end - 8, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(bitLength) : bitLength);
    public static void WriteDigest(byte* state, byte* output) => Sha1Core.WriteDigest((uint*)state, output);
}
