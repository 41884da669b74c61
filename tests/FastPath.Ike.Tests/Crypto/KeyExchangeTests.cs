using System;
using System.Numerics;
using FastPath.Ike.Crypto;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Crypto;

public class KeyExchangeTests
{
    // RFC 5903 §8.1-8.3: both private keys, the shared x coordinate (girx). §8.1 also gives the public values.
    [Theory]
    [InlineData(DhGroup.Ecp256, "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
        "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
        "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE")]
    [InlineData(DhGroup.Ecp384, "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194",
        "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
        "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746")]
    [InlineData(DhGroup.Ecp521,
        "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A095AA85A30FE1C2952C6771D937BA9777F5957B2639BAB072462F68C27A57382D4A52",
        "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E9C677D600B343757A3BDBF2A3163E4C2F869CCA7458AA4A4EFFC311F5CB151685EB9",
        "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04D1427E73CA4BAA240A34786859810C06B3C715A3A8CC3151F2BEE417996D19F3DDEA")]
    public void Rfc5903Vectors(DhGroup group, string i, string r, string girx)
    {
        using var a = KeyExchange.CreateWithPrivateKey(group, B(i));
        using var b = KeyExchange.CreateWithPrivateKey(group, B(r));
        Assert.Equal(KeyExchange.PublicValueLength(group), a.PublicValue.Length);
        Assert.True(a.TryComputeSharedSecret(b.PublicValue, out var s1, out var e1), e1);
        Assert.True(b.TryComputeSharedSecret(a.PublicValue, out var s2, out var e2), e2);
        Assert.Equal(girx.ToLowerInvariant(), S(s1));
        Assert.Equal(S(s1), S(s2));
    }

    [Fact]
    public void Rfc5903P256PublicValueIsXThenYWithout04()
    {
        using var a = KeyExchange.CreateWithPrivateKey(DhGroup.Ecp256, B("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"));
        Assert.Equal(("DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180" +
                      "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3").ToLowerInvariant(), S(a.PublicValue));
    }

    [Fact]
    public void EcpRejectsPointsOffTheCurve()
    {
        using var a = KeyExchange.Create(DhGroup.Ecp256);
        using var b = KeyExchange.Create(DhGroup.Ecp256);
        byte[] bad = b.PublicValue;
        bad[63] ^= 1;
        Assert.False(a.TryComputeSharedSecret(bad, out _, out var error));
        Assert.Contains("not a valid curve point", error);
        Assert.False(a.TryComputeSharedSecret(new byte[64], out _, out _)); // (0,0): not on P-256
        Assert.False(a.TryComputeSharedSecret(new byte[65], out _, out error));
        Assert.Contains("expected 64", error);
    }

