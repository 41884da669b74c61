using System;
using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using FastPath.Crypto;
using FastPath.Crypto.Internal;
using FastPath.Crypto.Intrinsics;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

/// <summary>Property tests of the PCLMULQDQ GHASH (POLYVAL-domain Montgomery multiply, aggregated
/// reduction over 8/16 blocks, V512/V256/128-bit paths) against a bit-by-bit reference multiply.
/// Marked KAT so CI reruns them under DOTNET_EnableAVX512=0 / EnableAVX2=0, which switch the path.</summary>
public unsafe class GhashTests
{
    /// <summary>X • Y in GF(2^128), NIST SP 800-38D §6.3 Algorithm 1, bit by bit (bit 0 = MSB of byte 0).</summary>
    private static byte[] ReferenceMultiply(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        ulong zHi = 0, zLo = 0;
        ulong vHi = BinaryPrimitives.ReadUInt64BigEndian(y), vLo = BinaryPrimitives.ReadUInt64BigEndian(y[8..]);
        for (int i = 0; i < 128; i++)
        {
            if (((x[i / 8] >> (7 - (i % 8))) & 1) != 0)
            {
                zHi ^= vHi;
                zLo ^= vLo;
            }
            bool lsb = (vLo & 1) != 0;
            vLo = (vLo >> 1) | (vHi << 63);
            vHi >>= 1;
            if (lsb) vHi ^= 0xE100000000000000UL; // R = 11100001 ‖ 0^120
        }
        var z = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(z, zHi);
        BinaryPrimitives.WriteUInt64BigEndian(z.AsSpan(8), zLo);
        return z;
    }

    /// <summary>GHASH_H (SP 800-38D §6.4 Algorithm 2) over data zero-padded to whole blocks.</summary>
    private static byte[] ReferenceGhash(ReadOnlySpan<byte> h, byte[] y, ReadOnlySpan<byte> data)
    {
        var block = new byte[16];
        for (int i = 0; i < data.Length; i += 16)
        {
            Array.Clear(block);
            data.Slice(i, Math.Min(16, data.Length - i)).CopyTo(block);
            for (int j = 0; j < 16; j++) y[j] ^= block[j];
            ReferenceMultiply(y, h).CopyTo(y, 0);
        }
        return y;
    }

