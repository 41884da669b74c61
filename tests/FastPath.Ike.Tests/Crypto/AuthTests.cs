using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FastPath.Ike.Crypto;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Crypto;

public class AuthTests
{
    private static readonly byte[] Octets = RandomNumberGenerator.GetBytes(300);

    // RFC 7427 Appendix A encodings.
    [Theory]
    [InlineData(SignatureScheme.RsaPkcs1Sha256, "300d06092a864886f70d01010b0500")]
    [InlineData(SignatureScheme.RsaPkcs1Sha384, "300d06092a864886f70d01010c0500")]
    [InlineData(SignatureScheme.RsaPkcs1Sha512, "300d06092a864886f70d01010d0500")]
    [InlineData(SignatureScheme.EcdsaSha256, "300a06082a8648ce3d040302")]
    [InlineData(SignatureScheme.EcdsaSha384, "300a06082a8648ce3d040303")]
    [InlineData(SignatureScheme.EcdsaSha512, "300a06082a8648ce3d040304")]
    [InlineData(SignatureScheme.Ed25519, "300506032b6570")]
    // RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (RFC 7427 A.4.3 form).
    [InlineData(SignatureScheme.RsaPssSha256,
        "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120")]
    public void AlgorithmIdentifiersAreTheRfc7427Blobs(SignatureScheme scheme, string der)
    {
        Assert.Equal(der, S(IkeAuth.AlgorithmIdentifier(scheme)));
        Assert.True(IkeAuth.TryParseAlgorithmIdentifier(B(der), out var parsed));
        Assert.Equal(scheme, parsed);
    }

    [Fact]
    public void UnknownAlgorithmIdentifiersAreRefused()
    {
        Assert.False(IkeAuth.TryParseAlgorithmIdentifier(B("300d06092a864886f70d0101050500"), out _)); // sha1WithRSA
        Assert.False(IkeAuth.TryParseAlgorithmIdentifier(B("3005"), out _));
        Assert.False(IkeAuth.TryParseAlgorithmIdentifier([], out _));
    }

    [Theory]
    [InlineData(SignatureScheme.RsaPkcs1Sha256)]
    [InlineData(SignatureScheme.RsaPkcs1Sha384)]
    [InlineData(SignatureScheme.RsaPkcs1Sha512)]
    [InlineData(SignatureScheme.RsaPssSha256)]
    [InlineData(SignatureScheme.RsaPssSha384)]
    [InlineData(SignatureScheme.RsaPssSha512)]
    [InlineData(SignatureScheme.EcdsaSha256)]
    [InlineData(SignatureScheme.EcdsaSha384)]
    [InlineData(SignatureScheme.EcdsaSha512)]
    [InlineData(SignatureScheme.Ed25519)]
    public void DigitalSignatureSignsVerifiesAndRejectsTampering(SignatureScheme scheme)
    {
        using var key = KeyFor(scheme);
        using var pub = key.PublicKey;
        byte[] auth = IkeAuth.SignDigitalSignature(key, scheme, Octets);
        Assert.Equal(IkeAuth.AlgorithmIdentifier(scheme).Length, auth[0]);
        Assert.True(IkeAuth.VerifyDigitalSignature(pub, auth, Octets, out var err), err);
        byte[] other = (byte[])Octets.Clone();
        other[7] ^= 1;
        Assert.False(IkeAuth.VerifyDigitalSignature(pub, auth, other, out err));
        auth[^1] ^= 1;
        Assert.False(IkeAuth.VerifyDigitalSignature(pub, auth, Octets, out _));
        Assert.False(IkeAuth.VerifyDigitalSignature(pub, auth.AsSpan(0, 3), Octets, out err));
        Assert.False(IkeAuth.VerifyDigitalSignature(pub, [], Octets, out _));
    }

    [Fact]
    public void SignatureWithAnotherKeyTypeIsRejected()
    {
        using var rsa = IkePrivateKey.FromRsa(RSA.Create(2048));
        using var ec = IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        byte[] auth = IkeAuth.SignDigitalSignature(ec, SignatureScheme.EcdsaSha256, Octets);
        Assert.False(IkeAuth.VerifyDigitalSignature(rsa.PublicKey, auth, Octets, out var err));
        Assert.Contains("not ECDSA", err);
    }

