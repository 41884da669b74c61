using System;
using System.Buffers.Binary;
using System.Security.Cryptography;
using FastPath.Crypto;
using FastPath.Ike.Crypto;
using Xunit;

namespace FastPath.Ike.Tests.Crypto;

public class SkCipherTests
{
    public static TheoryData<EncrId, int, IntegId> Suites() => new()
    {
        { EncrId.AesCbc, 128, IntegId.HmacSha1_96 },
        { EncrId.AesCbc, 192, IntegId.HmacSha2_256_128 },
        { EncrId.AesCbc, 256, IntegId.HmacSha2_384_192 },
        { EncrId.AesCbc, 256, IntegId.HmacSha2_512_256 },
        { EncrId.TripleDesCbc, 192, IntegId.HmacSha1_96 },
        { EncrId.AesGcm8, 128, IntegId.None },
        { EncrId.AesGcm12, 256, IntegId.None },
        { EncrId.AesGcm16, 128, IntegId.None },
        { EncrId.AesGcm16, 256, IntegId.None },
        { EncrId.ChaCha20Poly1305, 256, IntegId.None },
    };

    private static ISkCipher Make(EncrId e, int bits, IntegId i, CryptoEngine? engine = null)
    {
        int keyBytes = (e == EncrId.TripleDesCbc ? 192 : bits) / 8 + IkeIana.SaltBytes(e);
        byte[] ek = RandomNumberGenerator.GetBytes(keyBytes);
        if (e == EncrId.TripleDesCbc) { ek[0] = 1; ek[8] = 2; ek[16] = 3; } // distinct thirds
        return SkCipher.Create(e, bits, i, ek, RandomNumberGenerator.GetBytes(IkeIana.IntegKeyBytes(i)), engine);
    }