    private static byte[] LengthBlock(long aadBytes, long ctBytes)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(b, (ulong)aadBytes * 8);
        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(8), (ulong)ctBytes * 8);
        return b;
    }

    /// <summary>False (after checking that this is consistent) when PCLMULQDQ is off, e.g. under
    /// DOTNET_EnableHWIntrinsic=0, where the intrinsics engine must then be unsupported too.</summary>
    private static bool Available()
    {
        if (Ghash.IsSupported) return true;
        Assert.False(CryptoEngine.Intrinsics.IsSupported);
        return false;
    }

    private static byte[] Hash(ReadOnlySpan<byte> blocks, Func<Vector128<ulong>, nint, nint, Vector128<ulong>> step, int chunk)
    {
        Vector128<ulong> acc = Vector128<ulong>.Zero;
        for (int i = 0; i < blocks.Length; i += chunk * 16)
        {
            acc = step(acc, i, Math.Min(chunk, (blocks.Length - i) / 16));
        }
        var r = new byte[16];
        Ghash.ToBlock(acc).CopyTo(r);
        return r;
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void ReferenceMultiplyReproducesAesGcmTagsOfTheBcl()
    {
        // Guards the reference itself: tag = GHASH_H(A ‖ 0 ‖ C ‖ 0 ‖ len) ⊕ E(K, J0) with H and E(K, J0)
        // from the BCL's AES-ECB, compared with the BCL's AES-GCM tag.
        Random rng = TestRandom.Create(800);
        for (int n = 0; n < 20; n++)
        {
            byte[] key = TestRandom.Bytes(rng, 16), nonce = TestRandom.Bytes(rng, 12);
            byte[] aad = TestRandom.Bytes(rng, rng.Next(0, 40)), pt = TestRandom.Bytes(rng, rng.Next(0, 100));
            byte[] ct = new byte[pt.Length], tag = new byte[16];
            using (var gcm = new AesGcm(key, 16)) gcm.Encrypt(nonce, pt, ct, tag, aad);
            using var ecb = System.Security.Cryptography.Aes.Create();
            ecb.Key = key;
            byte[] h = ecb.EncryptEcb(new byte[16], PaddingMode.None);
            byte[] j0 = [.. nonce, 0, 0, 0, 1];
            byte[] mask = ecb.EncryptEcb(j0, PaddingMode.None);
            byte[] y = new byte[16];
            ReferenceGhash(h, y, aad);
            ReferenceGhash(h, y, ct);
            ReferenceGhash(h, y, LengthBlock(aad.Length, ct.Length));
            for (int i = 0; i < 16; i++) y[i] ^= mask[i];
            Assert.Equal(Hex.Format(tag), Hex.Format(y));
        }
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void MultiplyMatchesAlgorithm1ForRandomInputs()
    {
        if (!Available()) return;
        Random rng = TestRandom.Create(12801);
        using var table = new NativeKeyBuffer(Ghash.TableBytes);
        for (int n = 0; n < 500; n++)
        {
            byte[] h = TestRandom.Bytes(rng, 16), x = TestRandom.Bytes(rng, 16);
            if (n == 0) Array.Clear(h);
            if (n == 1) { Array.Clear(h); h[0] = 0x80; } // H = 1 (x^0)
            if (n == 2) Array.Fill(h, (byte)0xFF);
            if (n == 3) Array.Fill(x, (byte)0xFF);
            Ghash.Init(h, table.Pointer);
            byte[] result = Hash(x, (acc, i, count) =>
            {
                fixed (byte* p = x) return Ghash.UpdateN(acc, p + i, (int)count, table.Pointer);
            }, 1);
            Assert.Equal(Hex.Format(ReferenceMultiply(x, h)), Hex.Format(result));
        }
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void AggregatedPathsMatchTheReference()
    {
        if (!Available()) return;
        Random rng = TestRandom.Create(38);
        using var table = new NativeKeyBuffer(Ghash.TableBytes);
        for (int n = 0; n < 60; n++)
        {
            byte[] h = TestRandom.Bytes(rng, 16);
            int blocks = n < 40 ? n : rng.Next(0, 100);
            byte[] data = TestRandom.Bytes(rng, blocks * 16);
            Ghash.Init(h, table.Pointer);
            string expected = Hex.Format(ReferenceGhash(h, new byte[16], data));

            // Every aggregation width 1..16 (UpdateN: one reduction per chunk, powers H^k..H^1).
            for (int chunk = 1; chunk <= Ghash.Powers; chunk++)
            {
                byte[] r = Hash(data, (acc, i, count) =>
                {
                    fixed (byte* p = data) return Ghash.UpdateN(acc, p + i, (int)count, table.Pointer);
                }, chunk);
                Assert.Equal($"chunk {chunk}: {expected}", $"chunk {chunk}: {Hex.Format(r)}");
            }

            // The 8-block path (V512 / V256 / 128-bit, whichever this CPU and the knobs give).
            byte[] r8 = Hash(data, (acc, i, count) =>
            {
                fixed (byte* p = data) return count == 8 ? Ghash.Update8(acc, p + i, table.Pointer) : Ghash.UpdateN(acc, p + i, (int)count, table.Pointer);
            }, 8);
            Assert.Equal($"update8: {expected}", $"update8: {Hex.Format(r8)}");
        }
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void ShortUpdateMatchesTheReference()
    {
        if (!Available()) return;
        Random rng = TestRandom.Create(99);
        using var table = new NativeKeyBuffer(Ghash.TableBytes);
        for (int length = 1; length <= 16 * Ghash.Powers; length++)
        {
            byte[] h = TestRandom.Bytes(rng, 16), data = TestRandom.Bytes(rng, length), start = TestRandom.Bytes(rng, 16);
            Ghash.Init(h, table.Pointer);
            byte[] y = ReferenceGhash(h, (byte[])start.Clone(), data);
            Vector128<ulong> acc;
            fixed (byte* p = data) acc = Ghash.UpdateShort(Ghash.Reverse(Vector128.Create(start)), p, length, table.Pointer);
            var r = new byte[16];
            Ghash.ToBlock(acc).CopyTo(r);
            Assert.Equal($"len={length}: {Hex.Format(y)}", $"len={length}: {Hex.Format(r)}");
        }
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void FinalPassMatchesTheReference()
    {
        if (!Available()) return;
        Random rng = TestRandom.Create(17);
        using var table = new NativeKeyBuffer(Ghash.TableBytes);
        for (int n = 0; n < 400; n++)
        {
            byte[] h = TestRandom.Bytes(rng, 16);
            bool withFull8 = n % 2 == 1;
            int ctLength = rng.Next(0, 128);
            int aadLength = withFull8 ? 0 : rng.Next(0, 16 * (Ghash.Powers - 9) + 1);
            byte[] aad = TestRandom.Bytes(rng, aadLength), full8 = TestRandom.Bytes(rng, 128), ct = TestRandom.Bytes(rng, ctLength);
            byte[] start = TestRandom.Bytes(rng, 16);
            Ghash.Init(h, table.Pointer);
            byte[] y = (byte[])start.Clone();
            if (withFull8) ReferenceGhash(h, y, full8);
            ReferenceGhash(h, y, aad);
            ReferenceGhash(h, y, ct);
            ReferenceGhash(h, y, LengthBlock(aadLength, ctLength + (withFull8 ? 128 : 0)));

            Vector128<ulong> acc = Ghash.Reverse(Vector128.Create(start));
            fixed (byte* a = aad, f = full8, c = ct)
            {
                acc = Ghash.Final(acc, withFull8 ? f : null, a, aadLength, c, ctLength,
                    Vector128.Create((ulong)(ctLength + (withFull8 ? 128 : 0)) * 8, (ulong)aadLength * 8), table.Pointer);
            }
            var r = new byte[16];
            Ghash.ToBlock(acc).CopyTo(r);
            Assert.Equal($"full8={withFull8} aad={aadLength} ct={ctLength}: {Hex.Format(y)}", $"full8={withFull8} aad={aadLength} ct={ctLength}: {Hex.Format(r)}");
        }
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void PaddedUpdateWithLengthBlockMatchesTheReference()
    {
        if (!Available()) return;
        Random rng = TestRandom.Create(5);
        using var table = new NativeKeyBuffer(Ghash.TableBytes);
        for (int n = 0; n < 400; n++)
        {
            byte[] h = TestRandom.Bytes(rng, 16);
            int aadLength = rng.Next(0, 70), ctLength = n < 300 ? n : rng.Next(0, 1500);
            byte[] aad = TestRandom.Bytes(rng, aadLength), ct = TestRandom.Bytes(rng, ctLength);
            Ghash.Init(h, table.Pointer);
            byte[] y = new byte[16];
            ReferenceGhash(h, y, aad);
            ReferenceGhash(h, y, ct);
            ReferenceGhash(h, y, LengthBlock(aadLength, ctLength));

            Vector128<ulong> acc = Vector128<ulong>.Zero;
            fixed (byte* a = aad, c = ct)
            {
                acc = Ghash.UpdatePadded(acc, a, aadLength, table.Pointer, false, default);
                acc = Ghash.UpdatePadded(acc, c, ctLength, table.Pointer, true,
                    Vector128.Create((ulong)ctLength * 8, (ulong)aadLength * 8));
            }
            var r = new byte[16];
            Ghash.ToBlock(acc).CopyTo(r);
            Assert.Equal($"aad={aadLength} ct={ctLength}: {Hex.Format(y)}", $"aad={aadLength} ct={ctLength}: {Hex.Format(r)}");
        }
    }
}
