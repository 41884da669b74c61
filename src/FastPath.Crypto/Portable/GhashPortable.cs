using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FastPath.Crypto.Portable;

// GHASH (NIST SP 800-38D §6.4) in plain C#, constant-time.
//
// Why not a table: the usual software GHASH (Shoup's 4-bit tables, SP 800-38D's reference
// implementations, the 8-bit tables in older OpenSSL) indexes key-dependent tables with data bits,
// which leaks H through the cache. Instead this follows the technique of BearSSL's ghash_ctmul64
// (T. Pornin, bearssl.org/constanttime.html): a carry-less 64×64 multiply done with ordinary
// integer multiplications on operands with "holes". Each operand is split into four masks that keep
// every 4th bit (0x1111…, 0x2222…, 0x4444…, 0x8888…); multiplying two such sparse values adds at
// most 16 one-bit products per bit position, and a sum below 16 never carries into the next bit of
// the same class (the 16-term positions are at bits ≥ 60, whose carries leave the 64-bit word), so
// masking each of the 16 products back to its class leaves exactly the XOR (GF(2)) sum. Integer
// multiplication is constant-time on every 64-bit CPU this runs on.
// - 128×128: Karatsuba over the 64-bit halves (3 products) for the low halves of the products, and
//   the same 3 products of the bit-reversed operands for the high halves (rev(a)·rev(b) =
//   rev(a·b) << 1, since the plain 64-bit multiply only keeps the low word).
// - GHASH's bit order is reflected (bit 0 = x^0 is the MSB of byte 0), so the 256-bit product is
//   shifted left by one and reduced modulo x^128 + x^7 + x^2 + x + 1 in that reflected order.
// - Keying stores H's halves, their XOR and their bit reversals (6 words); nothing depends on data.
// Speed is secondary here (the portable engine is for verification and exotic CPUs).
internal static unsafe class GhashPortable
{
    /// <summary>Bytes of precomputed key material (h0, h1, h0⊕h1 and their bit reversals).</summary>
    public const int KeyBytes = 6 * 8;

    /// <summary>Stores the multiplication key for H (16 bytes, SP 800-38D byte order).</summary>
    public static void Init(ReadOnlySpan<byte> h, byte* key)
    {
        ulong h1 = BinaryPrimitives.ReadUInt64BigEndian(h);
        ulong h0 = BinaryPrimitives.ReadUInt64BigEndian(h[8..]);
        ulong* k = (ulong*)key;
        k[0] = h0;
        k[1] = h1;
        k[2] = h0 ^ h1;
        k[3] = Reverse(h0);
        k[4] = Reverse(h1);
        k[5] = k[3] ^ k[4];
    }

    /// <summary>Y ← GHASH update over <paramref name="length"/> bytes, the last partial block zero-padded
    /// (SP 800-38D §7.1 step 5 pads A and C to whole blocks). Y is (hi = bytes 0..7, lo = bytes 8..15), big-endian.</summary>
    [SkipLocalsInit]
    public static void Update(ref ulong yHi, ref ulong yLo, byte* key, byte* data, nint length)
    {
        ulong hi = yHi, lo = yLo;
        while (length >= 16)
        {
            hi ^= ReadBigEndian(data);
            lo ^= ReadBigEndian(data + 8);
            Multiply(ref hi, ref lo, (ulong*)key);
            data += 16; length -= 16;
        }
        if (length > 0)
        {
            byte* block = stackalloc byte[16];
            Unsafe.InitBlockUnaligned(block, 0, 16);
            Unsafe.CopyBlockUnaligned(block, data, (uint)length);
            hi ^= BinaryPrimitives.ReadUInt64BigEndian(new ReadOnlySpan<byte>(block, 8));
            lo ^= BinaryPrimitives.ReadUInt64BigEndian(new ReadOnlySpan<byte>(block + 8, 8));
            Multiply(ref hi, ref lo, (ulong*)key);
            Unsafe.InitBlockUnaligned(block, 0, 16);
        }
        yHi = hi;
        yLo = lo;
    }

    /// <summary>Y ← (Y ⊕ X) • H for one block given as two big-endian words.</summary>
    public static void UpdateBlock(ref ulong yHi, ref ulong yLo, byte* key, ulong xHi, ulong xLo)
    {
        ulong hi = yHi ^ xHi, lo = yLo ^ xLo;
        Multiply(ref hi, ref lo, (ulong*)key);
        yHi = hi;
        yLo = lo;
    }

