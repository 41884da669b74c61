using System;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace FastPath.Ike.Crypto;

// The AUTH payload (RFC 7296 §2.15).
// Signed octets:
//   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI,  MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
//   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR,  MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
//   RestOfIDPayload = the ID payload body after the generic header: ID Type | 3 reserved | ID data.
// PSK (method 2): AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>), the pad
//   string is the 17 ASCII bytes without a terminator.
// Signatures: method 14 (RFC 7427 §3): AUTH data = ASN.1 length (1 octet) | AlgorithmIdentifier
//   (DER) | signature value (PKCS#1 v1.5 / PSS octets, DER Ecdsa-Sig-Value, 64-byte Ed25519).
//   Classic methods: 1 = RSASSA-PKCS1-v1_5 with SHA-1 (RFC 7296 §3.8); 9/10/11 = ECDSA
//   P-256/SHA-256, P-384/SHA-384, P-521/SHA-512 with r | s fixed-length (RFC 4754 §7).
// Ed25519 is PureEdDSA over the octets (RFC 8420). Comparisons of AUTH values are constant-time.

/// <summary>Signature algorithm inside an RFC 7427 Digital Signature AUTH.</summary>
public enum SignatureScheme
{
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    RsaPssSha256,
    RsaPssSha384,
    RsaPssSha512,
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    Ed25519,
}

/// <summary>PSK and signature AUTH computation and verification.</summary>
public static class IkeAuth
{
    private static readonly byte[] KeyPad = Encoding.ASCII.GetBytes("Key Pad for IKEv2");

    /// <summary>RealMessage | Nonce(peer) data | prf(SK_p, RestOfIDPayload) (RFC 7296 §2.15).
    /// For the initiator's AUTH: its IKE_SA_INIT request, Nr, SK_pi, its IDi body; for the responder's: its response, Ni, SK_pr, IDr body.</summary>
    public static byte[] SignedOctets(Prf prf, ReadOnlySpan<byte> realMessage, ReadOnlySpan<byte> peerNonce, ReadOnlySpan<byte> skP,
        ReadOnlySpan<byte> restOfIdPayload)
    {
        ArgumentNullException.ThrowIfNull(prf);
        byte[] maced = prf.Compute(skP, restOfIdPayload);
        return KeyDerivation.Concat(realMessage, peerNonce, maced);
    }

    /// <summary>AUTH = prf(prf(secret, "Key Pad for IKEv2"), octets) (RFC 7296 §2.15, method 2).</summary>
    public static byte[] PskAuth(Prf prf, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> signedOctets)
    {
        ArgumentNullException.ThrowIfNull(prf);
        byte[] k = prf.Compute(sharedSecret, KeyPad);
        try { return prf.Compute(k, signedOctets); }
        finally { CryptographicOperations.ZeroMemory(k); }
    }

    /// <summary>Constant-time check of a received PSK AUTH value.</summary>
    public static bool VerifyPskAuth(Prf prf, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> signedOctets, ReadOnlySpan<byte> received)
    {
        byte[] expected = PskAuth(prf, sharedSecret, signedOctets);
        return received.Length == expected.Length && CryptographicOperations.FixedTimeEquals(expected, received);
    }

    // ---- RFC 7427 AlgorithmIdentifier blobs ----

    private const string OidSha256Rsa = "1.2.840.113549.1.1.11", OidSha384Rsa = "1.2.840.113549.1.1.12", OidSha512Rsa = "1.2.840.113549.1.1.13";
    private const string OidRsaPss = "1.2.840.113549.1.1.10", OidMgf1 = "1.2.840.113549.1.1.8";
    private const string OidSha256 = "2.16.840.1.101.3.4.2.1", OidSha384 = "2.16.840.1.101.3.4.2.2", OidSha512 = "2.16.840.1.101.3.4.2.3";
    private const string OidEcdsaSha256 = "1.2.840.10045.4.3.2", OidEcdsaSha384 = "1.2.840.10045.4.3.3", OidEcdsaSha512 = "1.2.840.10045.4.3.4";
    private const string OidEd25519 = "1.3.101.112";