    [Theory]
    [InlineData(AuthMethod.RsaSignature)]
    [InlineData(AuthMethod.EcdsaSha256P256)]
    [InlineData(AuthMethod.EcdsaSha384P384)]
    [InlineData(AuthMethod.EcdsaSha512P521)]
    public void ClassicMethods(AuthMethod method)
    {
        using var key = method switch
        {
            AuthMethod.RsaSignature => IkePrivateKey.FromRsa(RSA.Create(2048)),
            AuthMethod.EcdsaSha256P256 => IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP256)),
            AuthMethod.EcdsaSha384P384 => IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP384)),
            _ => IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP521)),
        };
        byte[] auth = IkeAuth.SignClassic(key, method, Octets);
        if (method == AuthMethod.EcdsaSha256P256) Assert.Equal(64, auth.Length); // r | s (RFC 4754 §7)
        if (method == AuthMethod.EcdsaSha512P521) Assert.Equal(132, auth.Length);
        Assert.True(IkeAuth.VerifyClassic(key.PublicKey, method, auth, Octets, out var err), err);
        auth[5] ^= 1;
        Assert.False(IkeAuth.VerifyClassic(key.PublicKey, method, auth, Octets, out _));
    }

    [Fact]
    public void ClassicEcdsaPinsTheCurve()
    {
        using var p384 = IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP384));
        byte[] auth = IkeAuth.SignClassic(p384, AuthMethod.EcdsaSha384P384, Octets);
        Assert.False(IkeAuth.VerifyClassic(p384.PublicKey, AuthMethod.EcdsaSha256P256, auth, Octets, out var err));
        Assert.Contains("P-256", err);
    }

    [Fact]
    public void RawPublicKeysRoundTripThroughSubjectPublicKeyInfo()
    {
        using var ed = IkePrivateKey.GenerateEd25519();
        byte[] auth = IkeAuth.SignDigitalSignature(ed, SignatureScheme.Ed25519, Octets);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ecKey = IkePrivateKey.FromEcdsa(ecdsa);
        byte[] spki = ecdsa.ExportSubjectPublicKeyInfo();
        using var fromSpki = IkePublicKey.FromSubjectPublicKeyInfo(spki);
        byte[] ecAuth = IkeAuth.SignDigitalSignature(ecKey, SignatureScheme.EcdsaSha256, Octets);
        Assert.True(IkeAuth.VerifyDigitalSignature(fromSpki, ecAuth, Octets, out _));
        Assert.True(IkeAuth.VerifyDigitalSignature(ed.PublicKey, auth, Octets, out _));
        Assert.Throws<CryptographicException>(() => IkePublicKey.FromSubjectPublicKeyInfo([0x30, 0x03, 0x02, 0x01, 0x00]));
    }

    // RFC 8032 §7.1 test 1 through our Ed25519 path (empty message).
    [Fact]
    public void Ed25519Rfc8032Test1()
    {
        using var k = IkePrivateKey.FromEd25519Seed(B("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        byte[] auth = IkeAuth.SignDigitalSignature(k, SignatureScheme.Ed25519, []);
        Assert.Equal("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            S(auth.AsSpan(1 + auth[0])));
    }

    [Fact]
    public void CertificateChainToAnExplicitlyTrustedCa()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caReq = new CertificateRequest("CN=FastPath Test CA", caKey, HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caReq.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var eeKey = RSA.Create(2048);
        var eeReq = new CertificateRequest("CN=moon.example", eeKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var eePub = eeReq.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddDays(-1), now.AddDays(10), [1, 2, 3, 4]);
        using var ee = eePub.CopyWithPrivateKey(eeKey);

        Assert.True(CertificateValidator.Validate(eePub, [ca], null, DateTime.UtcNow, out var err), err);
        Assert.False(CertificateValidator.Validate(eePub, [ca], null, DateTime.UtcNow.AddDays(20), out err)); // expired
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherCa = new CertificateRequest("CN=FastPath Test CA", otherKey, HashAlgorithmName.SHA256).CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        Assert.False(CertificateValidator.Validate(eePub, [otherCa], null, DateTime.UtcNow, out err)); // same name, other key
        Assert.Contains("moon.example", err);

        // AUTH with the certificate's key, verified with the key taken from the certificate.
        using var signer = IkePrivateKey.FromRsa(ee.GetRSAPrivateKey()!);
        byte[] auth = IkeAuth.SignDigitalSignature(signer, SignatureScheme.RsaPssSha256, Octets);
        using var peer = IkePublicKey.FromCertificate(eePub);
        Assert.True(IkeAuth.VerifyDigitalSignature(peer, auth, Octets, out err), err);
    }

    [Fact]
    public void PskAuthIsPrfOfPrfOfKeyPad()
    {
        var prf = Prf.Create(PrfId.HmacSha2_256);
        byte[] secret = "secret"u8.ToArray();
        byte[] k = HMACSHA256.HashData(secret, "Key Pad for IKEv2"u8);
        Assert.Equal(S(HMACSHA256.HashData(k, Octets)), S(IkeAuth.PskAuth(prf, secret, Octets)));
        byte[] auth = IkeAuth.PskAuth(prf, secret, Octets);
        auth[31] ^= 1;
        Assert.False(IkeAuth.VerifyPskAuth(prf, secret, Octets, auth));
        Assert.False(IkeAuth.VerifyPskAuth(prf, secret, Octets, auth.AsSpan(0, 16)));
    }

    private static IkePrivateKey KeyFor(SignatureScheme s) => s switch
    {
        SignatureScheme.Ed25519 => IkePrivateKey.GenerateEd25519(),
        SignatureScheme.EcdsaSha256 => IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP256)),
        SignatureScheme.EcdsaSha384 => IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP384)),
        SignatureScheme.EcdsaSha512 => IkePrivateKey.FromEcdsa(ECDsa.Create(ECCurve.NamedCurves.nistP521)),
        _ => IkePrivateKey.FromRsa(RSA.Create(2048)),
    };
}
