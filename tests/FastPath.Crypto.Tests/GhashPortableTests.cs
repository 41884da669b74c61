using System;
using System.Buffers.Binary;
using FastPath.Crypto.Internal;
using FastPath.Crypto.Portable;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

/// <summary>The portable constant-time GHASH (integer multiplies with holes, Karatsuba, reflected
/// reduction) against a bit-by-bit GF(2^128) multiply, independent of any engine.</summary>
public unsafe class GhashPortableTests
{
    /// <summary>X • Y, NIST SP 800-38D §6.3 Algorithm 1, bit by bit (bit 0 = MSB of byte 0).</summary>
    private static (ulong Hi, ulong Lo) ReferenceMultiply(ulong xHi, ulong xLo, ulong vHi, ulong vLo)
    {
        ulong zHi = 0, zLo = 0;
        for (int i = 0; i < 128; i++)
        {
            ulong bit = i < 64 ? (xHi >> (63 - i)) & 1 : (xLo >> (127 - i)) & 1;
            if (bit != 0)
            {
                zHi ^= vHi;
                zLo ^= vLo;
            }
            bool lsb = (vLo & 1) != 0;
            vLo = (vLo >> 1) | (vHi << 63);
            vHi >>= 1;
            if (lsb) vHi ^= 0xE100000000000000UL; // R = 11100001 ‖ 0^120
        }
        return (zHi, zLo);
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void MultiplyMatchesAlgorithm1()
    {
        Random rng = TestRandom.Create(6443);
        using var key = new NativeKeyBuffer(GhashPortable.KeyBytes);
        for (int n = 0; n < 1000; n++)
        {
            byte[] h = TestRandom.Bytes(rng, 16), x = TestRandom.Bytes(rng, 16);
            if (n == 0) Array.Clear(h);
            if (n == 1) { Array.Clear(h); h[0] = 0x80; } // H = 1
            if (n == 2) Array.Fill(h, (byte)0xFF);
            if (n == 3) Array.Fill(x, (byte)0xFF);
            if (n == 4) { Array.Fill(h, (byte)0xFF); Array.Fill(x, (byte)0xFF); }
            GhashPortable.Init(h, key.Pointer);
            ulong yHi = 0, yLo = 0;
            fixed (byte* p = x) GhashPortable.Update(ref yHi, ref yLo, key.Pointer, p, 16);
            var expected = ReferenceMultiply(BinaryPrimitives.ReadUInt64BigEndian(x), BinaryPrimitives.ReadUInt64BigEndian(x.AsSpan(8)),
                BinaryPrimitives.ReadUInt64BigEndian(h), BinaryPrimitives.ReadUInt64BigEndian(h.AsSpan(8)));
            Assert.Equal(expected, (yHi, yLo));
        }
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void UpdatePadsThePartialLastBlock()
    {
        Random rng = TestRandom.Create(38);
        using var key = new NativeKeyBuffer(GhashPortable.KeyBytes);
        for (int length = 0; length <= 100; length++)
        {
            byte[] h = TestRandom.Bytes(rng, 16), data = TestRandom.Bytes(rng, length);
            GhashPortable.Init(h, key.Pointer);
            ulong hHi = BinaryPrimitives.ReadUInt64BigEndian(h), hLo = BinaryPrimitives.ReadUInt64BigEndian(h.AsSpan(8));
            (ulong Hi, ulong Lo) expected = (0, 0);
            var block = new byte[16];
            for (int i = 0; i < length; i += 16)
            {
                Array.Clear(block);
                data.AsSpan(i, Math.Min(16, length - i)).CopyTo(block);
                expected = ReferenceMultiply(expected.Hi ^ BinaryPrimitives.ReadUInt64BigEndian(block),
                    expected.Lo ^ BinaryPrimitives.ReadUInt64BigEndian(block.AsSpan(8)), hHi, hLo);
            }
            ulong yHi = 0, yLo = 0;
            fixed (byte* p = data) GhashPortable.Update(ref yHi, ref yLo, key.Pointer, p, length);
            Assert.Equal(expected, (yHi, yLo));
        }
    }
}