    /// <summary>DER AlgorithmIdentifier of <paramref name="scheme"/> as RFC 7427 Appendix A lists them
    /// (RSA PKCS#1 with NULL parameters, ECDSA and Ed25519 without, PSS with hash, MGF1(hash), salt = hash length).</summary>
    public static byte[] AlgorithmIdentifier(SignatureScheme scheme)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            switch (scheme)
            {
                case SignatureScheme.RsaPkcs1Sha256: w.WriteObjectIdentifier(OidSha256Rsa); w.WriteNull(); break;
                case SignatureScheme.RsaPkcs1Sha384: w.WriteObjectIdentifier(OidSha384Rsa); w.WriteNull(); break;
                case SignatureScheme.RsaPkcs1Sha512: w.WriteObjectIdentifier(OidSha512Rsa); w.WriteNull(); break;
                case SignatureScheme.EcdsaSha256: w.WriteObjectIdentifier(OidEcdsaSha256); break;
                case SignatureScheme.EcdsaSha384: w.WriteObjectIdentifier(OidEcdsaSha384); break;
                case SignatureScheme.EcdsaSha512: w.WriteObjectIdentifier(OidEcdsaSha512); break;
                case SignatureScheme.Ed25519: w.WriteObjectIdentifier(OidEd25519); break;
                default:
                    {
                        var (hashOid, saltLen) = scheme switch
                        {
                            SignatureScheme.RsaPssSha256 => (OidSha256, 32),
                            SignatureScheme.RsaPssSha384 => (OidSha384, 48),
                            _ => (OidSha512, 64),
                        };
                        w.WriteObjectIdentifier(OidRsaPss);
                        using (w.PushSequence()) // RSASSA-PSS-params (RFC 4055 §3.1)
                        {
                            using (w.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                            using (w.PushSequence()) { w.WriteObjectIdentifier(hashOid); w.WriteNull(); }
                            using (w.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1)))
                            using (w.PushSequence())
                            {
                                w.WriteObjectIdentifier(OidMgf1);
                                using (w.PushSequence()) { w.WriteObjectIdentifier(hashOid); w.WriteNull(); }
                            }
                            using (w.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2)))
                                w.WriteInteger(saltLen);
                        }
                        break;
                    }
            }
        }
        return w.Encode();
    }

    /// <summary>Parses an RFC 7427 AlgorithmIdentifier; false for anything FastPath does not verify.</summary>
    public static bool TryParseAlgorithmIdentifier(ReadOnlySpan<byte> der, out SignatureScheme scheme)
    {
        scheme = default;
        try
        {
            var r = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            var seq = r.ReadSequence();
            if (r.HasData) return false;
            string oid = seq.ReadObjectIdentifier();
            switch (oid)
            {
                case OidSha256Rsa: scheme = SignatureScheme.RsaPkcs1Sha256; return NullOrNothing(seq);
                case OidSha384Rsa: scheme = SignatureScheme.RsaPkcs1Sha384; return NullOrNothing(seq);
                case OidSha512Rsa: scheme = SignatureScheme.RsaPkcs1Sha512; return NullOrNothing(seq);
                case OidEcdsaSha256: scheme = SignatureScheme.EcdsaSha256; return !seq.HasData;
                case OidEcdsaSha384: scheme = SignatureScheme.EcdsaSha384; return !seq.HasData;
                case OidEcdsaSha512: scheme = SignatureScheme.EcdsaSha512; return !seq.HasData;
                case OidEd25519: scheme = SignatureScheme.Ed25519; return !seq.HasData;
                case OidRsaPss:
                    {
                        // Accept exactly the PSS forms we produce: hash H, MGF1 with H, salt = |H|, trailer 1.
                        byte[] mine;
                        foreach (var s in new[] { SignatureScheme.RsaPssSha256, SignatureScheme.RsaPssSha384, SignatureScheme.RsaPssSha512 })
                        {
                            mine = AlgorithmIdentifier(s);
                            if (der.SequenceEqual(mine)) { scheme = s; return true; }
                        }
                        return false;
                    }
                default: return false;
            }
        }
        catch (AsnContentException) { return false; }
    }

    private static bool NullOrNothing(AsnReader seq)
    {
        if (!seq.HasData) return true;
        seq.ReadNull();
        return !seq.HasData;
    }

    /// <summary>Builds the AUTH data of method 14: length | AlgorithmIdentifier | signature (RFC 7427 §3).</summary>
    public static byte[] SignDigitalSignature(IkePrivateKey key, SignatureScheme scheme, ReadOnlySpan<byte> signedOctets)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] algId = AlgorithmIdentifier(scheme);
        byte[] sig = key.Sign(scheme, signedOctets, ecdsaDer: true);
        byte[] r = new byte[1 + algId.Length + sig.Length];
        r[0] = (byte)algId.Length;
        algId.CopyTo(r, 1);
        sig.CopyTo(r, 1 + algId.Length);
        return r;
    }

    /// <summary>Verifies method-14 AUTH data; <paramref name="error"/> says why not. Never throws on bad input.</summary>
    public static bool VerifyDigitalSignature(IkePublicKey key, ReadOnlySpan<byte> authData, ReadOnlySpan<byte> signedOctets, out string error)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (authData.Length < 2 || authData[0] == 0 || 1 + authData[0] >= authData.Length)
        {
            error = "AUTH (digital signature): truncated ASN.1 AlgorithmIdentifier";
            return false;
        }
        if (!TryParseAlgorithmIdentifier(authData.Slice(1, authData[0]), out var scheme))
        {
            error = "AUTH (digital signature): unsupported or malformed signature AlgorithmIdentifier";
            return false;
        }
        return key.Verify(scheme, signedOctets, authData[(1 + authData[0])..], ecdsaDer: true, out error);
    }

    /// <summary>The AUTH data of a classic method (1 = RSA PKCS#1 SHA-1, 9/10/11 = ECDSA r|s).</summary>
    public static byte[] SignClassic(IkePrivateKey key, AuthMethod method, ReadOnlySpan<byte> signedOctets)
    {
        ArgumentNullException.ThrowIfNull(key);
        return method switch
        {
            AuthMethod.RsaSignature => key.SignRsaSha1(signedOctets),
            AuthMethod.EcdsaSha256P256 => key.Sign(SignatureScheme.EcdsaSha256, signedOctets, ecdsaDer: false),
            AuthMethod.EcdsaSha384P384 => key.Sign(SignatureScheme.EcdsaSha384, signedOctets, ecdsaDer: false),
            AuthMethod.EcdsaSha512P521 => key.Sign(SignatureScheme.EcdsaSha512, signedOctets, ecdsaDer: false),
            _ => throw new NotSupportedException($"AUTH method {IkeIana.Name(method)} is not a classic signature method"),
        };
    }

    /// <summary>Verifies classic-method AUTH data; the ECDSA methods also pin the curve (RFC 4754 §3).</summary>
    public static bool VerifyClassic(IkePublicKey key, AuthMethod method, ReadOnlySpan<byte> authData, ReadOnlySpan<byte> signedOctets, out string error)
    {
        ArgumentNullException.ThrowIfNull(key);
        switch (method)
        {
            case AuthMethod.RsaSignature:
                return key.VerifyRsaSha1(signedOctets, authData, out error);
            case AuthMethod.EcdsaSha256P256 or AuthMethod.EcdsaSha384P384 or AuthMethod.EcdsaSha512P521:
                int bits = method switch { AuthMethod.EcdsaSha256P256 => 256, AuthMethod.EcdsaSha384P384 => 384, _ => 521 };
                if (key.EcdsaKeyBits != bits)
                {
                    error = $"AUTH method {IkeIana.Name(method)} needs a P-{bits} key";
                    return false;
                }
                var scheme = method switch
                {
                    AuthMethod.EcdsaSha256P256 => SignatureScheme.EcdsaSha256,
                    AuthMethod.EcdsaSha384P384 => SignatureScheme.EcdsaSha384,
                    _ => SignatureScheme.EcdsaSha512,
                };
                return key.Verify(scheme, signedOctets, authData, ecdsaDer: false, out error);
            default:
                error = $"AUTH method {IkeIana.Name(method)} is not a classic signature method";
                return false;
        }
    }
}

