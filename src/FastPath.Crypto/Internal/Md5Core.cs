using System;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastPath.Crypto.Internal;

// MD5 compression function (RFC 1321 §3.4), plain C#, shared by the portable and intrinsics
// engines (HMAC-MD5-96 for ESP, RFC 2403). The 64 steps are written out with the roles of the four
// state words renamed per step (no register moves), the message words read little-endian straight
// from the input, and the auxiliary functions in their 3-operation forms
// (F = z ^ (x & (y ^ z)), G = y ^ (z & (x ^ y))). T[i] = floor(2^32·|sin(i + 1)|) (RFC 1321 §3.4).
internal static unsafe class Md5Core
{
    public const int BlockSize = 64;
    public const int DigestSize = 16;

    /// <summary>RFC 1321 §3.3: A..D = 67452301 efcdab89 98badcfe 10325476 (as little-endian words).</summary>
    public static void Init(uint* state)
    {
        state[0] = 0x67452301u; state[1] = 0xEFCDAB89u; state[2] = 0x98BADCFEu; state[3] = 0x10325476u;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Le32(byte* p) =>
        BitConverter.IsLittleEndian ? Unsafe.ReadUnaligned<uint>(p) : BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(p));

    /// <summary>Absorbs <paramref name="blocks"/> 64-byte blocks from <paramref name="p"/>.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimized code: no slow tier-0 phase for the rounds
    public static void Compress(uint* state, byte* p, nint blocks)
    {
        uint a = state[0], b = state[1], c = state[2], d = state[3];
        for (; blocks > 0; blocks--, p += BlockSize)
        {
            uint a0 = a, b0 = b, c0 = c, d0 = d;
            a = b + BitOperations.RotateLeft(a + (d ^ (b & (c ^ d))) + Le32(p + 0) + 0xD76AA478u, 7);
            d = a + BitOperations.RotateLeft(d + (c ^ (a & (b ^ c))) + Le32(p + 4) + 0xE8C7B756u, 12);
            c = d + BitOperations.RotateLeft(c + (b ^ (d & (a ^ b))) + Le32(p + 8) + 0x242070DBu, 17);
            b = c + BitOperations.RotateLeft(b + (a ^ (c & (d ^ a))) + Le32(p + 12) + 0xC1BDCEEEu, 22);
            a = b + BitOperations.RotateLeft(a + (d ^ (b & (c ^ d))) + Le32(p + 16) + 0xF57C0FAFu, 7);
            d = a + BitOperations.RotateLeft(d + (c ^ (a & (b ^ c))) + Le32(p + 20) + 0x4787C62Au, 12);
            c = d + BitOperations.RotateLeft(c + (b ^ (d & (a ^ b))) + Le32(p + 24) + 0xA8304613u, 17);
            b = c + BitOperations.RotateLeft(b + (a ^ (c & (d ^ a))) + Le32(p + 28) + 0xFD469501u, 22);
            a = b + BitOperations.RotateLeft(a + (d ^ (b & (c ^ d))) + Le32(p + 32) + 0x698098D8u, 7);
            d = a + BitOperations.RotateLeft(d + (c ^ (a & (b ^ c))) + Le32(p + 36) + 0x8B44F7AFu, 12);
            c = d + BitOperations.RotateLeft(c + (b ^ (d & (a ^ b))) + Le32(p + 40) + 0xFFFF5BB1u, 17);
            b = c + BitOperations.RotateLeft(b + (a ^ (c & (d ^ a))) + Le32(p + 44) + 0x895CD7BEu, 22);
            a = b + BitOperations.RotateLeft(a + (d ^ (b & (c ^ d))) + Le32(p + 48) + 0x6B901122u, 7);
            d = a + BitOperations.RotateLeft(d + (c ^ (a & (b ^ c))) + Le32(p + 52) + 0xFD987193u, 12);
            c = d + BitOperations.RotateLeft(c + (b ^ (d & (a ^ b))) + Le32(p + 56) + 0xA679438Eu, 17);
            b = c + BitOperations.RotateLeft(b + (a ^ (c & (d ^ a))) + Le32(p + 60) + 0x49B40821u, 22);
            a = b + BitOperations.RotateLeft(a + (c ^ (d & (b ^ c))) + Le32(p + 4) + 0xF61E2562u, 5);
            d = a + BitOperations.RotateLeft(d + (b ^ (c & (a ^ b))) + Le32(p + 24) + 0xC040B340u, 9);
            c = d + BitOperations.RotateLeft(c + (a ^ (b & (d ^ a))) + Le32(p + 44) + 0x265E5A51u, 14);
            b = c + BitOperations.RotateLeft(b + (d ^ (a & (c ^ d))) + Le32(p + 0) + 0xE9B6C7AAu, 20);
            a = b + BitOperations.RotateLeft(a + (c ^ (d & (b ^ c))) + Le32(p + 20) + 0xD62F105Du, 5);
            d = a + BitOperations.RotateLeft(d + (b ^ (c & (a ^ b))) + Le32(p + 40) + 0x02441453u, 9);
            c = d + BitOperations.RotateLeft(c + (a ^ (b & (d ^ a))) + Le32(p + 60) + 0xD8A1E681u, 14);
            b = c + BitOperations.RotateLeft(b + (d ^ (a & (c ^ d))) + Le32(p + 16) + 0xE7D3FBC8u, 20);
            a = b + BitOperations.RotateLeft(a + (c ^ (d & (b ^ c))) + Le32(p + 36) + 0x21E1CDE6u, 5);
            d = a + BitOperations.RotateLeft(d + (b ^ (c & (a ^ b))) + Le32(p + 56) + 0xC33707D6u, 9);
            c = d + BitOperations.RotateLeft(c + (a ^ (b & (d ^ a))) + Le32(p + 12) + 0xF4D50D87u, 14);
            b = c + BitOperations.RotateLeft(b + (d ^ (a & (c ^ d))) + Le32(p + 32) + 0x455A14EDu, 20);
            a = b + BitOperations.RotateLeft(a + (c ^ (d & (b ^ c))) + Le32(p + 52) + 0xA9E3E905u, 5);
            d = a + BitOperations.RotateLeft(d + (b ^ (c & (a ^ b))) + Le32(p + 8) + 0xFCEFA3F8u, 9);
            c = d + BitOperations.RotateLeft(c + (a ^ (b & (d ^ a))) + Le32(p + 28) + 0x676F02D9u, 14);
            b = c + BitOperations.RotateLeft(b + (d ^ (a & (c ^ d))) + Le32(p + 48) + 0x8D2A4C8Au, 20);
            a = b + BitOperations.RotateLeft(a + (b ^ c ^ d) + Le32(p + 20) + 0xFFFA3942u, 4);
            d = a + BitOperations.RotateLeft(d + (a ^ b ^ c) + Le32(p + 32) + 0x8771F681u, 11);
            c = d + BitOperations.RotateLeft(c + (d ^ a ^ b) + Le32(p + 44) + 0x6D9D6122u, 16);
            b = c + BitOperations.RotateLeft(b + (c ^ d ^ a) + Le32(p + 56) + 0xFDE5380Cu, 23);
            a = b + BitOperations.RotateLeft(a + (b ^ c ^ d) + Le32(p + 4) + 0xA4BEEA44u, 4);
            d = a + BitOperations.RotateLeft(d + (a ^ b ^ c) + Le32(p + 16) + 0x4BDECFA9u, 11);
            c = d + BitOperations.RotateLeft(c + (d ^ a ^ b) + Le32(p + 28) + 0xF6BB4B60u, 16);
            b = c + BitOperations.RotateLeft(b + (c ^ d ^ a) + Le32(p + 40) + 0xBEBFBC70u, 23);
            a = b + BitOperations.RotateLeft(a + (b ^ c ^ d) + Le32(p + 52) + 0x289B7EC6u, 4);
            d = a + BitOperations.RotateLeft(d + (a ^ b ^ c) + Le32(p + 0) + 0xEAA127FAu, 11);
            c = d + BitOperations.RotateLeft(c + (d ^ a ^ b) + Le32(p + 12) + 0xD4EF3085u, 16);
            b = c + BitOperations.RotateLeft(b + (c ^ d ^ a) + Le32(p + 24) + 0x04881D05u, 23);
            a = b + BitOperations.RotateLeft(a + (b ^ c ^ d) + Le32(p + 36) + 0xD9D4D039u, 4);
            d = a + BitOperations.RotateLeft(d + (a ^ b ^ c) + Le32(p + 48) + 0xE6DB99E5u, 11);
            c = d + BitOperations.RotateLeft(c + (d ^ a ^ b) + Le32(p + 60) + 0x1FA27CF8u, 16);
            b = c + BitOperations.RotateLeft(b + (c ^ d ^ a) + Le32(p + 8) + 0xC4AC5665u, 23);
            a = b + BitOperations.RotateLeft(a + (c ^ (b | ~d)) + Le32(p + 0) + 0xF4292244u, 6);
            d = a + BitOperations.RotateLeft(d + (b ^ (a | ~c)) + Le32(p + 28) + 0x432AFF97u, 10);
            c = d + BitOperations.RotateLeft(c + (a ^ (d | ~b)) + Le32(p + 56) + 0xAB9423A7u, 15);
            b = c + BitOperations.RotateLeft(b + (d ^ (c | ~a)) + Le32(p + 20) + 0xFC93A039u, 21);
            a = b + BitOperations.RotateLeft(a + (c ^ (b | ~d)) + Le32(p + 48) + 0x655B59C3u, 6);
            d = a + BitOperations.RotateLeft(d + (b ^ (a | ~c)) + Le32(p + 12) + 0x8F0CCC92u, 10);
            c = d + BitOperations.RotateLeft(c + (a ^ (d | ~b)) + Le32(p + 40) + 0xFFEFF47Du, 15);
            b = c + BitOperations.RotateLeft(b + (d ^ (c | ~a)) + Le32(p + 4) + 0x85845DD1u, 21);
            a = b + BitOperations.RotateLeft(a + (c ^ (b | ~d)) + Le32(p + 32) + 0x6FA87E4Fu, 6);
            d = a + BitOperations.RotateLeft(d + (b ^ (a | ~c)) + Le32(p + 60) + 0xFE2CE6E0u, 10);
            c = d + BitOperations.RotateLeft(c + (a ^ (d | ~b)) + Le32(p + 24) + 0xA3014314u, 15);
            b = c + BitOperations.RotateLeft(b + (d ^ (c | ~a)) + Le32(p + 52) + 0x4E0811A1u, 21);
            a = b + BitOperations.RotateLeft(a + (c ^ (b | ~d)) + Le32(p + 16) + 0xF7537E82u, 6);
            d = a + BitOperations.RotateLeft(d + (b ^ (a | ~c)) + Le32(p + 44) + 0xBD3AF235u, 10);
            c = d + BitOperations.RotateLeft(c + (a ^ (d | ~b)) + Le32(p + 8) + 0x2AD7D2BBu, 15);
            b = c + BitOperations.RotateLeft(b + (d ^ (c | ~a)) + Le32(p + 36) + 0xEB86D391u, 21);
            a += a0; b += b0; c += c0; d += d0;
        }
        state[0] = a; state[1] = b; state[2] = c; state[3] = d;
    }

    /// <summary>The digest: the state words little-endian (RFC 1321 §3.5).</summary>
    public static void WriteDigest(uint* state, byte* output)
    {
        for (int i = 0; i < 4; i++) Unsafe.WriteUnaligned(output + 4 * i, BitConverter.IsLittleEndian ? state[i] : BinaryPrimitives.ReverseEndianness(state[i]));
    }
}

/// <summary><see cref="Md5Core"/> as an <see cref="IHashCore"/> (length field: 64-bit little-endian bit count).</summary>
internal readonly unsafe struct Md5Hash : IHashCore
{
    public static int BlockSize => Md5Core.BlockSize;
    public static int DigestSize => Md5Core.DigestSize;
    public static int LengthFieldSize => 8;
    public static void Init(byte* state) => Md5Core.Init((uint*)state);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compress(byte* state, byte* blocks, nint count) => Md5Core.Compress((uint*)state, blocks, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteLength(byte* end, ulong bitLength) =>
        Unsafe.WriteUnaligned(end - 8, BitConverter.IsLittleEndian ? bitLength : BinaryPrimitives.ReverseEndianness(bitLength));
    public static void WriteDigest(byte* state, byte* output) => Md5Core.WriteDigest((uint*)state, output);
}