    // RFC 7748 §5.2 (X25519 function) and §6.1 (Alice/Bob).
    [Theory]
    [InlineData("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")]
    [InlineData("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
    public void Rfc7748Section52(string scalar, string u, string output)
    {
        using var k = KeyExchange.CreateWithPrivateKey(DhGroup.Curve25519, B(scalar));
        Assert.True(k.TryComputeSharedSecret(B(u), out var s, out var e), e);
        Assert.Equal(output, S(s));
    }

    [Fact]
    public void Rfc7748Section61()
    {
        using var alice = KeyExchange.CreateWithPrivateKey(DhGroup.Curve25519, B("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        using var bob = KeyExchange.CreateWithPrivateKey(DhGroup.Curve25519, B("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", S(alice.PublicValue));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", S(bob.PublicValue));
        Assert.True(alice.TryComputeSharedSecret(bob.PublicValue, out var k1, out _));
        Assert.True(bob.TryComputeSharedSecret(alice.PublicValue, out var k2, out _));
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", S(k1));
        Assert.Equal(S(k1), S(k2));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // u = 0
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // u = 1 (order 4)
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")] // order 8
    public void X25519RejectsAllZeroSharedSecret(string smallOrder)
    {
        using var k = KeyExchange.Create(DhGroup.Curve25519);
        Assert.False(k.TryComputeSharedSecret(B(smallOrder), out _, out var error));
        Assert.Contains("all zero", error);
    }

    [Theory]
    [InlineData(DhGroup.Modp2048, 2048)]
    [InlineData(DhGroup.Modp3072, 3072)]
    [InlineData(DhGroup.Modp4096, 4096)]
    public void ModpPrimesHaveTheRfc3526ShapeAndAreSafePrimes(DhGroup g, int bits)
    {
        BigInteger p = ModpKeyExchange.Prime(g);
        Assert.Equal(bits, (int)p.GetBitLength());
        // p = 2^n - 2^(n-64) - 1 + 2^64 * (...): top 64 and low 64 bits are all ones.
        BigInteger ones64 = (BigInteger.One << 64) - 1;
        Assert.Equal(ones64, p >> (bits - 64));
        Assert.Equal(ones64, p & ones64);
        // The next 128 bits are the start of [2^(n-130) pi] (pi = 3.243F6A88..., times 2^62 = C90FDAA2...).
        Assert.Equal(BigInteger.Parse("0C90FDAA22168C234C4C6628B80DC1CD1", System.Globalization.NumberStyles.HexNumber),
            (p >> (bits - 192)) & ((BigInteger.One << 128) - 1));
        Assert.True(IsProbablePrime(p, 4));
        Assert.True(IsProbablePrime((p - 1) / 2, 4)); // safe prime: RFC 3526 "the primes are safe primes"
    }

    private static bool IsProbablePrime(BigInteger n, int rounds)
    {
        BigInteger d = n - 1;
        int s = 0;
        while (d.IsEven) { d >>= 1; s++; }
        foreach (int a in new[] { 2, 3, 5, 7, 11, 13 }[..rounds])
        {
            BigInteger x = BigInteger.ModPow(a, d, n);
            if (x == 1 || x == n - 1) continue;
            bool composite = true;
            for (int r = 1; r < s; r++)
            {
                x = BigInteger.ModPow(x, 2, n);
                if (x == n - 1) { composite = false; break; }
            }
            if (composite) return false;
        }
        return true;
    }

    [Theory]
    [InlineData(DhGroup.Modp2048)]
    [InlineData(DhGroup.Modp3072)]
    [InlineData(DhGroup.Modp4096)]
    public void ModpBothSidesAgreeAndValuesAreFixedLength(DhGroup g)
    {
        using var a = KeyExchange.Create(g);
        using var b = KeyExchange.Create(g);
        int len = KeyExchange.PublicValueLength(g);
        Assert.Equal(len, a.PublicValue.Length);
        Assert.True(a.TryComputeSharedSecret(b.PublicValue, out var s1, out _));
        Assert.True(b.TryComputeSharedSecret(a.PublicValue, out var s2, out _));
        Assert.Equal(len, s1.Length);
        Assert.Equal(S(s1), S(s2));
    }

    // RFC 5114-style check with numbers: a known exponent gives g^x that equals an independent
    // computation (BigInteger.ModPow by hand), and g^(xy) from both sides.
    [Fact]
    public void ModpKnownExponents()
    {
        BigInteger p = ModpKeyExchange.Prime(DhGroup.Modp2048);
        byte[] x = B("3a2b1c0d0e0f101112131415161718191a1b1c1d1e1f20212223242526272829");
        byte[] y = B("7f6e5d4c3b2a19080706050403020100ffeeddccbbaa99887766554433221100");
        using var a = KeyExchange.CreateWithPrivateKey(DhGroup.Modp2048, x);
        using var b = KeyExchange.CreateWithPrivateKey(DhGroup.Modp2048, y);
        var gx = BigInteger.ModPow(2, new BigInteger(x, true, true), p);
        Assert.Equal(gx, new BigInteger(a.PublicValue, true, true));
        Assert.True(a.TryComputeSharedSecret(b.PublicValue, out var s, out _));
        var gxy = BigInteger.ModPow(2, new BigInteger(x, true, true) * new BigInteger(y, true, true), p);
        Assert.Equal(gxy, new BigInteger(s, true, true));
    }

    [Fact]
    public void ModpRejectsDegeneratePeerValues()
    {
        using var a = KeyExchange.Create(DhGroup.Modp2048);
        BigInteger p = ModpKeyExchange.Prime(DhGroup.Modp2048);
        foreach (var v in new[] { BigInteger.Zero, BigInteger.One, p - 1, p, p + 1 })
        {
            byte[] raw = v.ToByteArray(true, true);
            byte[] fixedLen = new byte[256];
            if (raw.Length <= 256) raw.CopyTo(fixedLen, 256 - raw.Length); else fixedLen = raw[^256..];
            if (v == p + 1) fixedLen = (p + 1).ToByteArray(true, true);
            Assert.False(a.TryComputeSharedSecret(fixedLen, out _, out var e), v.ToString());
            Assert.Contains("1 < y < p-1", e);
        }
        Assert.False(a.TryComputeSharedSecret(new byte[255], out _, out var err));
        Assert.Contains("expected 256", err);
    }

    [Fact]
    public void UnsupportedGroupsThrowNotSupported()
    {
        Assert.False(KeyExchange.IsSupported(DhGroup.Modp1024));
        var e = Assert.Throws<NotSupportedException>(() => KeyExchange.Create(DhGroup.Modp768));
        Assert.Contains("MODP_768", e.Message);
    }
}