/// <summary>A private key for AUTH: RSA, ECDSA (P-256/384/521) or Ed25519.</summary>
public sealed class IkePrivateKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ecdsa;
    private readonly byte[]? _ed25519;

    private IkePrivateKey(RSA? rsa, ECDsa? ecdsa, byte[]? ed25519)
    {
        _rsa = rsa; _ecdsa = ecdsa; _ed25519 = ed25519;
    }

    public static IkePrivateKey FromRsa(RSA rsa) => new(rsa ?? throw new ArgumentNullException(nameof(rsa)), null, null);

    public static IkePrivateKey FromEcdsa(ECDsa ecdsa) => new(null, ecdsa ?? throw new ArgumentNullException(nameof(ecdsa)), null);

    /// <summary>Ed25519 from its 32-byte seed (RFC 8032 §5.1.5 private key).</summary>
    public static IkePrivateKey FromEd25519Seed(ReadOnlySpan<byte> seed) =>
        seed.Length == Ed25519.SecretKeySize ? new(null, null, seed.ToArray()) : throw new ArgumentException("Ed25519 seed is 32 bytes", nameof(seed));

    /// <summary>A fresh Ed25519 key.</summary>
    public static IkePrivateKey GenerateEd25519() => FromEd25519Seed(RandomNumberGenerator.GetBytes(Ed25519.SecretKeySize));

    /// <summary>The public half (for raw public key tests and as what a peer would load).</summary>
    public IkePublicKey PublicKey
    {
        get
        {
            if (_rsa is not null) return IkePublicKey.FromSubjectPublicKeyInfo(_rsa.ExportSubjectPublicKeyInfo());
            if (_ecdsa is not null) return IkePublicKey.FromSubjectPublicKeyInfo(_ecdsa.ExportSubjectPublicKeyInfo());
            byte[] pk = new byte[Ed25519.PublicKeySize];
            Ed25519.GeneratePublicKey(_ed25519, 0, pk, 0);
            return IkePublicKey.FromEd25519(pk);
        }
    }

    internal byte[] Sign(SignatureScheme scheme, ReadOnlySpan<byte> data, bool ecdsaDer)
    {
        switch (scheme)
        {
            case SignatureScheme.Ed25519:
                {
                    if (_ed25519 is null) throw new InvalidOperationException("not an Ed25519 key");
                    byte[] sig = new byte[Ed25519.SignatureSize];
                    byte[] m = data.ToArray();
                    Ed25519.Sign(_ed25519, 0, m, 0, m.Length, sig, 0);
                    return sig;
                }
            case SignatureScheme.EcdsaSha256 or SignatureScheme.EcdsaSha384 or SignatureScheme.EcdsaSha512:
                if (_ecdsa is null) throw new InvalidOperationException("not an ECDSA key");
                return _ecdsa.SignData(data, HashOf(scheme), ecdsaDer ? DSASignatureFormat.Rfc3279DerSequence : DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            default:
                if (_rsa is null) throw new InvalidOperationException("not an RSA key");
                return _rsa.SignData(data.ToArray(), HashOf(scheme), IsPss(scheme) ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
        }
    }

    internal byte[] SignRsaSha1(ReadOnlySpan<byte> data) =>
        (_rsa ?? throw new InvalidOperationException("AUTH method 1 needs an RSA key")).SignData(data.ToArray(), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);

    internal static HashAlgorithmName HashOf(SignatureScheme s) => s switch
    {
        SignatureScheme.RsaPkcs1Sha256 or SignatureScheme.RsaPssSha256 or SignatureScheme.EcdsaSha256 => HashAlgorithmName.SHA256,
        SignatureScheme.RsaPkcs1Sha384 or SignatureScheme.RsaPssSha384 or SignatureScheme.EcdsaSha384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    internal static bool IsPss(SignatureScheme s) => s is SignatureScheme.RsaPssSha256 or SignatureScheme.RsaPssSha384 or SignatureScheme.RsaPssSha512;

    public void Dispose()
    {
        _rsa?.Dispose();
        _ecdsa?.Dispose();
        if (_ed25519 is not null) CryptographicOperations.ZeroMemory(_ed25519);
    }
}

/// <summary>A peer's public key for AUTH verification: from a raw SubjectPublicKeyInfo (RFC 7670) or an X.509 certificate.</summary>
public sealed class IkePublicKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ecdsa;
    private readonly byte[]? _ed25519;

    private IkePublicKey(RSA? rsa, ECDsa? ecdsa, byte[]? ed25519)
    {
        _rsa = rsa; _ecdsa = ecdsa; _ed25519 = ed25519;
    }

    /// <summary>Key size of an ECDSA key in bits (0 for other key types).</summary>
    public int EcdsaKeyBits => _ecdsa?.KeySize ?? 0;

    public static IkePublicKey FromEd25519(ReadOnlySpan<byte> publicKey) =>
        publicKey.Length == Ed25519.PublicKeySize ? new(null, null, publicKey.ToArray()) : throw new ArgumentException("Ed25519 public key is 32 bytes", nameof(publicKey));

    /// <summary>From a DER SubjectPublicKeyInfo (the raw public key of RFC 7670, CERT encoding 15): RSA, EC or Ed25519.</summary>
    public static IkePublicKey FromSubjectPublicKeyInfo(ReadOnlySpan<byte> spki)
    {
        try
        {
            var r = new AsnReader(spki.ToArray(), AsnEncodingRules.DER);
            var seq = r.ReadSequence();
            var alg = seq.ReadSequence();
            string oid = alg.ReadObjectIdentifier();
            if (oid == "1.3.101.112")
            {
                byte[] key = seq.ReadBitString(out int unused);
                if (unused != 0) throw new CryptographicException("Ed25519 key bit string");
                return FromEd25519(key);
            }
            if (oid == "1.2.840.113549.1.1.1")
            {
                var rsa = RSA.Create();
                rsa.ImportSubjectPublicKeyInfo(spki, out _);
                return new IkePublicKey(rsa, null, null);
            }
            if (oid == "1.2.840.10045.2.1")
            {
                var ec = ECDsa.Create();
                ec.ImportSubjectPublicKeyInfo(spki, out _);
                return new IkePublicKey(null, ec, null);
            }
            throw new CryptographicException($"unsupported public key algorithm {oid}");
        }
        catch (AsnContentException e)
        {
            throw new CryptographicException("malformed SubjectPublicKeyInfo", e);
        }
    }

    /// <summary>The public key of <paramref name="certificate"/> (check it with <see cref="CertificateValidator"/> first).</summary>
    public static IkePublicKey FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return FromSubjectPublicKeyInfo(certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    internal bool Verify(SignatureScheme scheme, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, bool ecdsaDer, out string error)
    {
        bool ok;
        try
        {
            switch (scheme)
            {
                case SignatureScheme.Ed25519:
                    if (_ed25519 is null) { error = "AUTH: Ed25519 signature but the peer key is not Ed25519"; return false; }
                    if (signature.Length != Ed25519.SignatureSize) { error = "AUTH: Ed25519 signature is not 64 bytes"; return false; }
                    byte[] m = data.ToArray();
                    ok = Ed25519.Verify(signature.ToArray(), 0, _ed25519, 0, m, 0, m.Length);
                    break;
                case SignatureScheme.EcdsaSha256 or SignatureScheme.EcdsaSha384 or SignatureScheme.EcdsaSha512:
                    if (_ecdsa is null) { error = "AUTH: ECDSA signature but the peer key is not ECDSA"; return false; }
                    ok = _ecdsa.VerifyData(data, signature, IkePrivateKey.HashOf(scheme),
                        ecdsaDer ? DSASignatureFormat.Rfc3279DerSequence : DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                    break;
                default:
                    if (_rsa is null) { error = "AUTH: RSA signature but the peer key is not RSA"; return false; }
                    ok = _rsa.VerifyData(data, signature, IkePrivateKey.HashOf(scheme),
                        IkePrivateKey.IsPss(scheme) ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
                    break;
            }
        }
        catch (CryptographicException e)
        {
            error = "AUTH: signature check failed: " + e.Message;
            return false;
        }
        error = ok ? "" : $"AUTH: {scheme} signature does not verify";
        return ok;
    }

    internal bool VerifyRsaSha1(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, out string error)
    {
        if (_rsa is null) { error = "AUTH method 1 needs an RSA peer key"; return false; }
        try
        {
            bool ok = _rsa.VerifyData(data, signature, HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);
            error = ok ? "" : "AUTH: RSA (method 1) signature does not verify";
            return ok;
        }
        catch (CryptographicException e)
        {
            error = "AUTH: signature check failed: " + e.Message;
            return false;
        }
    }

    public void Dispose()
    {
        _rsa?.Dispose();
        _ecdsa?.Dispose();
    }
}

/// <summary>Checks a peer's certificate chain against CAs trusted explicitly (never the system store).</summary>
public static class CertificateValidator
{
    /// <summary>True when <paramref name="endEntity"/> chains to one of <paramref name="trustedCas"/> through
    /// <paramref name="intermediates"/> (the peer's other CERT payloads) and is valid at <paramref name="at"/>; no revocation check.</summary>
    public static bool Validate(X509Certificate2 endEntity, X509Certificate2Collection trustedCas, X509Certificate2Collection? intermediates,
        DateTime at, out string error)
    {
        ArgumentNullException.ThrowIfNull(endEntity);
        ArgumentNullException.ThrowIfNull(trustedCas);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedCas);
        if (intermediates is not null) chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        bool ok = chain.Build(endEntity);
        if (ok)
        {
            error = "";
            return true;
        }
        var sb = new StringBuilder("certificate '").Append(endEntity.Subject).Append("' does not verify:");
        foreach (var s in chain.ChainStatus) sb.Append(' ').Append(s.Status).Append(" (").Append(s.StatusInformation.Trim()).Append(')');
        error = sb.ToString();
        return false;
    }
}