    // A message laid out as the message layer does: IKE header (28) | SK generic header (4) | body.
    private static (byte[] Message, int BodyOffset) Build(ISkCipher c, byte[] inner)
    {
        int body = c.SealedLength(inner.Length);
        byte[] m = new byte[28 + 4 + body];
        RandomNumberGenerator.Fill(m.AsSpan(0, 16)); // SPIs
        m[16] = 46; m[17] = 0x20; m[18] = 35; m[19] = 0x08;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(24), (uint)m.Length);
        m[28] = 35; // next payload of the inner chain
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(30), (ushort)(4 + body));
        c.Seal(m, 32, inner);
        return (m, 32);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void RoundTripAllLengths(EncrId e, int bits, IntegId i)
    {
        var c = Make(e, bits, i);
        for (int n = 0; n < 70; n++)
        {
            byte[] inner = RandomNumberGenerator.GetBytes(n);
            var (m, off) = Build(c, inner);
            var plain = new byte[m.Length];
            int got = c.Open(m, off, m.Length - off, plain);
            Assert.Equal(n, got);
            Assert.Equal(inner, plain.AsSpan(0, got).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void EveryTamperedByteIsRejected(EncrId e, int bits, IntegId i)
    {
        var c = Make(e, bits, i);
        var (m, off) = Build(c, RandomNumberGenerator.GetBytes(41));
        var plain = new byte[m.Length];
        for (int at = 0; at < m.Length; at++)
        {
            m[at] ^= 0x80;
            Assert.Equal(-1, c.Open(m, off, m.Length - off, plain));
            m[at] ^= 0x80;
        }
        m[27] ^= 1;
        Assert.Equal(-1, c.Open(m, off, m.Length - off, plain));
        m[27] ^= 1;
        Assert.Equal(41, c.Open(m, off, m.Length - off, plain));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void WrongLengthsAreRejectedWithoutThrowing(EncrId e, int bits, IntegId i)
    {
        var c = Make(e, bits, i);
        var (m, off) = Build(c, RandomNumberGenerator.GetBytes(20));
        var plain = new byte[m.Length];
        int body = m.Length - off;
        foreach (int len in new[] { 0, 1, c.IvLength, c.IvLength + c.IcvLength, body - 1, body + 1, -5 })
            Assert.Equal(-1, c.Open(m, off, len, plain));
        Assert.Equal(-1, c.Open(m, -1, body, plain));
        Assert.Equal(-1, c.Open(m, m.Length, 1, plain));
        Assert.Equal(-1, c.Open(m.AsSpan(0, m.Length - 1), off, body, plain)); // truncated message
        Assert.Equal(-1, c.Open(m, off, body, new byte[19])); // output too small
        Assert.Equal(20, c.Open(m, off, body, new byte[20]));
    }

    [Fact]
    public void CbcIvIsFreshPerMessageAndGcmIvCounts()
    {
        var cbc = Make(EncrId.AesCbc, 128, IntegId.HmacSha2_256_128);
        var (a, _) = Build(cbc, new byte[16]);
        var (b, _) = Build(cbc, new byte[16]);
        Assert.NotEqual(Convert.ToHexString(a.AsSpan(32, 16)), Convert.ToHexString(b.AsSpan(32, 16)));
        var gcm = Make(EncrId.AesGcm16, 128, IntegId.None);
        var (x, _) = Build(gcm, new byte[16]);
        var (y, _) = Build(gcm, new byte[16]);
        Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(x.AsSpan(32)) + 1, BinaryPrimitives.ReadUInt64BigEndian(y.AsSpan(32)));
    }

    [Fact]
    public void CbcAcceptsAnyPaddingContentAndChecksPadLength()
    {
        // RFC 7296 §3.14: padding MAY be any value. Build by hand: inner 5 bytes, padding 0xAB x10, pad length 10.
        byte[] ek = RandomNumberGenerator.GetBytes(16), ak = RandomNumberGenerator.GetBytes(32);
        var c = SkCipher.Create(EncrId.AesCbc, 128, IntegId.HmacSha2_256_128, ek, ak);
        byte[] m = new byte[32 + 16 + 16 + 16];
        byte[] pt = new byte[16];
        "hello"u8.CopyTo(pt);
        pt.AsSpan(5, 10).Fill(0xAB);
        pt[15] = 10;
        byte[] iv = RandomNumberGenerator.GetBytes(16);
        iv.CopyTo(m, 32);
        using var aes = Aes.Create();
        aes.Key = ek;
        aes.EncryptCbc(pt, iv, PaddingMode.None).CopyTo(m, 48);
        HMACSHA256.HashData(ak, m.AsSpan(0, 64)).AsSpan(0, 16).CopyTo(m.AsSpan(64));
        var plain = new byte[64];
        Assert.Equal(5, c.Open(m, 32, 48, plain));
        Assert.Equal("hello"u8.ToArray(), plain.AsSpan(0, 5).ToArray());
        // pad length 16 > 15 bytes available: invalid
        pt[15] = 16;
        aes.EncryptCbc(pt, iv, PaddingMode.None).CopyTo(m, 48);
        HMACSHA256.HashData(ak, m.AsSpan(0, 64)).AsSpan(0, 16).CopyTo(m.AsSpan(64));
        Assert.Equal(-1, c.Open(m, 32, 48, plain));
    }

    [Fact]
    public void GcmMatchesTheBclWithRfc5282NonceAndAad()
    {
        // Independent check of the RFC 5282 layout with System.Security.Cryptography.AesGcm:
        // nonce = salt | IV, AAD = message[0..bodyOffset], plaintext = inner | pad length.
        byte[] key = RandomNumberGenerator.GetBytes(16), salt = RandomNumberGenerator.GetBytes(4);
        var c = SkCipher.Create(EncrId.AesGcm16, 128, IntegId.None, [.. key, .. salt], default);
        byte[] inner = RandomNumberGenerator.GetBytes(33);
        var (m, off) = Build(c, inner);
        byte[] nonce = [.. salt, .. m.AsSpan(off, 8)];
        int ct = inner.Length + 1;
        byte[] plain = new byte[ct];
        using var bcl = new AesGcm(key, 16);
        bcl.Decrypt(nonce, m.AsSpan(off + 8, ct), m.AsSpan(off + 8 + ct, 16), plain, m.AsSpan(0, off));
        Assert.Equal(inner, plain.AsSpan(0, inner.Length).ToArray());
        Assert.Equal(0, plain[^1]);
    }

    [Fact]
    public void AllEnginesInteroperate()
    {
        byte[] ek = RandomNumberGenerator.GetBytes(20), ak = [];
        foreach (var sealer in CryptoEngine.All)
            foreach (var opener in CryptoEngine.All)
            {
                if (!sealer.IsSupported || !opener.IsSupported) continue;
                var s = SkCipher.Create(EncrId.AesGcm16, 128, IntegId.None, ek, ak, sealer);
                var o = SkCipher.Create(EncrId.AesGcm16, 128, IntegId.None, ek, ak, opener);
                var (m, off) = Build(s, new byte[50]);
                Assert.Equal(50, o.Open(m, off, m.Length - off, new byte[64]));
            }
    }

    [Fact]
    public void UnsupportedCombinationsAndBadKeyLengthsThrowAtCreation()
    {
        Assert.Throws<NotSupportedException>(() => SkCipher.Create(EncrId.AesGcm16, 128, IntegId.HmacSha1_96, new byte[20], new byte[20]));
        Assert.Throws<NotSupportedException>(() => SkCipher.Create(EncrId.AesCbc, 128, IntegId.None, new byte[16], default));
        Assert.Throws<NotSupportedException>(() => SkCipher.Create(EncrId.AesCbc, 128, IntegId.HmacMd5_96, new byte[16], new byte[16]));
        Assert.Throws<ArgumentException>(() => SkCipher.Create(EncrId.AesGcm16, 128, IntegId.None, new byte[16], default)); // salt missing
        Assert.Throws<ArgumentException>(() => SkCipher.Create(EncrId.AesCbc, 256, IntegId.HmacSha1_96, new byte[32], new byte[16]));
    }
}
