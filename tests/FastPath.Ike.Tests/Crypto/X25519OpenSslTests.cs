using System;
using System.Security.Cryptography;
using FastPath.Ike.Crypto;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Crypto;

// X25519OpenSsl (libcrypto's X25519 behind the KE) against RFC 7748's vectors — §5.2 both single
// computations and the iterated one (1 and 1,000 iterations; the 1,000,000 one takes minutes and is
// not run), §6.1 Alice/Bob — and against BouncyCastle's independent Rfc7748.X25519 on random and
// edge-case inputs (non-canonical u >= p, u with bit 255 set, u = p - 1, all-ones scalars).
public class X25519OpenSslTests
{
    private static byte[] Mult(byte[] k, byte[] u)
    {
        byte[] r = new byte[32];
        X25519OpenSsl.TryScalarMult(k, u, r); // false (all zero) only for small-order u, compared as zeros
        return r;
    }

    [Theory]
    [InlineData("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")]
    [InlineData("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
    public void Rfc7748Section52(string scalar, string u, string output) => Assert.Equal(output, S(Mult(B(scalar), B(u))));

    [Fact]
    public void Rfc7748Section52Iterated1And1000()
    {
        // k = u = 9; each round: r = X25519(k, u); u = k; k = r.
        byte[] k = new byte[32], u = new byte[32];
        k[0] = 9;
        u[0] = 9;
        for (int i = 1; i <= 1000; i++)
        {
            byte[] r = Mult(k, u);
            u = k;
            k = r;
            if (i == 1) Assert.Equal("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", S(k));
        }
        Assert.Equal("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", S(k));
    }

    [Fact]
    public void Rfc7748Section61()
    {
        byte[] a = B("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] b = B("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        byte[] pa = new byte[32], pb = new byte[32];
        X25519OpenSsl.ScalarMultBase(a, pa);
        X25519OpenSsl.ScalarMultBase(b, pb);
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", S(pa));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", S(pb));
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", S(Mult(a, pb)));
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", S(Mult(b, pa)));
    }

    [Theory]
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p - 1
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p (non-canonical 0)
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p + 1 (non-canonical 1)
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")] // bit 255 set, masked
    [InlineData("0000000000000000000000000000000000000000000000000000000000000080")] // only bit 255
    [InlineData("0900000000000000000000000000000000000000000000000000000000000000")]
    public void EdgeCaseUMatchesBouncyCastle(string u)
    {
        foreach (string k in new[] { "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "0000000000000000000000000000000000000000000000000000000000000000",
                     "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4" })
            Assert.Equal(S(Bc(B(k), B(u))), S(Mult(B(k), B(u))));
    }

    [Fact]
    public void RandomInputsMatchBouncyCastle()
    {
        var rng = new Random(7748);
        byte[] k = new byte[32], u = new byte[32];
        for (int i = 0; i < 2000; i++)
        {
            rng.NextBytes(k);
            rng.NextBytes(u);
            Assert.Equal(S(Bc(k, u)), S(Mult(k, u)));
        }
        for (int i = 0; i < 200; i++)
        {
            RandomNumberGenerator.Fill(k);
            byte[] p = new byte[32], q = new byte[32];
            X25519OpenSsl.ScalarMultBase(k, p);
            Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMultBase(k, 0, q, 0);
            Assert.Equal(S(q), S(p));
        }
    }

    private static byte[] Bc(byte[] k, byte[] u)
    {
        byte[] r = new byte[32];
        Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(k, 0, u, 0, r, 0);
        return r;
    }
}