    /// <summary>Y ← Y • H in GF(2^128) (SP 800-38D §6.3), Y = (y1 = hi, y0 = lo).</summary>
    private static void Multiply(ref ulong y1, ref ulong y0, ulong* k)
    {
        ulong h0 = k[0], h1 = k[1], h2 = k[2], h0r = k[3], h1r = k[4], h2r = k[5];
        ulong y0r = Reverse(y0), y1r = Reverse(y1);
        ulong y2 = y0 ^ y1, y2r = y0r ^ y1r;

        // Karatsuba: low words of the three products, then high words via the reversed operands.
        ulong z0 = ClMulLow(y0, h0);
        ulong z1 = ClMulLow(y1, h1);
        ulong z2 = ClMulLow(y2, h2);
        ulong z0h = ClMulLow(y0r, h0r);
        ulong z1h = ClMulLow(y1r, h1r);
        ulong z2h = ClMulLow(y2r, h2r);
        z2 ^= z0 ^ z1;
        z2h ^= z0h ^ z1h;
        z0h = Reverse(z0h) >> 1;
        z1h = Reverse(z1h) >> 1;
        z2h = Reverse(z2h) >> 1;

        // The 256-bit product v3:v2:v1:v0 (reflected order), shifted left by one bit.
        ulong v0 = z0, v1 = z0h ^ z2, v2 = z1 ^ z2h, v3 = z1h;
        v3 = (v3 << 1) | (v2 >> 63);
        v2 = (v2 << 1) | (v1 >> 63);
        v1 = (v1 << 1) | (v0 >> 63);
        v0 <<= 1;

        // Reduction modulo x^128 + x^7 + x^2 + x + 1 (reflected): fold v0, then v1, into the upper half.
        v2 ^= v0 ^ (v0 >> 1) ^ (v0 >> 2) ^ (v0 >> 7);
        v1 ^= (v0 << 63) ^ (v0 << 62) ^ (v0 << 57);
        v3 ^= v1 ^ (v1 >> 1) ^ (v1 >> 2) ^ (v1 >> 7);
        v2 ^= (v1 << 63) ^ (v1 << 62) ^ (v1 << 57);
        y0 = v2;
        y1 = v3;
    }

    /// <summary>Low 64 bits of the carry-less product x·y, by integer multiplies of 4-bit-strided operands.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ClMulLow(ulong x, ulong y)
    {
        const ulong M0 = 0x1111111111111111UL, M1 = 0x2222222222222222UL, M2 = 0x4444444444444444UL, M3 = 0x8888888888888888UL;
        ulong x0 = x & M0, x1 = x & M1, x2 = x & M2, x3 = x & M3;
        ulong y0 = y & M0, y1 = y & M1, y2 = y & M2, y3 = y & M3;
        ulong z0 = (x0 * y0) ^ (x1 * y3) ^ (x2 * y2) ^ (x3 * y1);
        ulong z1 = (x0 * y1) ^ (x1 * y0) ^ (x2 * y3) ^ (x3 * y2);
        ulong z2 = (x0 * y2) ^ (x1 * y1) ^ (x2 * y0) ^ (x3 * y3);
        ulong z3 = (x0 * y3) ^ (x1 * y2) ^ (x2 * y1) ^ (x3 * y0);
        return (z0 & M0) | (z1 & M1) | (z2 & M2) | (z3 & M3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadBigEndian(byte* p) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(p)) : Unsafe.ReadUnaligned<ulong>(p);

    /// <summary>Reverses the 64 bits of <paramref name="x"/> (swap networks, no table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Reverse(ulong x)
    {
        x = ((x & 0x5555555555555555UL) << 1) | ((x >> 1) & 0x5555555555555555UL);
        x = ((x & 0x3333333333333333UL) << 2) | ((x >> 2) & 0x3333333333333333UL);
        x = ((x & 0x0F0F0F0F0F0F0F0FUL) << 4) | ((x >> 4) & 0x0F0F0F0F0F0F0F0FUL);
        return BinaryPrimitives.ReverseEndianness(x);
    }
}
