using System;
using System.Security.Cryptography;
using FastPath.Ike.Crypto;
using FastPath.Ike.Proposals;
using Xunit;

namespace FastPath.Ike.Tests.Crypto;

public class FactoryTests
{
    // Every IKE suite FastPath can negotiate derives keys of the RFC 7296 §2.14 lengths and gives two
    // working, distinct SK cipher directions.
    public static TheoryData<EncrId, int, PrfId, IntegId, int, int> IkeSuites() => new()
    {
        // encr, bits, prf, integ, SK_e bytes, SK_a bytes
        { EncrId.AesCbc, 128, PrfId.HmacSha1, IntegId.HmacSha1_96, 16, 20 },
        { EncrId.AesCbc, 192, PrfId.HmacSha2_256, IntegId.HmacSha2_256_128, 24, 32 },
        { EncrId.AesCbc, 256, PrfId.HmacSha2_384, IntegId.HmacSha2_384_192, 32, 48 },
        { EncrId.AesCbc, 256, PrfId.HmacSha2_512, IntegId.HmacSha2_512_256, 32, 64 },
        { EncrId.TripleDesCbc, 0, PrfId.HmacSha1, IntegId.HmacSha1_96, 24, 20 },
        { EncrId.AesGcm8, 128, PrfId.HmacSha2_256, IntegId.None, 20, 0 },
        { EncrId.AesGcm12, 256, PrfId.HmacSha2_256, IntegId.None, 36, 0 },
        { EncrId.AesGcm16, 256, PrfId.HmacSha2_512, IntegId.None, 36, 0 },
        { EncrId.ChaCha20Poly1305, 256, PrfId.HmacSha2_256, IntegId.None, 36, 0 },
    };

    [Theory]
    [MemberData(nameof(IkeSuites))]
    public void IkeSaKeyLengthsAndDirections(EncrId e, int bits, PrfId prf, IntegId integ, int skE, int skA)
    {
        var suite = new IkeSuite(e, bits, prf, integ, DhGroup.Curve25519);
        var k = SaKeyFactory.CreateIkeSa(suite, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32),
            RandomNumberGenerator.GetBytes(32), 0x1122334455667788, 0x99aabbccddeeff00);
        int prfLen = Prf.Create(prf).OutputLength;
        Assert.Equal(prfLen, k.SkD.Length);
        Assert.Equal(prfLen, k.SkPi.Length);
        Assert.Equal(skE, k.Material.SkEi.Length);
        Assert.Equal(skA, k.Material.SkAr.Length);
        Assert.NotEqual(Convert.ToHexString(k.Material.SkEi), Convert.ToHexString(k.Material.SkEr));

        byte[] m = new byte[32 + k.Outbound(true).SealedLength(10)];
        k.Outbound(true).Seal(m, 32, new byte[10]);
        Assert.Equal(10, k.Inbound(false).Open(m, 32, m.Length - 32, new byte[64]));
        Assert.Equal(-1, k.Inbound(true).Open(m, 32, m.Length - 32, new byte[64])); // our own direction does not open it
    }

    // The parser refuses aes192gcm*; a hand-made suite fails at creation.
    [Fact]
    public void Gcm192IkeSaIsRefusedClearly() =>
        Assert.Throws<NotSupportedException>(() => SaKeyFactory.CreateIkeSa(new IkeSuite(EncrId.AesGcm12, 192, PrfId.HmacSha2_256, IntegId.None, DhGroup.Ecp256),
            new byte[32], new byte[32], new byte[32], 1, 2));

    [Theory]
    [InlineData(EncrId.AesGcm16, 128, IntegId.None, 20, 0)]
    [InlineData(EncrId.AesGcm16, 256, IntegId.None, 36, 0)]
    [InlineData(EncrId.ChaCha20Poly1305, 256, IntegId.None, 36, 0)]
    [InlineData(EncrId.AesCbc, 128, IntegId.HmacSha1_96, 16, 20)]
    [InlineData(EncrId.AesCbc, 256, IntegId.HmacSha2_512_256, 32, 64)]
    [InlineData(EncrId.AesCtr, 128, IntegId.HmacSha2_256_128, 20, 32)]
    [InlineData(EncrId.TripleDesCbc, 192, IntegId.HmacMd5_96, 24, 16)]
    public void ChildKeyLayoutIsEncrIIntegIEncrRIntegR(EncrId e, int bits, IntegId integ, int encr, int auth)
    {
        var prf = Prf.Create(PrfId.HmacSha2_256);
        byte[] skD = RandomNumberGenerator.GetBytes(32), ni = RandomNumberGenerator.GetBytes(32), nr = RandomNumberGenerator.GetBytes(32);
        var c = SaKeyFactory.CreateChildSa(prf, skD, new ChildSuite(e, bits, integ, DhGroup.None, EsnId.NoEsn), default, ni, nr);
        byte[] keymat = prf.PrfPlus(skD, [.. ni, .. nr], 2 * (encr + auth));
        Assert.Equal(Convert.ToHexString(keymat.AsSpan(0, encr)), Convert.ToHexString(c.InitiatorToResponder.EncryptionKey));
        Assert.Equal(Convert.ToHexString(keymat.AsSpan(encr, auth)), Convert.ToHexString(c.InitiatorToResponder.IntegrityKey));
        Assert.Equal(Convert.ToHexString(keymat.AsSpan(encr + auth, encr)), Convert.ToHexString(c.ResponderToInitiator.EncryptionKey));
        Assert.Equal(Convert.ToHexString(keymat.AsSpan(2 * encr + auth, auth)), Convert.ToHexString(c.ResponderToInitiator.IntegrityKey));
    }

    [Fact]
    public void OpenNeverThrowsOnRandomInput()
    {
        var rng = new Random(7);
        var ciphers = new ISkCipher[]
        {
            SkCipher.Create(EncrId.AesCbc, 128, IntegId.HmacSha2_256_128, new byte[16], new byte[32]),
            SkCipher.Create(EncrId.TripleDesCbc, 192, IntegId.HmacSha1_96, RandomNumberGenerator.GetBytes(24), new byte[20]),
            SkCipher.Create(EncrId.AesGcm16, 128, IntegId.None, new byte[20], default),
            SkCipher.Create(EncrId.ChaCha20Poly1305, 256, IntegId.None, new byte[36], default),
        };
        byte[] m = new byte[600], outBuf = new byte[600];
        for (int i = 0; i < 20000; i++)
        {
            rng.NextBytes(m);
            int len = rng.Next(0, 600);
            int off = rng.Next(-4, 600);
            int body = rng.Next(-4, 650);
            foreach (var c in ciphers)
                Assert.Equal(-1, c.Open(m.AsSpan(0, len), off, body, outBuf.AsSpan(0, rng.Next(0, 600))));
        }
    }
}
